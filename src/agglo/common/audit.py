"""`record()` writes one audit row; services call it inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from agglo.common.models import AuditEvent


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
        payload=payload or {},
        organization_id=organization_id,
        group=group,
    )


def history(subject: models.Model) -> models.QuerySet[AuditEvent]:
    """Audit events of one record, newest first."""
    return AuditEvent.objects.filter(subject_type=subject._meta.label_lower, subject_id=str(subject.pk))
