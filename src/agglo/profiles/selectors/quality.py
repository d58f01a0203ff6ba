"""The owner's data-quality score: gathered here from the database, computed by profiles.quality."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.errors import Forbidden
from agglo.profiles import quality
from agglo.profiles.kinds import KINDS, current_stale
from agglo.profiles.models import Case, Source
from agglo.registry.models import Organization

BASIC_FIELDS = (
    "name_en",
    "website",
    "founded_year",
    "headcount",
    "description",
    "tags",
    "contact_name",
    "contact_email",
    "contact_phone",
)
EXPECTS_IP = ("tech_sme", "enterprise", "university", "research_institute")
VERIFIED = (Source.OPERATOR_VERIFIED, Source.BANK_VERIFIED)  # "audited" is the owner's own mark


def quality_input(organization: Organization) -> quality.QualityInput:
    today = timezone.localdate()
    missing = [f for f in BASIC_FIELDS if getattr(organization, f) in (None, "", [])]
    if not organization.positions.exists():
        missing.append("positions")
    filled = len(BASIC_FIELDS) + 1 - len(missing)
    counts = {}
    totals = {"total": 0, "stale": 0, "verified": 0}
    for kind in KINDS.values():
        row = kind.model.objects.filter(organization=organization).aggregate(  # type: ignore[attr-defined]
            total=Count("pk"),
            stale=Count("pk", filter=current_stale(kind, today)),
            verified=Count("pk", filter=Q(source__in=VERIFIED)),
            fresh_recent=Count("pk", filter=Q(valid_until__gte=today) & Q(**_recent(kind.name, today))),
        )
        counts[kind.name] = row
        for k in totals:
            totals[k] += row[k]
    cases = Case.objects.filter(organization=organization).aggregate(
        total=Count("pk"),
        stale=Count("pk", filter=Q(valid_until__lt=today)),
        verified=Count("pk", filter=Q(source__in=VERIFIED)),
    )
    for k in totals:
        totals[k] += cases[k]
    return quality.QualityInput(
        basic_fields_filled=filled,
        basic_fields_total=len(BASIC_FIELDS) + 1,
        has_last_year_statement=counts["financials"]["fresh_recent"] > 0,
        has_valid_rating=counts["ratings"]["fresh_recent"] > 0,
        capability_count=counts["capabilities"]["total"],
        ip_count=counts["ip"]["total"],
        expects_ip=organization.kind in EXPECTS_IP,
        facts_total=totals["total"],
        facts_stale=totals["stale"],
        facts_verified=totals["verified"],
        basic_missing=tuple(missing),
    )


def _recent(kind: str, today: Any) -> dict[str, Any]:
    # Last year's statement counts once the year is over; a rating counts while valid.
    return {"year__gte": today.year - 1} if kind == "financials" else {}


def quality_get(*, actor: Any, organization: Organization) -> quality.QualityScore:
    """The score and what to fix: for the organization's own people and operators."""
    if not (organization.pk in policy.organization_ids(actor) or policy.is_operator(actor)):
        raise Forbidden(_("The data-quality score is shown to the organization's own people."))
    return quality.score(quality_input(organization))
