"""The facts eligibility rules read, built in bulk for any set of organizations (a few queries, not one per firm).

Facts come from the directory (kind, region, layer, membership) and the professional database: the latest
financial statement, granted IP, valid certifications and credit rating, and chain positions. A fact the firm has
not declared is absent, and a rule's clause on it fails with "—" as the firm's value.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils import timezone

from agglo.profiles.models import CreditRating, FinancialStatement, IPAsset, OrganizationCapability
from agglo.registry.models import Organization, Position


def facts_for(organization_ids: Iterable[int], *, today: dt.date | None = None) -> dict[int, dict[str, Any]]:
    """{organization id: {fact name: value}} for the given organizations."""
    ids = list(organization_ids)
    today = today or timezone.localdate()
    out: dict[int, dict[str, Any]] = {}
    rows = Organization.objects.filter(pk__in=ids).values_list(
        "pk", "kind", "region_id", "area_id", "layer", "founded_year", "headcount", "joined_at"
    )
    for pk, kind, region, area, layer, founded, headcount, joined in rows:
        facts: dict[str, Any] = {"kind": kind, "region": region, "province": area, "layer": layer}
        facts["tech_sme"] = kind == "tech_sme"
        if founded:
            facts["founded_year"] = founded
        if headcount is not None:
            facts["headcount"] = headcount
        if joined:
            facts["membership_years"] = Decimal(max(0, (today - timezone.localdate(joined)).days)) / Decimal(365)
        out[pk] = facts
    _statements(out, ids)
    _ip(out, ids)
    _certifications(out, ids, today)
    _ratings(out, ids, today)
    segments: dict[int, set[str]] = defaultdict(set)
    for org, code in Position.objects.filter(organization_id__in=ids).values_list("organization_id", "segment__code"):
        segments[org].add(code)
    for org, codes in segments.items():
        out[org]["segments"] = sorted(codes)
    return out


def _statements(out: dict[int, dict[str, Any]], ids: list[int]) -> None:
    latest: dict[int, tuple[Any, ...]] = {}
    rows = FinancialStatement.objects.filter(organization_id__in=ids).values_list(
        "organization_id", "year", "revenue", "total_assets", "rd_expense", "headcount", "rd_headcount"
    )
    for row in rows:
        if row[0] not in latest or row[1] > latest[row[0]][1]:
            latest[row[0]] = row
    for org, (_, _year, revenue, assets, rd, headcount, rd_headcount) in latest.items():
        facts = out[org]
        facts["revenue"], facts["total_assets"] = revenue, assets
        if rd is not None and revenue:
            facts["rd_intensity"] = rd / revenue
        if headcount:
            facts["headcount"] = headcount
            if rd_headcount is not None:
                facts["rd_staff_share"] = Decimal(rd_headcount) / Decimal(headcount)


def _ip(out: dict[int, dict[str, Any]], ids: list[int]) -> None:
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"ip_invention": 0, "ip_total": 0})
    granted = IPAsset.objects.filter(organization_id__in=ids, status=IPAsset.Status.GRANTED).exclude(
        kind=IPAsset.Kind.TRADEMARK
    )
    for org, kind in granted.values_list("organization_id", "kind"):
        counts[org]["ip_total"] += 1
        counts[org]["ip_invention"] += kind == IPAsset.Kind.INVENTION_PATENT
    for org, values in counts.items():
        out[org].update(values)
    for facts in out.values():
        facts.setdefault("ip_invention", 0)
        facts.setdefault("ip_total", 0)


def _certifications(out: dict[int, dict[str, Any]], ids: list[int], today: dt.date) -> None:
    held: dict[int, set[str]] = defaultdict(set)
    rows = OrganizationCapability.objects.filter(
        organization_id__in=ids, valid_until__gte=today, term__kind="certification"
    ).values_list("organization_id", "term__code")
    for org, code in rows:
        held[org].add(code)
    for org in out:
        out[org]["certifications"] = sorted(held.get(org, ()))


def _ratings(out: dict[int, dict[str, Any]], ids: list[int], today: dt.date) -> None:
    rows = (
        CreditRating.objects.filter(organization_id__in=ids, valid_until__gte=today)
        .order_by("organization_id", "-as_of")
        .values_list("organization_id", "grade")
    )
    for org, grade in rows:
        out[org].setdefault("credit_grade", grade)
