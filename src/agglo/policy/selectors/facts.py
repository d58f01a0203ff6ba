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

from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from agglo.policy.facts import FACTS
from agglo.policy.models import OrganizationFacts
from agglo.policy.screen_sql import cell_list, list_cell
from agglo.profiles.models import CreditRating, FinancialStatement, IPAsset, OrganizationCapability
from agglo.profiles.models.credit import checked_ratings
from agglo.registry.models import Organization, Position

Facts = dict[int, dict[str, Any]]
# Marks facts whose headcount is the latest statement's, not the registry's (see OrganizationFacts).
HEADCOUNT_STATED = "_headcount_stated"
# Ratios and years are rounded as OrganizationFacts keeps them, so that live and kept facts agree.
RATIO = Decimal("1e-12")
YEARS = Decimal("1e-6")


def facts_for(organizations: Iterable[int] | QuerySet[Organization], *, today: dt.date | None = None) -> Facts:
    """{organization id: {fact name: value}} for the given organization ids, or for every organization of a
    queryset (then the related rows are found by subquery: a list of 100,000 ids costs more to bind than to read)."""
    scope: Any = organizations if isinstance(organizations, QuerySet) else list(organizations)
    if isinstance(scope, QuerySet):
        scope = scope.values("pk")
    today = today or timezone.localdate()
    now = timezone.now()
    out: Facts = {}
    rows = Organization.objects.filter(pk__in=scope).values_list(
        "pk", "kind", "region_id", "area_id", "layer", "founded_year", "headcount", "joined_at"
    )
    year = Decimal(365)
    for pk, kind, region, area, layer, founded, headcount, joined in rows.iterator(chunk_size=5000):
        facts: dict[str, Any] = {"kind": kind, "region": region, "province": area, "layer": layer}
        # a 科技型中小企业 is a resident enterprise registered in China (国科发政〔2017〕115号 第六条), not a
        # firm abroad that called itself a tech SME on admission (policy review 58 H5); Chinese regions have
        # numeric codes
        facts["tech_sme"] = kind == "tech_sme" and str(region).isdigit()
        facts["ip_invention"] = facts["ip_total"] = 0
        facts["certifications"] = facts["segments"] = ()
        if founded:
            facts["founded_year"] = founded
        if headcount is not None:
            facts["headcount"] = headcount
        if joined:
            facts["membership_years"] = (Decimal(max(0, (now - joined).days)) / year).quantize(YEARS)
        out[pk] = facts
    _statements(out, scope, today)
    _ip(out, scope)
    _listed(out, "certifications", _certifications(scope, today))
    _listed(
        out,
        "segments",
        Position.objects.filter(organization_id__in=scope).values_list("organization_id", "segment__code"),
    )
    _ratings(out, scope, today)
    return out


def stored_facts(rows: QuerySet[OrganizationFacts], only: Iterable[str] = ()) -> Facts:
    """The kept facts of the given rows (see OrganizationFacts), all or `only` those named, shaped as facts_for
    shapes them, except that
    amounts may come as floats from SQLite: rules read numbers through Decimal(str(value)), which gives back the
    decimals kept (at most 15 significant digits, which a float carries exactly)."""
    names = sorted(only) if only else list(FACTS)
    lists = {i for i, name in enumerate(names) if FACTS[name].type == "list"}
    sql, params = rows.values_list("organization_id", *names).query.sql_with_params()
    out: Facts = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(5000):
            for org, *values in batch:
                facts: dict[str, Any] = {}
                for i, value in enumerate(values):
                    if i in lists:
                        facts[names[i]] = cell_list(value)
                    elif value is not None:
                        facts[names[i]] = value
                out[org] = facts
    return out


def kept_row(facts: dict[str, Any]) -> list[Any]:
    """The OrganizationFacts values (in FACTS order) for facts as facts_for gives them."""
    return [
        list_cell(facts.get(name) or ()) if fact.type == "list" else facts.get(name) for name, fact in FACTS.items()
    ]


def _listed(out: Facts, name: str, pairs: Iterable[tuple[int, str]]) -> None:
    held: dict[int, set[str]] = defaultdict(set)
    for org, code in pairs:
        held[org].add(code)
    for org, codes in held.items():
        if org in out:
            out[org][name] = tuple(sorted(codes))


def _statements(out: Facts, scope: Any, today: dt.date) -> None:
    """The latest ended year's statement of each organization (one entered for a year under way, before that was
    refused, decides nothing)."""
    latest = (
        FinancialStatement.objects.filter(organization_id=OuterRef("organization_id"), year__lt=today.year)
        .order_by("-year")
        .values("year")[:1]
    )
    rows = FinancialStatement.objects.filter(organization_id__in=scope, year=Subquery(latest)).values_list(
        "organization_id", "revenue", "total_assets", "rd_expense", "headcount", "rd_headcount"
    )
    for org, revenue, assets, rd, headcount, rd_headcount in rows.iterator(chunk_size=5000):
        facts = out.get(org)
        if facts is None:
            continue
        facts["revenue"], facts["total_assets"] = revenue, assets
        if rd is not None and revenue:
            facts["rd_intensity"] = (rd / revenue).quantize(RATIO)
        if headcount:
            facts["headcount"] = headcount
            facts[HEADCOUNT_STATED] = True
            if rd_headcount is not None:
                facts["rd_staff_share"] = (Decimal(rd_headcount) / Decimal(headcount)).quantize(RATIO)


def _ip(out: Facts, scope: Any) -> None:
    """Granted patents, designs and software copyrights (trademarks are not technology)."""
    counts = (
        IPAsset.objects.filter(organization_id__in=scope, status=IPAsset.Status.GRANTED)
        .exclude(kind=IPAsset.Kind.TRADEMARK)
        .values("organization_id")
        .annotate(total=Count("pk"), invention=Count("pk", filter=Q(kind=IPAsset.Kind.INVENTION_PATENT)))
        .values_list("organization_id", "total", "invention")
    )
    for org, total, invention in counts:
        if org in out:
            out[org]["ip_total"], out[org]["ip_invention"] = total, invention


def _certifications(scope: Any, today: dt.date) -> Any:
    return OrganizationCapability.objects.filter(
        organization_id__in=scope, valid_until__gte=today, term__kind="certification"
    ).values_list("organization_id", "term__code")


def _ratings(out: Facts, scope: Any, today: dt.date) -> None:
    rows = (
        CreditRating.objects.filter(checked_ratings(), organization_id__in=scope, valid_until__gte=today)
        .order_by("organization_id", "-as_of")
        .values_list("organization_id", "grade")
    )
    for org, grade in rows.iterator(chunk_size=5000):
        if org in out:
            out[org].setdefault("credit_grade", grade)
