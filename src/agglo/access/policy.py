"""The one place that answers "may this actor do / see this?". Selectors and services call it.

Actors are Django users (possibly anonymous). Role lookups are cached on the user object for one request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from agglo.access.models import Membership, Node, PlatformRole

# Organization statuses that any visitor may see in the directory.
PUBLIC_ORG_STATUSES = ("member",)


def _roles(user: Any) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_agglo_roles", None)
    if cached is None:
        cached = frozenset(PlatformRole.objects.filter(user=user).values_list("role", flat=True))
        user._agglo_roles = cached
    return cached


def _memberships(user: Any) -> dict[int, tuple[str, str]]:
    """{organization id: (role, organization status)} for the user's memberships."""
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, "_agglo_memberships", None)
    if cached is None:
        rows = Membership.objects.filter(user=user).values_list("organization_id", "role", "organization__status")
        cached = {org_id: (role, status) for org_id, role, status in rows}
        user._agglo_memberships = cached
    return cached


def forget(user: Any) -> None:
    """Drop cached roles after they change within one request."""
    for attr in ("_agglo_roles", "_agglo_memberships"):
        if hasattr(user, attr):
            delattr(user, attr)


def standing(user: Any) -> str:
    """SHA-256 of what the user's rights rest on, read afresh (a view may just have changed them): superuser,
    platform roles, and each membership's role and organization status. A kept answer is given again only while
    this is unchanged (`common.idempotency.replayable`)."""
    roles = sorted(PlatformRole.objects.filter(user_id=user.pk).values_list("role", flat=True))
    held = Membership.objects.filter(user_id=user.pk).values_list("organization_id", "role", "organization__status")
    summed = (bool(getattr(user, "is_superuser", False)), roles, sorted(held))
    return hashlib.sha256(repr(summed).encode()).hexdigest()


def has_role(user: Any, role: str) -> bool:
    return role in _roles(user) or (role == PlatformRole.Role.OPERATOR and getattr(user, "is_superuser", False))


def is_operator(user: Any) -> bool:
    return has_role(user, PlatformRole.Role.OPERATOR)


def platform_roles(user: Any) -> frozenset[str]:
    roles = set(_roles(user))
    if getattr(user, "is_superuser", False):
        roles.add(PlatformRole.Role.OPERATOR)
    return frozenset(roles)


def organization_ids(user: Any) -> set[int]:
    """Organizations the user belongs to, whatever their status (they always see their own)."""
    return set(_memberships(user))


def active_organization_ids(user: Any) -> set[int]:
    """Organizations the user belongs to that are members in good standing: only these grant member rights."""
    return {org_id for org_id, (_, status) in _memberships(user).items() if status in PUBLIC_ORG_STATUSES}


def is_org_admin(user: Any, organization_id: int) -> bool:
    """Admin of an organization in good standing (a suspended organization's people cannot edit it)."""
    role, status = _memberships(user).get(organization_id, ("", ""))
    return role == Membership.Role.ADMIN and status in PUBLIC_ORG_STATUSES


def sees_all_organizations(user: Any) -> bool:
    """Operators and auditors see applicants, suspended and withdrawn organizations too."""
    return is_operator(user) or has_role(user, PlatformRole.Role.AUDITOR)


def sees_member_level(user: Any) -> bool:
    """Whether `user` sees what is kept for members (DESIGN.md §5 "members"): a member in good standing, a
    government officer, an operator or an auditor."""
    return (
        bool(active_organization_ids(user))
        or has_role(user, PlatformRole.Role.GOVERNMENT)
        or sees_all_organizations(user)
    )


def can_see_level(user: Any, *, owner_id: int, level: str, partner_ids: Callable[[], set[int]]) -> bool:
    """Whether `user` may see a field group of organization `owner_id` kept at visibility `level`.

    Levels (DESIGN.md §5): public; members (any member organization, and government officers); partners
    (organizations with an active partnership with the owner; `partner_ids` is asked only when needed);
    private (the owner only). Owners, operators and auditors always see.
    """
    if owner_id in organization_ids(user) or sees_all_organizations(user) or level == "public":
        return True
    active = active_organization_ids(user)
    if level == "members":
        return sees_member_level(user)
    if level == "partners":
        return bool(active & partner_ids())
    return False


def administered_organization_ids(user: Any) -> set[int]:
    """Organizations in good standing that the user administers."""
    return {org_id for org_id in active_organization_ids(user) if is_org_admin(user, org_id)}


def can_review_admissions(user: Any) -> bool:
    return is_operator(user)


def is_node_account(user: Any) -> bool:
    """The account a member node acts through (token or signature): it does its work, but manages no nodes, tokens
    or keys, so that a leaked node token cannot turn itself into lasting access or cut off the others."""
    return user.pk is not None and Node.objects.filter(user_id=user.pk).exists()


def can_edit_organization(user: Any, organization_id: int) -> bool:
    return is_operator(user) or is_org_admin(user, organization_id)


def can_manage_reference_data(user: Any) -> bool:
    """Regions and chains are curated by operators."""
    return is_operator(user)


def organization_admins(organization_id: int) -> list[Any]:
    """The users who administer an organization: whom to tell about its business."""
    return [
        m.user for m in Membership.objects.filter(organization_id=organization_id, role="admin").select_related("user")
    ]


def operators() -> list[Any]:
    """The platform's operators: whom to tell about what the platform must decide."""
    return list(
        get_user_model()
        .objects.filter(Q(platform_roles__role=PlatformRole.Role.OPERATOR) | Q(is_superuser=True), is_active=True)
        .distinct()
    )
