from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from agglo.access import policy
from agglo.access.policy import PUBLIC_ORG_STATUSES
from agglo.common.errors import NotFound
from agglo.registry.models import Organization, Position, Relation


def organization_list(*, actor: Any) -> QuerySet[Organization]:
    """Organizations the actor may see: members for everyone; also their own; everything for operators and auditors."""
    qs = Organization.objects.select_related("region", "area")
    if policy.sees_all_organizations(actor):
        return qs
    own = policy.organization_ids(actor)
    condition = Q(status__in=PUBLIC_ORG_STATUSES)
    if own:
        condition |= Q(pk__in=own)
    return qs.filter(condition)


def organization_get(*, actor: Any, pk: int) -> Organization:
    org = organization_list(actor=actor).select_related("region__parent").filter(pk=pk).first()
    if org is None:
        raise NotFound(f"No organization with id {pk}.")
    return org


def _partners(org_id: int) -> set[int]:
    rel = Relation.objects.filter(kind=Relation.Kind.PARTNER, ended_on__isnull=True)
    out = set(rel.filter(source_org_id=org_id).values_list("target_org_id", flat=True))
    out |= set(rel.filter(target_org_id=org_id).values_list("source_org_id", flat=True))
    return out


def contacts_visible(*, actor: Any, organization: Organization) -> bool:
    """Whether the actor may see the organization's contact details, at the level the owner chose."""
    return policy.can_see_level(
        actor,
        owner_id=organization.pk,
        level=organization.contacts_visibility,
        partner_ids=lambda: _partners(organization.pk),
    )


def position_list(
    *, actor: Any, organization: Organization | None = None, segment_code: str | None = None
) -> QuerySet[Position]:
    """Chain positions of organizations the actor may see."""
    qs = Position.objects.select_related("segment__chain", "organization").filter(
        organization__in=organization_list(actor=actor).values("pk")
    )
    if organization is not None:
        qs = qs.filter(organization=organization)
    if segment_code:
        qs = qs.filter(segment__code=segment_code)
    return qs.order_by("segment__chain__code", "segment__order", "role")


def relation_list(*, actor: Any, organization: Organization) -> QuerySet[Relation]:
    """Relations of one organization where the other side is visible to the actor too."""
    visible = organization_list(actor=actor).values("pk")
    return (
        Relation.objects.select_related("source_org", "target_org")
        .filter(Q(source_org=organization) | Q(target_org=organization))
        .filter(source_org__in=visible, target_org__in=visible)
        .order_by("kind", "-started_on", "id")
    )
