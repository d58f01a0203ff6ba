"""Reads of the access app: the nodes an actor manages, and how people appear to others."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.access.models import Membership, Node, PlatformRole
from agglo.common.errors import NotFound


def node_list(*, actor: Any) -> QuerySet[Node]:
    """Nodes of the organizations the actor administers (every node for operators)."""
    qs = Node.objects.select_related("organization").prefetch_related("keys").order_by("organization_id", "name")
    if policy.is_operator(actor):
        return qs
    return qs.filter(organization_id__in=policy.administered_organization_ids(actor))


def node_get(*, actor: Any, pk: int) -> Node:
    node = node_list(actor=actor).filter(pk=pk).first()
    if node is None:
        raise NotFound(_("No node with id %(pk)s.") % {"pk": pk})
    return node


def public_names(user_ids: Iterable[int | None]) -> dict[int, str]:
    """How other members read the people behind a record: the platform role they hold, else the organization they
    act for. Never their login, which for an admitted member's admin is its contact e-mail address."""
    ids = {pk for pk in user_ids if pk is not None}
    if not ids:
        return {}
    names: dict[int, str] = {}
    # a role first (the operator's before others): an operator's check is the platform's, whatever organization
    # the person also belongs to; a superuser acts as an operator
    rank = list(PlatformRole.Role)
    roles = sorted(
        PlatformRole.objects.filter(user_id__in=ids).values_list("user_id", "role"), key=lambda r: rank.index(r[1])
    )
    for user_id in get_user_model().objects.filter(pk__in=ids, is_superuser=True).values_list("pk", flat=True):
        roles.insert(0, (user_id, PlatformRole.Role.OPERATOR))
    for user_id, role in roles:
        names.setdefault(user_id, str(PlatformRole.Role(role).label))
    rest = ids - set(names)
    for m in Membership.objects.filter(user_id__in=rest).select_related("organization").order_by("pk"):
        names.setdefault(m.user_id, m.organization.name)
    for user_id in ids - set(names):
        names[user_id] = _("A platform user")
    return names


def public_name(user: Any) -> str:
    """`public_names` for one user."""
    return public_names([user.pk])[user.pk]
