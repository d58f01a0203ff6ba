"""Reads of the behaviour log: the learned signal per result, and the log itself for offline evaluation."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from agglo.matching.models import MatchEvent

WINDOW_DAYS = 180
# Weight of each event against impressions; the prior keeps a single click on a rarely shown item modest.
CLICK, INTEREST, ACCEPTANCE, PRIOR = 1.0, 3.0, 8.0, 20.0


def behaviour_scores() -> dict[int, float]:
    """Per item: (clicks + 3·interests + 8·acceptances) / (impressions + 20) over the last 180 days, at most 1,
    each counted in distinct organizations."""
    since = timezone.now() - dt.timedelta(days=WINDOW_DAYS)
    rows = (
        MatchEvent.objects.filter(created_at__gte=since)
        .values("item_key")
        .annotate(
            # Distinct organizations: one member repeating itself does not move the signal.
            shown=Count("organization", distinct=True, filter=Q(kind=MatchEvent.Kind.IMPRESSION)),
            clicks=Count("organization", distinct=True, filter=Q(kind=MatchEvent.Kind.CLICK)),
            interests=Count("organization", distinct=True, filter=Q(kind=MatchEvent.Kind.INTEREST)),
            accepted=Count("organization", distinct=True, filter=Q(kind=MatchEvent.Kind.ACCEPTANCE)),
        )
    )
    out = {}
    for r in rows:
        gained = CLICK * r["clicks"] + INTEREST * r["interests"] + ACCEPTANCE * r["accepted"]
        if gained:
            out[r["item_key"]] = min(1.0, gained / (r["shown"] + PRIOR))
    return out


def event_list(*, since: dt.datetime | None = None) -> QuerySet[MatchEvent]:
    """The log in time order (operators export it for offline evaluation)."""
    qs = MatchEvent.objects.order_by("created_at", "id")
    return qs.filter(created_at__gte=since) if since else qs
