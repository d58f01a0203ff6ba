"""Reference data shipped with the platform: regions (GB/T 2260, ISO 3166-1) and industry chains."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.upsert import upsert
from agglo.registry.chains import topological_order, would_create_cycle
from agglo.registry.models import Chain, Region, Segment, SegmentLink

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@transaction.atomic
def _named_apart(regions: dict[str, dict[str, Any]]) -> None:
    """Cities whose English name another Chinese region has too (泰州 and 台州 are both Taizhou; Jilin is a province
    and a city) take their province's name after it, "Taizhou, Jiangsu", so that an English reader can tell them
    apart (review 56b); the Chinese names differ and stay."""
    chinese = [r for r in regions.values() if r["country_code"] == "CN" and r["level"] != "country"]
    seen = Counter(r["name_en"] for r in chinese)
    for r in chinese:
        if r["level"] == "prefecture" and seen[r["name_en"]] > 1:
            r["name_en"] = f"{r['name_en']}, {regions[r['parent_id']]['name_en']}"


def reference_data_load() -> dict[str, int]:
    """Insert or update regions and chains from the shipped files; idempotent. Returns row counts."""
    chains = json.loads((DATA_DIR / "chains.json").read_text(encoding="utf-8"))
    for spec in chains:
        # a cyclic file, or a link naming no segment, is refused before anything is written
        topological_order([s["code"] for s in spec["segments"]], [tuple(link) for link in spec["links"]])
    countries = _rows("countries.csv")
    cn_rows = _rows("regions_cn.csv")
    regions = {
        row["alpha2"]: {
            "name_zh": row["name_zh"],
            "name_en": row["name_en"],
            "level": "country",
            "parent_id": None,
            "country_code": row["alpha2"],
        }
        for row in countries
    }
    for row in sorted(cn_rows, key=lambda r: (r["level"] != "province", r["code"])):
        regions[row["code"]] = {
            "name_zh": row["name_zh"],
            "name_en": row["name_en"],
            "level": row["level"],
            "parent_id": row["parent_code"] or "CN",
            "country_code": "CN",
        }
    _named_apart(regions)
    upsert(Region, "code", regions)  # parents come first; the foreign keys are checked at commit anyway
    for spec in chains:
        Chain.objects.update_or_create(  # a handful, and update_or_create keeps `updated_at` true
            code=spec["code"],
            defaults={k: spec.get(k, "") for k in ("name_zh", "name_en", "description_zh", "description_en")},
        )
    chain_ids = dict(Chain.objects.filter(code__in=[c["code"] for c in chains]).values_list("code", "pk"))
    upsert(
        Segment,
        "code",
        {
            seg["code"]: {
                "chain_id": chain_ids[spec["code"]],
                "name_zh": seg["name_zh"],
                "name_en": seg["name_en"],
                "stage": seg["stage"],
                "order": seg.get("order", 0),
            }
            for spec in chains
            for seg in spec["segments"]
        },
    )
    segment_ids = dict(Segment.objects.values_list("code", "pk"))
    have = set(SegmentLink.objects.values_list("upstream_id", "downstream_id"))
    wanted = {(segment_ids[up], segment_ids[down]) for spec in chains for up, down in spec["links"]}
    SegmentLink.objects.bulk_create(
        [SegmentLink(upstream_id=up, downstream_id=down) for up, down in sorted(wanted - have)]
    )
    return {
        "countries": len(countries),
        "cn_regions": len(cn_rows),
        "chains": len(chains),
        "segments": sum(len(spec["segments"]) for spec in chains),
        "links": sum(len(spec["links"]) for spec in chains),
    }


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
