"""`record()` writes one audit row; services call it inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from agglo.common.models import AuditEvent


def record(event: str, *, actor: Any, subject: models.Model, payload: dict[str, Any] | None = None) -> AuditEvent:
    """Append an audit event for `subject`; `actor` may be None or anonymous for public actions."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        event=event,
        actor=user,
        actor_label=user.get_username() if user else "anonymous",
        subject_type=subject._meta.label_lower,
        subject_id=str(subject.pk),
        payload=payload or {},
    )


def history(subject: models.Model) -> models.QuerySet[AuditEvent]:
    """Audit events of one record, newest first."""
    return AuditEvent.objects.filter(subject_type=subject._meta.label_lower, subject_id=str(subject.pk))
