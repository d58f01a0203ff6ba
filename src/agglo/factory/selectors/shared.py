"""The cluster's shared capacity: member factories' weekly capacity pooled by process, or by province for one
process, and the room in it a new order could still be offered. A buyer reads it before choosing a due week; the
government reads it as the cluster's production picture.

A factory's calendar is its own, so the pools are kept from telling one (reviews 101 and 103):
- a pool is shown only where it holds at least `MIN_FACTORIES` factories besides the reader's own (a reader who
  takes its own figures away still reads at least three others together), none of them holding more than
  `DOMINANT` of their declared capacity (else the pool reads as that factory);
- so is each week of it: the others' capacity that week, their free room and what is taken of it (by accepted work,
  open offers or lead time) each come from none, or from at least three factories with none holding more than half;
  a week that fails shows no figures;
- where provinces are listed, the remainder is not left to be worked out as the process's total less the provinces
  shown: the smallest join it until it could be shown itself. Which are shown is decided on the other factories
  only, so that a reader cannot move the split by declaring or dropping a capability of its own;
- figures are rounded to two significant digits (half up). That blurs what a day's change in a pool tells, not
  all of it: the count of factories is exact, and a factory that leaves a small pool can be read off the
  difference to about that precision.

Only capacity and free room are published: what is taken is their difference, and accepted work and open offers
apart would each need a rule of their own."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.factory.models import Capability, Process
from agglo.factory.selectors.planning import first_open_day, offers_held, slots_after_offers
from agglo.factory.weeks import monday
from agglo.registry.models import Region
from agglo.registry.selectors.regions import region_names

MIN_FACTORIES = 3
DOMINANT = 0.5  # the largest share of the others' figure one factory may hold where it is shown
ELSEWHERE = "elsewhere"  # the key of the provinces folded together
ABROAD = "abroad"  # members outside China, whose area is their country


@dataclass(frozen=True)
class PooledWeek:
    week: dt.date
    capacity: int | None  # None: the week is withheld (see the module's rules)
    free: int | None  # what a new order could still be offered: none in a week that takes no new work
    open: bool  # the week takes new work (see `planning.first_open_day`)

    @property
    def withheld(self) -> bool:
        return self.capacity is None

    @property
    def load(self) -> float:
        """The share of the week's capacity taken (0 where there is none, or the week is withheld)."""
        if not self.capacity or self.free is None:
            return 0.0
        return min(1.0, max(0.0, 1 - self.free / self.capacity))


@dataclass(frozen=True)
class Pool:
    key: str  # the process code, or the province code (ELSEWHERE for the rest, ABROAD outside China)
    label: str
    process: Process
    factories: int
    provinces: int
    weeks: list[PooledWeek] | None  # None: withheld, too few factories

    @property
    def withheld(self) -> bool:
        return self.weeks is None


