"""The controlled catalogue of capabilities and certifications, shipped as data/capabilities.json."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from agglo.common.upsert import upsert
from agglo.profiles.models import CapabilityTerm

CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "capabilities.json"


@transaction.atomic
def catalogue_load(path: Path = CATALOGUE) -> int:
    """Insert or update catalogue terms by code; terms are never deleted (facts refer to them). Idempotent."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    upsert(
        CapabilityTerm,
        "code",
        {e["code"]: {k: e.get(k, "") for k in ("kind", "name_zh", "name_en", "synonyms")} for e in entries},
    )
    return len(entries)
