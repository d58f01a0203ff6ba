"""Reminding owners of facts that have gone stale or soon will."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agglo.access.models import Membership
from agglo.common.audit import record
from agglo.common.language import languages_of
from agglo.profiles.kinds import KINDS, current_stale
from agglo.profiles.models import Case
from agglo.registry.models import Organization

# Owners hear of a fact this many days before it goes stale, and again at most this often.
NOTICE_DAYS = 30
REPEAT_DAYS = 30


@transaction.atomic
def stale_reminders_send(*, today: dt.date | None = None) -> dict[str, int]:
    """Find facts stale or due within NOTICE_DAYS not reminded of lately, and e-mail each owner's admins once."""
    from agglo.profiles.tasks import stale_reminder_notify

    today = today or timezone.localdate()
    due = today + dt.timedelta(days=NOTICE_DAYS)
    quiet_since = today - dt.timedelta(days=REPEAT_DAYS)
    per_org: dict[int, list[dict[str, Any]]] = defaultdict(list)
    models = [(k.name, k.model, current_stale(k, due + dt.timedelta(days=1))) for k in KINDS.values()]
    models.append(("cases", Case, Q(valid_until__lte=due)))
    for name, model, due_condition in models:
        qs = model.objects.filter(due_condition, organization__status="member").exclude(  # type: ignore[attr-defined]
            reminded_on__gt=quiet_since
        )
        rows = list(qs.values_list("pk", "organization_id", "valid_until"))
        for pk, org_id, valid_until in rows:
            per_org[org_id].append({"kind": name, "id": pk, "valid_until": valid_until.isoformat()})
        model.objects.filter(pk__in=[r[0] for r in rows]).update(reminded_on=today)  # type: ignore[attr-defined]
    # Each admin's address under their own language, so each reads the reminder in it.
    admins: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    memberships = list(
        Membership.objects.filter(
            organization_id__in=per_org, role=Membership.Role.ADMIN, user__is_active=True
        ).select_related("user")
    )
    languages = languages_of(m.user for m in memberships)
    for m in memberships:
        if m.user.email:
            admins[m.organization_id][languages[m.user_id]].append(m.user.email)
    for org in Organization.objects.filter(pk__in=per_org):
        items = per_org[org.pk]
        record(
            "profiles.reminder_sent",
            actor=None,
            subject=org,
            payload={"facts": len(items), "recipients": sum(len(v) for v in admins[org.pk].values())},
            organization_id=org.pk,
        )
        for language, addresses in sorted(admins[org.pk].items()):
            transaction.on_commit(partial(stale_reminder_notify.enqueue, org.pk, len(items), addresses, language))
    return {"organizations": len(per_org), "facts": sum(len(v) for v in per_org.values())}
