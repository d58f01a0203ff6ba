"""Anti-harvesting: daily limits per user on viewing other members' profiles, on exports and on matching rules
against the members.

Going over refuses the request until local midnight and, once a day per user and kind, alerts the operators."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext_lazy

from agglo.access import policy, ratelimit
from agglo.access.models import DailyQuota, Node, ProfileView
from agglo.access.ratelimit import RateLimited
from agglo.common.audit import record
from agglo.common.language import Phrase
from agglo.common.notify import notify


def _seconds_to_midnight(now: dt.datetime) -> float:
    local = timezone.localtime(now)
    midnight = (local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - local).total_seconds()


def accountable(actor: Any) -> int:
    """The user whose daily budget `actor`'s reads count against: itself, or for a member's node, the first node
    its organization registered, so that all of an organization's nodes share one budget (review 44 F3: each new
    node came with a fresh day's allowance). Kept on the user for the request."""
    cached = getattr(actor, "_agglo_accountable", None)
    if cached is None:
        first = (
            Node.objects.filter(organization__nodes__user_id=actor.pk)
            .order_by("pk")
            .values_list("user_id", flat=True)
            .first()
        )
        cached = actor._agglo_accountable = first or actor.pk
    return int(cached)


def quota_consume(*, actor: Any, kind: str) -> None:
    """Count one profile view, export or matching for `actor` today; RateLimited once the day's limit is passed.
    A refusal is not counted (the count reads what was served), but the operators hear of the first of a day.

    Anonymous visitors are held by the per-address rate limit instead; operators and auditors are not counted."""
    if not getattr(actor, "is_authenticated", False) or policy.sees_all_organizations(actor):
        return
    limit = settings.AGGLO_DAILY_LIMITS.get(kind)
    if limit is None:
        return
    now = timezone.now()
    day = timezone.localdate(now)
    # One upsert per counted request, taken back (its savepoint) when it passes the limit: concurrent requests
    # queue on the row, so no two are served past the limit; the alert flag is flipped by exactly one request.
    try:
        with transaction.atomic():
            if _counted(accountable(actor), day, kind, 1) > limit:
                raise _OverLimit
    except _OverLimit:
        quota_refused(actor=actor, kind=kind)
        wait = _seconds_to_midnight(now)
        raise RateLimited(f"day ({kind})", wait, _over_limit(kind, limit, wait)) from None


def _counted(who: int, day: dt.date, kind: str, n: int) -> int:
    """Add `n` to the user's count of `kind` today, in one upsert (the row's lock queues concurrent requests);
    returns the new count. The caller's savepoint takes it back when the count passes the limit."""
    table = DailyQuota._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, day, kind, count, alerted) VALUES (%s, %s, %s, %s, FALSE) "
            f"ON CONFLICT (user_id, day, kind) DO UPDATE SET count = {table}.count + %s RETURNING count",
            [who, day, kind, n, n],
        )
        return int(cursor.fetchone()[0])


class _OverLimit(Exception):
    """Inside `quota_consume`: the count passed the limit, so its savepoint is rolled back."""


# what a refusal at a daily limit says: which limit, why it exists, and when it resets
OVER_LIMIT = {
    DailyQuota.Kind.PROFILE_VIEW: ngettext_lazy(
        "You have viewed the profile of %(limit)d other organization today, the daily limit that keeps members' "
        "data from being harvested. It resets at midnight, in %(time)s.",
        "You have viewed the profiles of %(limit)d other organizations today, the daily limit that keeps members' "
        "data from being harvested. It resets at midnight, in %(time)s.",
        "limit",
    ),
    DailyQuota.Kind.EXPORT: ngettext_lazy(
        "You have made %(limit)d export of other members' data today, the daily limit that keeps members' data "
        "from being harvested. It resets at midnight, in %(time)s.",
        "You have made %(limit)d exports of other members' data today, the daily limit that keeps members' data "
        "from being harvested. It resets at midnight, in %(time)s.",
        "limit",
    ),
}


def _over_limit(kind: str, limit: int, wait: float) -> Phrase:
    message = OVER_LIMIT.get(
        kind, gettext_lazy("You have reached today's limit of %(limit)d. It resets at midnight, in %(time)s.")
    )
    return Phrase(message, limit=limit, time=_time_left(wait))


