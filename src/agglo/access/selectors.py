"""Reads of the access app: a user's own account, the nodes an actor manages, and how people appear to others."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.access.models import ApiToken, DailyQuota, Invitation, Membership, Node, PlatformRole, TotpDevice
from agglo.access.quotas import accountable
from agglo.common.errors import NotFound


@dataclass(frozen=True)
class Usage:
    """How much of one daily limit the user has used today."""

    kind: str
    label: str
    used: int
    limit: int


@dataclass(frozen=True)
class Account:
    """What a user's own account page shows: whom they act for, how they log in, their tokens, today's limits."""

    memberships: list[Membership]
    roles: frozenset[str]
    two_factor: bool
    tokens: list[ApiToken]
    usage: list[Usage]
    administers: bool  # manages member nodes: an organization's admin, or an operator (of every organization)
    people: bool  # manages people: an organization's admin (an operator without one has no people page)


def daily_usage(user: Any, memberships: list[Membership] | None = None) -> dict[str, Usage]:
    """Today's use of each daily limit that counts for the user, by kind (none for operators and auditors)."""
    if policy.sees_all_organizations(user):
        return {}
    used = dict(
        DailyQuota.objects.filter(user_id=accountable(user), day=timezone.localdate()).values_list("kind", "count")
    )
    if memberships is None:
        memberships = list(Membership.objects.filter(user=user).select_related("organization"))
    # matching rules against the members is the agencies' (their admins publish): not shown to others as a limit
    publishes = any(m.role == Membership.Role.ADMIN and m.organization.kind == "government" for m in memberships)
    return {
        kind: Usage(kind, str(label), used.get(kind, 0), limit)
        for kind, label in DailyQuota.Kind.choices
        if (limit := settings.AGGLO_DAILY_LIMITS.get(kind)) is not None
        and (kind != DailyQuota.Kind.POLICY_MATCH or publishes)
    }


def account_of(user: Any) -> Account:
    """The user's own account, for themselves only."""
    memberships = list(Membership.objects.filter(user=user).select_related("organization").order_by("pk"))
    return Account(
        memberships=memberships,
        roles=policy.platform_roles(user),
        two_factor=TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists(),
        tokens=list(ApiToken.objects.filter(user=user, node__isnull=True).order_by("-created_at")),
        usage=list(daily_usage(user, memberships).values()),
        administers=bool(policy.administered_organization_ids(user)) or policy.is_operator(user),
        people=bool(policy.administered_organization_ids(user)) and not policy.is_node_account(user),
    )


@dataclass
class People:
    """An organization's people (nodes are on their own page) and its invitations not accepted or withdrawn."""

    organization_id: int
    members: list[Membership]
    invitations: list[Invitation]


def administered_organizations(user: Any) -> list[Any]:
    """The organizations the user administers, by name: those whose nodes and people it manages."""
    organizations = Membership._meta.get_field("organization").related_model._default_manager
    return list(organizations.filter(pk__in=policy.administered_organization_ids(user)).order_by("name_zh"))


def membership_get(*, actor: Any, pk: int) -> Membership:
    """One's own membership, or one in an organization one administers; NotFound otherwise."""
    found = Membership.objects.filter(pk=pk).first()
    if found is None or not (
        found.user_id == actor.pk or found.organization_id in policy.administered_organization_ids(actor)
    ):
        raise NotFound(_("No membership with id %(id)s.") % {"id": pk})
    return found


def invitation_get(*, actor: Any, pk: int) -> Invitation:
    """An invitation of an organization one administers; NotFound otherwise."""
    found = Invitation.objects.filter(pk=pk).first()
    if found is None or found.organization_id not in policy.administered_organization_ids(actor):
        raise NotFound(_("No invitation with id %(id)s.") % {"id": pk})
    return found


def organization_people(*, actor: Any, organization_id: int) -> People:
    """For the organization's admins in person only; others are told there is no such list."""
    if policy.is_node_account(actor) or organization_id not in policy.administered_organization_ids(actor):
        raise NotFound(_("No organization with id %(id)s among those you administer.") % {"id": organization_id})
    members = (
        Membership.objects.filter(organization_id=organization_id, user__node__isnull=True)
        .select_related("user")
        .order_by("-role", "user__username")
    )
    invited = Invitation.objects.filter(
        organization_id=organization_id, accepted_at=None, revoked_at=None
    ).select_related("invited_by")
    return People(organization_id, list(members), list(invited.order_by("pk")))


def node_list(*, actor: Any) -> QuerySet[Node]:
    """Nodes of the organizations the actor administers (every node for operators)."""
    qs = (
        Node.objects.select_related("organization")
        .prefetch_related("keys", "tokens")
        .order_by("organization_id", "name")
    )
    if policy.is_operator(actor):
        return qs
    return qs.filter(organization_id__in=policy.administered_organization_ids(actor))


def node_get(*, actor: Any, pk: int) -> Node:
    node = node_list(actor=actor).filter(pk=pk).first()
    if node is None:
        raise NotFound(_("No node with id %(pk)s.") % {"pk": pk})
    return node


def _label(roles: list[str], superuser: bool, organizations: list[tuple[int, str]], prefer: int | None) -> str:
    """One person as others read them: the operator's role before other roles (an operator's check is the
    platform's, whatever organization the person also belongs to; a superuser acts as an operator), else the
    organization whose record this is when they belong to it, else the first they joined."""
    rank = list(PlatformRole.Role)
    held = sorted(set(roles) | ({PlatformRole.Role.OPERATOR} if superuser else set()), key=rank.index)
    if held:
        return str(PlatformRole.Role(held[0]).label)
    named = dict(organizations)
    if prefer in named:
        return named[prefer]
    return organizations[0][1] if organizations else _("A platform user")


def public_names(user_ids: Iterable[int | None], *, prefer: int | None = None) -> dict[int, str]:
    """How other members read the people behind a record (`prefer`: the organization the record is about): never
    their login, which for an admitted member's admin is its contact e-mail address."""
    ids = {pk for pk in user_ids if pk is not None}
    if not ids:
        return {}
    roles: dict[int, list[str]] = {pk: [] for pk in ids}
    for user_id, role in PlatformRole.objects.filter(user_id__in=ids).values_list("user_id", "role"):
        roles[user_id].append(role)
    supers = set(get_user_model().objects.filter(pk__in=ids, is_superuser=True).values_list("pk", flat=True))
    organizations: dict[int, list[tuple[int, str]]] = {pk: [] for pk in ids}
    for m in Membership.objects.filter(user_id__in=ids).select_related("organization").order_by("pk"):
        organizations[m.user_id].append((m.organization_id, m.organization.name))
    return {pk: _label(roles[pk], pk in supers, organizations[pk], prefer) for pk in ids}


def public_name(user: Any) -> str:
    """`public_names` for one user; with `PUBLIC_NAME_PREFETCH` prefetched on it, without a query."""
    roles = [r.role for r in user.platform_roles.all()]
    joined = sorted(user.memberships.all(), key=lambda m: m.pk)
    return _label(roles, user.is_superuser, [(m.organization_id, m.organization.name) for m in joined], None)


# what `public_name` reads of a user, for a queryset of records that name one: `prefetch_related(f"verified_by__{p}")`
PUBLIC_NAME_PREFETCH = ("platform_roles", "memberships__organization")
