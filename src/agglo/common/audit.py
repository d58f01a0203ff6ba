"""`record()` writes one audit row; services call it inside their transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models
from django.utils import timezone

from agglo.common.models import AuditEvent

# What every event recorded meanwhile says besides its own payload (`marked`): how the change came about.
_MARKS: ContextVar[dict[str, Any] | None] = ContextVar("audit_marks", default=None)


@contextmanager
def marked(**marks: Any) -> Iterator[None]:
    """Every event recorded inside the block carries `marks` in its payload too, whichever service records it: a
    periodic sweep that carries out what a service would have done says so in each record it leaves
    (`registry.services.standing.standing_sweep`: `swept=True`)."""
    token = _MARKS.set({**(_MARKS.get() or {}), **marks})
    try:
        yield
    finally:
        _MARKS.reset(token)


def record(
    event: str,
    *,
    actor: Any,
    subject: models.Model,
    payload: dict[str, Any] | None = None,
    organization_id: int | None = None,
    group: str = "",
) -> AuditEvent:
    """Append an audit event for `subject`; `actor` may be None or anonymous for public actions.

    `organization_id` names the organization whose data changed (for its history), `group` the field group.
    """
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        event=event,
        actor=user,
        actor_label=user.get_username() if user else "anonymous",
        subject_type=subject._meta.label_lower,
        subject_id=str(subject.pk),
        payload={**(payload or {}), **(_MARKS.get() or {})},
        organization_id=organization_id,
        group=group,
    )


def history(subject: models.Model) -> models.QuerySet[AuditEvent]:
    """Audit events of one record, newest first."""
    return AuditEvent.objects.filter(subject_type=subject._meta.label_lower, subject_id=str(subject.pk))


def record_many(
    event: str,
    *,
    actor: Any,
    subject_type: str,
    rows: Iterable[tuple[Any, dict[str, Any], int | None]],
    group: str = "",
    actor_label: str = "",
) -> int:
    """Append one audit event per (subject id, payload, organization id) row, in bulk: for imports and loaders
    that write thousands of records in one transaction. Returns the number of events written."""
    from agglo.common.bulk import insert_rows

    user = actor if getattr(actor, "is_authenticated", False) else None
    actor_id = user.pk if user else None
    label = actor_label or (user.get_username() if user else "anonymous")
    now = timezone.now()
    marks = _MARKS.get() or {}
    columns = [
        "occurred_at",
        "event",
        "actor_id",
        "actor_label",
        "subject_type",
        "subject_id",
        "payload",
        "organization_id",
        "group",
    ]
    return insert_rows(
        AuditEvent,
        columns,
        (
            (now, event, actor_id, label, subject_type, str(pk), {**payload, **marks} if marks else payload, org, group)
            for pk, payload, org in rows
        ),
    )
