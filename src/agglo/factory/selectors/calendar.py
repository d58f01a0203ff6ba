"""The capacity calendar: each capability's weeks with their capacity, what accepted work reserves and what open
offers hold. The page and the API read the same figures from here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from agglo.common.days import iso_day
from agglo.factory.models import Allocation, Capability
from agglo.factory.selectors.planning import AHEAD_WEEKS, first_open_day, horizon, offers_held, slots_after_offers
from agglo.factory.weeks import monday, week_at


@dataclass(frozen=True)
class Week:
    week: dt.date
    capacity: int
    reserved: int
    on_offer: int  # open offers' units: only acceptance reserves them

    @property
    def room(self) -> int:
        """What accepted work leaves free."""
        return max(0, self.capacity - self.reserved)

    @property
    def over_room(self) -> bool:
        """The offers waiting here could not all be accepted: the factory lowered the week, or other work took it."""
        return self.on_offer > self.room


@dataclass(frozen=True)
class Page:
    weeks: list[dt.date]
    earlier: dt.date | None  # where the earlier and later pages start (None at either end)
    later: dt.date | None


def page_starts() -> tuple[dt.date, dt.date]:
    """The first weeks of the calendar's first and last pages: the week under way, and a year ahead."""
    this_week = monday(timezone.localdate())
    return this_week, this_week + dt.timedelta(weeks=AHEAD_WEEKS)


def calendar_page(asked: str | None) -> Page:
    """The calendar's weeks from the week `asked` (ISO date; any day of it). The first page runs from the week
    under way to the last week a plan starting now can use; later pages reach the weeks of orders that start
    later (up to a year ahead)."""
    this_week, last_start = page_starts()
    day = iso_day(asked)  # none asked, or not a day: the first page
    start = min(max(monday(day), this_week), last_start) if day is not None else this_week
    count = horizon()
    if start == this_week:  # up to the last week a plan made now can reach
        count += (monday(first_open_day()) - this_week).days // 7
    weeks = [week_at(start, i) for i in range(count)]
    earlier = start - dt.timedelta(weeks=horizon()) if start > this_week else None
    if earlier is not None and earlier <= monday(first_open_day()):
        earlier = this_week  # the first page, as the calendar opens
    later = weeks[-1] + dt.timedelta(weeks=1) if weeks[-1] < last_start else None
    return Page(weeks, earlier, later)


def capacity_calendar(capabilities: QuerySet[Capability], weeks: list[dt.date]) -> list[tuple[Capability, list[Week]]]:
    """Each capability with its `weeks` (consecutive): a week without a slot has the declared weekly capacity."""
    caps = list(capabilities)
    offered = offers_held(caps, weeks[0], weeks[-1])
    weeks_of = slots_after_offers(caps, weeks[0], weeks[-1])
    rows = []
    for c in caps:
        slots: dict[dt.date, Any] = {w: weeks_of[c.pk, w] for w in weeks if (c.pk, w) in weeks_of}
        rows.append(
            (
                c,
                [
                    Week(
                        w,
                        slots[w].capacity if w in slots else c.weekly_capacity,
                        slots[w].reserved if w in slots else 0,
                        offered.get((c.pk, i), 0),
                    )
                    for i, w in enumerate(weeks)
                ],
            )
        )
    return rows


def week_of(capability: Capability, week: dt.date) -> Week:
    """One week of one capability, as the calendar shows it."""
    return capacity_calendar(Capability.objects.filter(pk=capability.pk), [monday(week)])[0][1][0]


def _waiting(capability: Capability) -> QuerySet[Allocation]:
    """Offers to this capability still waiting for an answer, from the week under way on."""
    return Allocation.objects.filter(
        capability=capability,
        status__in=(Allocation.Status.OFFERED, Allocation.Status.COUNTERED),
        respond_by__gt=timezone.now(),
        week__gte=monday(timezone.localdate()),
    )


def offers_waiting(capability: Capability) -> int:
    return _waiting(capability).count()


def crowded_weeks(capability: Capability) -> list[dt.date]:
    """The weeks from now on whose open offers to this capability no longer all fit its room."""
    offered = sorted(set(_waiting(capability).values_list("week", flat=True)))
    if not offered:
        return []
    weeks = [week_at(offered[0], i) for i in range((offered[-1] - offered[0]).days // 7 + 1)]
    row = capacity_calendar(Capability.objects.filter(pk=capability.pk), weeks)[0][1]
    return [w.week for w in row if w.over_room]
