"""Reference data shipped with the platform: regions (GB/T 2260, ISO 3166-1) and industry chains."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.registry.chains import topological_order, would_create_cycle
from agglo.registry.models import Chain, Region, Segment, SegmentLink

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@transaction.atomic
def reference_data_load() -> dict[str, int]:
    """Insert or update regions and chains from the shipped files; idempotent. Returns row counts."""
    countries = _rows("countries.csv")
    for row in countries:
        Region.objects.update_or_create(
            code=row["alpha2"],
            defaults={
                "name_zh": row["name_zh"],
                "name_en": row["name_en"],
                "level": "country",
                "parent": None,
                "country_code": row["alpha2"],
            },
        )
    cn_rows = _rows("regions_cn.csv")
    for row in sorted(cn_rows, key=lambda r: (r["level"] != "province", r["code"])):
        Region.objects.update_or_create(
            code=row["code"],
            defaults={
                "name_zh": row["name_zh"],
                "name_en": row["name_en"],
                "level": row["level"],
                "parent_id": row["parent_code"] or "CN",
                "country_code": "CN",
            },
        )
    chains = json.loads((DATA_DIR / "chains.json").read_text(encoding="utf-8"))
    n_segments = n_links = 0
    for spec in chains:
        _load_chain(spec)
        n_segments += len(spec["segments"])
        n_links += len(spec["links"])
    return {
        "countries": len(countries),
        "cn_regions": len(cn_rows),
        "chains": len(chains),
        "segments": n_segments,
        "links": n_links,
    }


def _load_chain(spec: dict[str, Any]) -> None:
    codes = [s["code"] for s in spec["segments"]]
    topological_order(codes, [tuple(link) for link in spec["links"]])  # refuses a cyclic file
    chain, _ = Chain.objects.update_or_create(
        code=spec["code"],
        defaults={k: spec.get(k, "") for k in ("name_zh", "name_en", "description_zh", "description_en")},
    )
    by_code = {}
    for seg in spec["segments"]:
        by_code[seg["code"]], _ = Segment.objects.update_or_create(
            code=seg["code"],
            defaults={
                "chain": chain,
                "name_zh": seg["name_zh"],
                "name_en": seg["name_en"],
                "stage": seg["stage"],
                "order": seg.get("order", 0),
            },
        )
    for up, down in spec["links"]:
        SegmentLink.objects.get_or_create(upstream=by_code[up], downstream=by_code[down])


@transaction.atomic
def chain_link_add(*, actor: Any, upstream: Segment, downstream: Segment) -> SegmentLink:
    """Link two segments of one chain upstream → downstream, refusing a link that would close a cycle."""
    if not policy.can_manage_reference_data(actor):
        raise Forbidden(_("Only operators may change industry chains."))
    if upstream.chain_id != downstream.chain_id:
        raise ValidationFailed({"downstream": [_("Both segments must belong to the same chain.")]})
    links = SegmentLink.objects.filter(upstream__chain_id=upstream.chain_id).values_list(
        "upstream__code", "downstream__code"
    )
    if would_create_cycle(list(links), (upstream.code, downstream.code)):
        raise ValidationFailed(
            {
                "downstream": [
                    _("%(down)s is already upstream of %(up)s; the chain must stay acyclic.")
                    % {"down": downstream.code, "up": upstream.code}
                ]
            }
        )
    link, _created = SegmentLink.objects.get_or_create(upstream=upstream, downstream=downstream)
    record(
        "registry.chain_link_added",
        actor=actor,
        subject=link,
        payload={"upstream": upstream.code, "downstream": downstream.code},
    )
    return link
