"""Anti-harvesting: daily limits per user on viewing other members' profiles, on exports and on matching rules
against the members.

Going over refuses the request until local midnight and, once a day per user and kind, alerts the operators."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy

from agglo.access import policy
from agglo.access.models import DailyQuota
from agglo.access.ratelimit import RateLimited
from agglo.common.audit import record
from agglo.common.language import Phrase
from agglo.common.notify import notify


def _seconds_to_midnight(now: dt.datetime) -> float:
    local = timezone.localtime(now)
    midnight = (local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - local).total_seconds()


def quota_consume(*, actor: Any, kind: str) -> None:
    """Count one profile view, export or matching for `actor` today; RateLimited once the day's limit is passed.

    Anonymous visitors are held by the per-address rate limit instead; operators and auditors are not counted."""
    if not getattr(actor, "is_authenticated", False) or policy.sees_all_organizations(actor):
        return
    limit = settings.AGGLO_DAILY_LIMITS.get(kind)
    if limit is None:
        return
    now = timezone.now()
    day = timezone.localdate(now)
    table = DailyQuota._meta.db_table
    # One upsert per counted request; the alert flag is flipped by exactly one request.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, day, kind, count, alerted) VALUES (%s, %s, %s, 1, FALSE) "
            f"ON CONFLICT (user_id, day, kind) DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [actor.pk, day, kind],
        )
        count = cursor.fetchone()[0]
    if count > limit:
        _alert_once(actor, kind, day, limit)
        raise RateLimited(f"day ({kind})", _seconds_to_midnight(now))


def quota_refused(*, actor: Any, kind: str) -> None:
    """Alert the operators (once a day per user and kind) of a refusal whose count went with its rolled-back write:
    a write refused at the limit leaves nothing of its own, yet someone trying past it is what they watch for."""
    limit = settings.AGGLO_DAILY_LIMITS.get(kind)
    if limit is None or not getattr(actor, "is_authenticated", False):
        return
    day = timezone.localdate()
    DailyQuota.objects.get_or_create(user=actor, day=day, kind=kind)
    _alert_once(actor, kind, day, limit)


def _alert_once(actor: Any, kind: str, day: dt.date, limit: int) -> None:
    """Record and tell the operators that `actor` went over the limit, unless that was done today already."""
    if not DailyQuota.objects.filter(user=actor, day=day, kind=kind, alerted=False).update(alerted=True):
        return
    row = DailyQuota.objects.get(user=actor, day=day, kind=kind)
    label = DailyQuota.Kind(kind).label
    record(
        "access.daily_limit_exceeded",
        actor=actor,
        subject=row,
        payload={"kind": kind, "limit": limit, "user": actor.get_username()},
    )
    notify(
        policy.operators(),
        verb="access.daily_limit_exceeded",
        text=Phrase(
            gettext_lazy("%(user)s went over the daily limit of %(limit)d: %(kind)s."),
            user=actor.get_username(),
            limit=limit,
            kind=label,
        ),
        link="/admin/access/dailyquota/",
    )


def profile_viewed(*, actor: Any, organization_id: int) -> None:
    """Count a view of another organization's profile (one's own are free)."""
    if organization_id not in policy.organization_ids(actor):
        quota_consume(actor=actor, kind=DailyQuota.Kind.PROFILE_VIEW)