def _time_left(seconds: float) -> Phrase:
    """A wait in hours and minutes, in the reader's language ("4 h 10 min"), at least a minute."""
    minutes = max(1, math.ceil(seconds / 60))
    return Phrase(gettext_lazy("%(h)d h %(m)d min"), h=minutes // 60, m=minutes % 60)


def quota_refused(*, actor: Any, kind: str) -> None:
    """Alert the operators (once a day per user and kind) of a refusal whose count went with its rolled-back write:
    a write refused at the limit leaves nothing of its own, yet someone trying past it is what they watch for."""
    limit = settings.AGGLO_DAILY_LIMITS.get(kind)
    if limit is None or not getattr(actor, "is_authenticated", False):
        return
    day = timezone.localdate()
    DailyQuota.objects.get_or_create(user_id=accountable(actor), day=day, kind=kind)
    _alert_once(actor, kind, day, limit)


def _alert_once(actor: Any, kind: str, day: dt.date, limit: int) -> None:
    """Record and tell the operators that `actor` went over the limit, unless that was done today already."""
    who = accountable(actor)
    if not DailyQuota.objects.filter(user_id=who, day=day, kind=kind, alerted=False).update(alerted=True):
        return
    row = DailyQuota.objects.get(user_id=who, day=day, kind=kind)
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


def profile_viewed(*, actor: Any, organization_id: int, address: str = "") -> None:
    """Count a view of another organization's profile (one's own are free): once a day per organization, so that
    its tabs, and coming back to it, count as one. The mark and the count are one transaction: a read sent beside
    another of the same organization waits for it, then is served on its committed mark or counted itself, so an
    organization counts once and nothing is served on a refused read's mark. A visitor who is not logged in is
    held to a daily budget of reads per client `address` instead (the `anon_profile` rate limit)."""
    if not getattr(actor, "is_authenticated", False):
        _anonymous_read(address)
        return
    if policy.sees_all_organizations(actor) or organization_id in policy.organization_ids(actor):
        return
    day = timezone.localdate()
    if ProfileView.objects.filter(user_id=accountable(actor), organization_id=organization_id, day=day).exists():
        return  # the usual case, a tab of what was read today, in one query
    table = ProfileView._meta.db_table
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (user_id, organization_id, day) VALUES (%s, %s, %s) "
                "ON CONFLICT (user_id, organization_id, day) DO NOTHING RETURNING 1",
                [accountable(actor), organization_id, day],
            )
            if cursor.fetchone() is None:  # seen today already
                return
            quota_consume(actor=actor, kind=DailyQuota.Kind.PROFILE_VIEW)
    except RateLimited:
        quota_refused(actor=actor, kind=DailyQuota.Kind.PROFILE_VIEW)  # the alert went with the rolled-back count
        raise
    ProfileView.objects.filter(
        user_id=accountable(actor), day__lt=day
    ).delete()  # what was seen on earlier days counts no more


EXPORT_OVER_PROFILES = ngettext_lazy(
    "This export holds the data of %(n)d other organization whose profile you have not viewed today, and %(left)d "
    "of today's %(limit)d profile views are left. An export counts as a view of every other organization in it, "
    "so that members' data is not harvested. The limit resets at midnight, in %(time)s; your own organizations' "
    "data may be exported at any time.",
    "This export holds the data of %(n)d other organizations whose profiles you have not viewed today, and "
    "%(left)d of today's %(limit)d profile views are left. An export counts as a view of every other organization "
    "in it, so that members' data is not harvested. The limit resets at midnight, in %(time)s; your own "
    "organizations' data may be exported at any time.",
    "n",
)


def profiles_exported(*, actor: Any, organization_ids: set[int]) -> None:
    """Count an export of other members' data as a view of each organization in it that was not viewed today
    (review 43 Q3: one export reached every visible member, past the limit on profile views), all or nothing:
    RateLimited if they do not all fit in what is left of the day's profile views. Government officers, whose
    work is reading members-level data, and the platform's staff are not counted per organization (their exports
    count per file). Call it in the caller's transaction; the caller alerts the operators of a refusal."""
    if not getattr(actor, "is_authenticated", False) or policy.platform_roles(actor):
        return
    others = organization_ids - policy.organization_ids(actor)
    limit = settings.AGGLO_DAILY_LIMITS.get(DailyQuota.Kind.PROFILE_VIEW)
    if not others or limit is None:
        return
    who, now = accountable(actor), timezone.now()
    day = timezone.localdate(now)
    # today's views are at most the limit: read them all rather than ask for each exported organization
    seen = set(ProfileView.objects.filter(user_id=who, day=day).values_list("organization_id", flat=True))
    new = others - seen
    if not new:
        return
    with transaction.atomic():
        count = _counted(who, day, DailyQuota.Kind.PROFILE_VIEW, len(new))
        if count > limit:
            left = max(0, limit - (count - len(new)))
            wait = _seconds_to_midnight(now)
            said = Phrase(EXPORT_OVER_PROFILES, n=len(new), left=left, limit=limit, time=_time_left(wait))
            raise RateLimited(f"day ({DailyQuota.Kind.PROFILE_VIEW})", wait, said)
        ProfileView.objects.bulk_create(
            [ProfileView(user_id=who, organization_id=pk, day=day) for pk in sorted(new)],
            ignore_conflicts=True,
            batch_size=500,
        )


ANONYMOUS_LIMIT = gettext_lazy(
    "Visitors who are not logged in may read only so many profile pages a day from one address, so that members' "
    "data is not harvested. Log in to read on, or try again in %(time)s."
)


def _anonymous_read(address: str) -> None:
    if not address:
        return
    try:
        ratelimit.check("anon_profile", address)
    except RateLimited as exc:
        raise RateLimited(
            exc.kind, exc.retry_after, Phrase(ANONYMOUS_LIMIT, time=_time_left(exc.retry_after))
        ) from None
