from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.access.policy import PUBLIC_ORG_STATUSES
from agglo.common.errors import NotFound
from agglo.registry.models import Chain, Organization, Position, Relation


def visible(actor: Any, prefix: str = "") -> Q:
    """Condition on an organization (reached through `prefix`, e.g. "source_org__") that the actor may see it:
    members for everyone, their own organizations too, everything for operators and auditors."""
    if policy.sees_all_organizations(actor):
        return Q()
    condition = Q(**{f"{prefix}status__in": PUBLIC_ORG_STATUSES})
    own = policy.organization_ids(actor)
    if own:
        condition |= Q(**{f"{prefix}pk__in": own})
    return condition


def organization_list(*, actor: Any) -> QuerySet[Organization]:
    """Organizations the actor may see."""
    return Organization.objects.select_related("region", "area").filter(visible(actor))


def cluster_stats() -> dict[str, int]:
    """Headline numbers for the home page: members, the provinces/countries they come from, chains."""
    members = Organization.objects.filter(status__in=PUBLIC_ORG_STATUSES)
    return {
        "members": members.count(),
        "areas": members.values("area_id").distinct().count(),
        "chains": Chain.objects.count(),
    }


def organization_get(*, actor: Any, pk: int) -> Organization:
    org = organization_list(actor=actor).select_related("region__parent").filter(pk=pk).first()
    if org is None:
        raise NotFound(_("No organization with id %(pk)s.") % {"pk": pk})
    return org


# Other apps that know of partnerships (profiles: shared collaboration cases) add a function here when they load.
# A source must be symmetric (A is B's partner exactly when B is A's), so partnered_owners can ask it too.
PARTNER_SOURCES: list[Callable[[int], set[int]]] = []


def partner_ids(org_id: int) -> set[int]:
    """Partners of an organization, from declared relations and from every registered source."""
    out = _relation_partners(org_id)
    for source in PARTNER_SOURCES:
        out |= source(org_id)
    return out


def _relation_partners(org_id: int) -> set[int]:
    """Partners it declared itself, or partnerships confirmed, verified or imported.

    A partnership someone else merely claims does not open the owner's partner-level data.
    """
    today = timezone.localdate()
    rel = Relation.objects.filter(kind=Relation.Kind.PARTNER).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=today))
    out = set(rel.filter(source_org_id=org_id).values_list("target_org_id", flat=True))
    trusted = rel.filter(target_org_id=org_id).exclude(source=Relation.Source.SELF_DECLARED)
    out |= set(trusted.values_list("source_org_id", flat=True))
    return out


def partnered_owners(org_ids: set[int]) -> set[int]:
    """Organizations whose partners (as partner_ids counts them) include one of `org_ids`: the inverse of
    partner_ids, for reads over many owners at once such as exports and listings."""
    today = timezone.localdate()
    rel = Relation.objects.filter(kind=Relation.Kind.PARTNER).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=today))
    out = set(rel.filter(target_org_id__in=org_ids).values_list("source_org_id", flat=True))
    trusted = rel.filter(source_org_id__in=org_ids).exclude(source=Relation.Source.SELF_DECLARED)
    out |= set(trusted.values_list("target_org_id", flat=True))
    for source in PARTNER_SOURCES:
        for org_id in org_ids:
            out |= source(org_id)
    return out


def contacts_visible(*, actor: Any, organization: Organization) -> bool:
    """Whether the actor may see the organization's contact details, at the level the owner chose."""
    return policy.can_see_level(
        actor,
        owner_id=organization.pk,
        level=organization.contacts_visibility,
        partner_ids=lambda: partner_ids(organization.pk),
    )


def position_list(
    *, actor: Any, organization: Organization | None = None, segment_code: str | None = None
) -> QuerySet[Position]:
    """Chain positions of organizations the actor may see."""
    qs = Position.objects.select_related("segment__chain", "organization").filter(visible(actor, "organization__"))
    if organization is not None:
        qs = qs.filter(organization=organization)
    if segment_code:
        qs = qs.filter(segment__code=segment_code)
    return qs.order_by("segment__chain__code", "segment__order", "role")


def relation_list(*, actor: Any, organization: Organization) -> list[Relation]:
    """Relations of one organization, outgoing then incoming, where the other side is visible to the actor too."""
    related = Relation.objects.select_related("source_org", "target_org").order_by("kind", "-started_on", "id")
    outgoing = related.filter(source_org=organization).filter(visible(actor, "target_org__"))
    incoming = related.filter(target_org=organization).filter(visible(actor, "source_org__"))
    return [*outgoing, *incoming]
