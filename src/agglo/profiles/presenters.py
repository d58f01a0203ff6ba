"""What the profile overview shows, gathered once for the page and the API alike."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from agglo.access import policy
from agglo.profiles import selectors
from agglo.profiles.kinds import KINDS, current_stale
from agglo.profiles.quality import Fix
from agglo.registry.models import Organization

FIX_MESSAGES = {
    "basic_fields": gettext_lazy(
        "Complete the basic profile: English name, website, founding year, headcount, description, "
        "tags, contacts and chain positions."
    ),
    "last_year_statement": gettext_lazy("Add last year's financial statement."),
    "rating": gettext_lazy("Add a valid credit rating."),
    "capabilities": gettext_lazy("Add at least one capability or certification from the catalogue."),
    "ip": gettext_lazy("Record your patents, software copyrights or trademarks."),
    "stale": gettext_lazy("Update %(count)d facts that are past their validity."),
    "unverified": gettext_lazy("Have %(count)d facts verified by the platform's operators or a bank."),
}


# the basic profile's fields, as a fix names the empty ones
BASIC_LABELS = {
    "name_en": gettext_lazy("English name"),
    "website": gettext_lazy("website"),
    "founded_year": gettext_lazy("founding year"),
    "headcount": gettext_lazy("headcount"),
    "description": gettext_lazy("description"),
    "tags": gettext_lazy("tags"),
    "contact_name": gettext_lazy("contact name"),
    "contact_email": gettext_lazy("contact e-mail"),
    "contact_phone": gettext_lazy("contact phone"),
    "positions": gettext_lazy("chain positions"),
}


def fix_message(fix: Fix) -> str:
    if fix.code == "basic_fields" and fix.missing:
        fields = str(pgettext_lazy("between list items", ", ")).join(
            str(BASIC_LABELS.get(name, name)) for name in fix.missing
        )
        return str(gettext_lazy("Complete the basic profile: %(fields)s.")) % {"fields": fields}
    return str(FIX_MESSAGES[fix.code]) % {"count": fix.count} if fix.count else str(FIX_MESSAGES[fix.code])


def profile_summary(
    *, actor: Any, organization: Organization, include_indicators: bool = True, groups: set[str] | None = None
) -> dict[str, Any]:
    """The overview: groups the actor sees, the credit headline, counts, indicators, quality (owners), changes.

    `logged_groups` are the sensitive groups this overview shows an outsider; the caller logs the view.
    """
    groups = groups if groups is not None else selectors.visible_groups(actor, organization)
    own = organization.pk in policy.organization_ids(actor)
    owner_view = own or policy.is_operator(actor)
    counts = {}
    today = timezone.localdate()
    for name, kind in KINDS.items():
        if kind.group in groups:
            row = kind.model.objects.filter(organization=organization).aggregate(  # type: ignore[attr-defined]
                total=Count("pk"), stale=Count("pk", filter=current_stale(kind, today))
            )
            counts[name], counts[f"{name}_stale"] = row["total"], row["stale"]
    counts["cases"] = selectors.case_count(actor=actor, organization=organization)
    indicators = None
    logged = []
    if include_indicators and "financials" in groups:
        statements = selectors.fact_list(actor=actor, organization=organization, kind=KINDS["financials"])
        indicators = [i.__dict__ for i in selectors.indicator_list(list(statements or []))]
        logged.append("financials")
    headline = selectors.credit_headline(actor=actor, organization=organization)
    quality = None
    if owner_view:
        score = selectors.quality_get(actor=actor, organization=organization)
        quality = {**score.__dict__, "fixes": [{**f.__dict__, "message": fix_message(f)} for f in score.fixes]}
    return {
        "organization_id": organization.pk,
        "visible_groups": sorted(groups),
        "disclosure": selectors.disclosure_levels(organization) if owner_view else None,
        "credit": headline,
        "counts": counts,
        "indicators": indicators,
        "quality": quality,
        "recent_changes": selectors.recent_changes(actor=actor, organization=organization, groups=groups),
        "logged_groups": logged,
    }
