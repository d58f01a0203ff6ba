"""Writes of the access app: the log of views of members' sensitive field groups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from agglo.access import policy
from agglo.access.models import AccessLogEntry, Membership
from agglo.common.bulk import insert_rows


def viewer_label(user_id: int) -> str:
    return f"#{user_id}"


def _viewer_fields(viewer: Any) -> dict[str, Any]:
    if not getattr(viewer, "is_authenticated", False):
        return {
            "viewer": None,
            "viewer_label": "anonymous",
            "viewer_orgs": "",
            "viewer_orgs_en": "",
            "viewer_roles": "",
        }
    names = list(Membership.objects.filter(user=viewer).values_list("organization__name_zh", "organization__name_en"))
    return {
        "viewer": viewer,
        # a number, never the login (an admitted admin's is its contact e-mail address): the owner tells one
        # person from another, and the organizations and roles say who they act for
        "viewer_label": viewer_label(viewer.pk),
        "viewer_orgs": "; ".join(sorted(zh for zh, _en in names))[:400],
        "viewer_orgs_en": "; ".join(sorted(en or zh for zh, en in names))[:400],
        "viewer_roles": ",".join(sorted(policy.platform_roles(viewer)))[:100],
    }


def sensitive_views_record(*, viewer: Any, owner_ids: Iterable[int], groups: Iterable[str], channel: str) -> int:
    """Log that `viewer` saw `groups` of each owner; views of one's own organizations are not logged."""
    own = policy.organization_ids(viewer)
    owners = sorted(set(owner_ids) - own)
    groups = sorted(set(groups))
    if not owners or not groups:
        return 0
    who = _viewer_fields(viewer)
    # an export of everyone's contacts logs a row per organization: written as plain rows (executemany, COPY on
    # PostgreSQL), not as model objects (perf review 58: 100,000 took 901 statements)
    viewer = who.pop("viewer")
    columns = ("occurred_at", "owner_id", "group", "channel", "viewer_id", *who)
    now = timezone.now()
    viewer_id = viewer.pk if viewer is not None else None
    rows_written = ((now, o, g, channel, viewer_id, *who.values()) for o in owners for g in groups)
    return insert_rows(AccessLogEntry, columns, rows_written)
