"""The controlled catalogue of capabilities and certifications, shipped as data/capabilities.json."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from agglo.profiles.models import CapabilityTerm

CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "capabilities.json"


@transaction.atomic
def catalogue_load(path: Path = CATALOGUE) -> int:
    """Insert or update catalogue terms by code; terms are never deleted (facts refer to them). Idempotent."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    existing = {t.code: t for t in CapabilityTerm.objects.all()}
    for entry in entries:
        fields = {k: entry.get(k, "") for k in ("kind", "name_zh", "name_en", "synonyms")}
        term = existing.get(entry["code"])
        if term is None:
            CapabilityTerm.objects.create(code=entry["code"], **fields)
        elif any(getattr(term, k) != v for k, v in fields.items()):
            CapabilityTerm.objects.filter(pk=term.pk).update(**fields)
    return len(entries)
