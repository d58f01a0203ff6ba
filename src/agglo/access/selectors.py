"""Reads of the access app: the nodes an actor manages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.access.models import Node
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
