"""Who may see which field group of an organization's profile (DESIGN.md §5)."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from agglo.access import policy
from agglo.profiles.models import CaseParticipant, Disclosure
from agglo.registry.models import Organization
from agglo.registry.selectors.organizations import partner_ids, partnered_owners

# Groups that carry their own visibility level; the rest (ip, capabilities) go with the organization itself.
SENSITIVE_GROUPS = ("financials", "credit", "contacts")
OPEN_GROUPS = ("basic", "ip", "capabilities", "cases")  # what any reader of the organization sees
FIELD_GROUPS = OPEN_GROUPS + SENSITIVE_GROUPS


def disclosure_levels(organization: Organization) -> dict[str, str]:
    """The level each sensitive group is kept at: the owner's choice, or the defaults."""
    try:
        disclosure = organization.disclosure  # type: ignore[attr-defined]
    except Disclosure.DoesNotExist:
        disclosure = Disclosure(organization=organization)
    return {
        "financials": disclosure.financials_visibility,
        "credit": disclosure.credit_visibility,
        "contacts": organization.contacts_visibility,
    }


def case_partner_ids(org_id: int) -> set[int]:
    """Organizations that confirmed their part in an ongoing case the organization confirmed too."""
    today = timezone.localdate()
    ongoing = Q(case__ended_on__isnull=True) | Q(case__ended_on__gte=today)
    confirmed = CaseParticipant.objects.filter(confirmed_at__isnull=False)
    cases = confirmed.filter(ongoing, organization_id=org_id).values("case_id")
    return set(
        confirmed.filter(case_id__in=cases).exclude(organization_id=org_id).values_list("organization_id", flat=True)
    )


def can_see_level(actor: Any, organization: Organization, level: str) -> bool:
    return policy.can_see_level(
        actor, owner_id=organization.pk, level=level, partner_ids=lambda: partner_ids(organization.pk)
    )


def can_see_group(actor: Any, organization: Organization, group: str) -> bool:
    """Whether the actor may see a field group of an organization it can already see."""
    if group not in SENSITIVE_GROUPS:
        return True
    return can_see_level(actor, organization, disclosure_levels(organization)[group])


def visible_groups(actor: Any, organization: Organization) -> set[str]:
    """Every group the actor may see; partners are looked up once, and only if a level needs them."""
    cache: dict[str, set[int]] = {}

    def partners() -> set[int]:
        if "ids" not in cache:
            cache["ids"] = partner_ids(organization.pk)
        return cache["ids"]

    out = set(OPEN_GROUPS)
    for group, level in disclosure_levels(organization).items():
        if policy.can_see_level(actor, owner_id=organization.pk, level=level, partner_ids=partners):
            out.add(group)
    return out


def can_see_credit_headline(actor: Any, organization: Organization) -> bool:
    """The latest grade, its body and date: open to members and government, whatever the detail level."""
    return can_see_level(actor, organization, "members")


def owners_filter(actor: Any, group: str) -> tuple[dict[str, Any], Q]:
    """(annotations, condition) that keep, of many organizations, those whose `group` the actor may see.

    The same rule as can_see_group, as one query: for exports and lists over many owners.
    """
    if group == "contacts":
        annotations: dict[str, Any] = {"group_level": F("contacts_visibility")}
    else:
        default = Disclosure._meta.get_field(f"{group}_visibility").default
        annotations = {"group_level": Coalesce(f"disclosure__{group}_visibility", Value(default))}
    if policy.sees_all_organizations(actor):
        return annotations, Q()
    condition = Q(pk__in=policy.organization_ids(actor)) | Q(group_level="public")
    active = policy.active_organization_ids(actor)
    if active or policy.has_role(actor, "government"):
        condition |= Q(group_level="members")
    if active:
        condition |= Q(group_level="partners", pk__in=partnered_owners(active))
    return annotations, condition


def is_bank_officer(actor: Any) -> bool:
    """Acts for a bank in good standing: such people may vouch for statements they can see."""
    active = policy.active_organization_ids(actor)
    return bool(active) and Organization.objects.filter(pk__in=active, kind="bank").exists()


def verification_sources(actor: Any, organization: Organization, kind: str) -> list[str]:
    """The verifications the actor may give a fact of this kind (the owner's "audited" is offered separately)."""
    out = []
    if policy.is_operator(actor):
        out.append("operator_verified")
    if kind == "financials" and organization.pk not in policy.organization_ids(actor) and is_bank_officer(actor):
        out.append("bank_verified")
    return out