@dataclass
class _Sums:
    weeks: int
    factories: set[int] = field(default_factory=set)
    provinces: set[str] = field(default_factory=set)
    others: dict[int, int] = field(default_factory=dict)  # factories not the reader's: their declared capacity
    capacity: list[int] = field(default_factory=list)
    free: list[int] = field(default_factory=list)
    # the others' own (capacity, free room) by week and factory, which each week's rules read
    theirs: list[dict[int, tuple[int, int]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.capacity = self.capacity or [0] * self.weeks
        self.free = self.free or [0] * self.weeks
        self.theirs = self.theirs or [{} for _i in range(self.weeks)]

    def add(self, other: _Sums) -> None:
        self.factories |= other.factories
        self.provinces |= other.provinces
        for factory, declared in other.others.items():
            self.others[factory] = self.others.get(factory, 0) + declared
        for i in range(self.weeks):
            self.capacity[i] += other.capacity[i]
            self.free[i] += other.free[i]
            self.theirs[i].update(other.theirs[i])  # a factory makes a process once: its figures are in one part

    @property
    def showable(self) -> bool:
        """Enough other factories, none of them dominant, for the pool to tell no one factory's figures."""
        return len(self.others) >= MIN_FACTORIES and _spread(list(self.others.values()))

    def week_showable(self, i: int) -> bool:
        """Each figure of week `i` (capacity, free room, and what is taken, their difference) comes from none of the
        other factories, or from enough of them with none dominant."""
        pairs = self.theirs[i].values()
        return all(
            _spread(values) for values in ([c for c, _f in pairs], [f for _c, f in pairs], [c - f for c, f in pairs])
        )


def _spread(values: list[int]) -> bool:
    """Whether a sum of these tells none of them: no one above zero, or at least `MIN_FACTORIES` with none holding
    more than `DOMINANT` of the sum."""
    shares = [v for v in values if v > 0]
    return not shares or (len(shares) >= MIN_FACTORIES and max(shares) <= DOMINANT * sum(shares))


def shared_capacity_check(actor: Any) -> None:
    """Kept at the members' level, as the scorecards are."""
    if not policy.sees_member_level(actor):
        raise Forbidden(_("The cluster's shared capacity is open to members of the cluster in good standing."))


def shared_capacity(*, actor: Any, weeks: list[dt.date], process: str = "", province: str = "") -> list[Pool]:
    """Pools of active member factories' capacity over `weeks` (consecutive): one per process, or (given
    `process`) one per province. `province` narrows to the factories there."""
    shared_capacity_check(actor)
    chosen = _checked(process, province)
    caps = Capability.objects.filter(active=True, organization__status="member")
    if chosen is not None:
        caps = caps.filter(process=chosen)
    sums = _sums(caps, weeks, policy.organization_ids(actor))
    processes = {p.code: p for p in Process.objects.filter(code__in=sums)}
    opens = monday(first_open_day())
    named = region_names([province])[0] if province else ""
    if chosen is not None:
        pools = _by_province(chosen, sums.get(chosen.code, {}), weeks, opens)
        if province:
            there = _province_pool(pools, province, named, chosen, sums.get(chosen.code, {}), opens)
            pools = [there] if there else []
        return pools
    pools = []
    for code, by_area in sums.items():
        if province:
            there = _province_pool(
                _by_province(processes[code], by_area, weeks, opens), province, named, processes[code], by_area, opens
            )
            if there is not None:
                pools.append(replace(there, key=code, label=processes[code].name))
            continue
        whole = _Sums(len(weeks))
        for part in by_area.values():
            whole.add(part)
        pools.append(_pool(code, processes[code].name, processes[code], whole, weeks, opens))
    pools.sort(key=lambda p: p.label.casefold())
    return pools


def _sums(caps: QuerySet[Capability], weeks: list[dt.date], readers: set[int]) -> dict[str, dict[str, _Sums]]:
    """The capabilities' weeks summed by process and province; `readers`: the reader's own organizations."""
    rows = list(
        caps.values_list(
            "pk", "process_id", "organization_id", "organization__area_id", "weekly_capacity", "lead_weeks"
        )
    )
    ids = [pk for pk, *_rest in rows]
    held = offers_held(ids, weeks[0], weeks[-1])
    slots = slots_after_offers(ids, weeks[0], weeks[-1])
    opens, this_week = monday(first_open_day()), monday(timezone.localdate())
    sums: dict[str, dict[str, _Sums]] = defaultdict(dict)
    for pk, code, factory, area, weekly, lead in rows:
        where = area if area.isdigit() else ABROAD
        pool = sums[code].get(where) or sums[code].setdefault(where, _Sums(len(weeks)))
        pool.factories.add(factory)
        pool.provinces.add(where)
        if factory not in readers:
            pool.others[factory] = pool.others.get(factory, 0) + weekly
        # a plan gives it no work before its lead time has run, counted from today
        starts = max(opens, this_week + dt.timedelta(weeks=lead))
        for i, week in enumerate(weeks):
            slot = slots.get((pk, week))
            capacity, reserved = (slot.capacity, slot.reserved) if slot else (weekly, 0)
            # each factory's own room: one factory's over-offered week takes nothing from another's
            free = max(0, capacity - reserved - held.get((pk, i), 0)) if week >= starts else 0
            pool.capacity[i] += capacity
            pool.free[i] += free
            if factory not in readers:
                pool.theirs[i][factory] = (capacity, free)
    return sums


def _checked(process: str, province: str) -> Process | None:
    """The process asked for (None for all), once both filters are known; an unknown one is refused by name."""
    errors: dict[str, list[str]] = {}
    chosen = Process.objects.filter(code=process).first() if process else None
    if process and chosen is None:
        errors["process"] = [_("No process with code %(code)s in the catalogue.") % {"code": process[:40]}]
    if province and not Region.objects.filter(code=province, level=Region.Level.PROVINCE).exists():
        errors["province"] = [_("Not a province's code (GB/T 2260, six digits): %(code)s.") % {"code": province[:40]}]
    if errors:
        raise ValidationFailed(errors)
    return chosen


def rounded(n: int) -> int:
    """`n` (not negative) to two significant digits, half up (四舍五入): 1,234 → 1,200; 1,250 → 1,300; 87 → 87."""
    if n < 100:
        return n
    step = 10 ** (len(str(n)) - 2)
    return (n + step // 2) // step * step


def _province_pool(
    pools: list[Pool], province: str, named: str, process: Process, by_area: dict[str, _Sums], opens: dt.date
) -> Pool | None:
    """One province's pool as the pools by province show it, or withheld where they fold it into the rest (else
    the two views together would tell the rest); None where no factory there makes the process."""
    if province not in by_area:
        return None
    shown = next((p for p in pools if p.key == province), None)
    if shown is not None:
        return shown
    return _pool(province, named, process, by_area[province], [], opens)


def _pool(key: str, label: str, process: Process, sums: _Sums, weeks: list[dt.date], opens: dt.date) -> Pool:
    """The pool's figures, rounded, or none (withheld) where they could tell one factory's, or with no `weeks`; a
    week whose own figures could is withheld alone."""
    shown = None
    if sums.showable and weeks:
        shown = [
            PooledWeek(w, rounded(sums.capacity[i]), rounded(sums.free[i]), w >= opens)
            if sums.week_showable(i)
            else PooledWeek(w, None, None, w >= opens)
            for i, w in enumerate(weeks)
        ]
    return Pool(key, label, process, len(sums.factories), len(sums.provinces - {ABROAD}), shown)


def _by_province(process: Process, sums: dict[str, _Sums], weeks: list[dt.date], opens: dt.date) -> list[Pool]:
    """One pool per province that may be shown, largest first, and the rest together. Should the rest be too
    small to show (and hold others' factories), the smallest provinces shown join it until it is not: else the
    process's total, shown on the pools by process, less the provinces shown would tell it."""
    ranked = sorted(sums, key=lambda code: (-len(sums[code].others), code))
    shown = [code for code in ranked if code != ABROAD and sums[code].showable]
    rest = [code for code in ranked if code not in shown]

    def merged(codes: list[str]) -> _Sums:
        together = _Sums(len(weeks))
        for code in codes:
            together.add(sums[code])
        return together

    while rest and shown and (together := merged(rest)).others and not together.showable:
        rest.append(shown.pop())
    pools = [
        _pool(code, name, process, sums[code], weeks, opens)
        for code, name in zip(shown, region_names(shown), strict=True)
    ]
    if rest:
        if ABROAD in rest:
            label = _("Other provinces and abroad") if shown else _("All provinces and abroad")
        else:
            label = _("Other provinces") if shown else _("All provinces")
        pools.append(_pool(ELSEWHERE, label, process, merged(rest), weeks, opens))
    return pools
