"""The cluster's shared capacity: member factories' weekly capacity pooled by process, or by province for one
process, with what accepted work reserves and open offers hold. A buyer reads it before choosing a due week; the
government reads it as the cluster's production picture.

A pool of fewer than `MIN_FACTORIES` factories is withheld: its figures would be one or two factories' own
calendars, which are theirs to show. Where provinces are listed, a withheld remainder is not left to be worked out
as the process's total less the provinces shown (the smallest are folded into it until it is big enough)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.factory.models import Capability, Process
from agglo.factory.selectors.planning import first_open_day, offers_held, slots_after_offers
from agglo.factory.weeks import monday
from agglo.registry.models import Region

MIN_FACTORIES = 3
ELSEWHERE = "elsewhere"  # the key of the provinces folded together


@dataclass(frozen=True)
class PooledWeek:
    week: dt.date
    capacity: int
    reserved: int  # by accepted work
    on_offer: int  # held by open offers until answered
    free: int  # what a new order could still be offered: none in a week that takes no new work
    open: bool  # the week takes new work (see `planning.first_open_day`)

    @property
    def load(self) -> float:
        """The share of the week's capacity reserved or on offer (0 where there is none)."""
        return min(1.0, (self.reserved + self.on_offer) / self.capacity) if self.capacity else 0.0


@dataclass(frozen=True)
class Pool:
    key: str  # the process code, or the province code (ELSEWHERE for the rest)
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
    factories: set[int]
    provinces: set[str]
    capacity: list[int]
    reserved: list[int]
    on_offer: list[int]
    free: list[int]

    @classmethod
    def empty(cls, weeks: int) -> _Sums:
        return cls(set(), set(), [0] * weeks, [0] * weeks, [0] * weeks, [0] * weeks)

    def add(self, other: _Sums) -> None:
        self.factories |= other.factories
        self.provinces |= other.provinces
        for mine, theirs in (
            (self.capacity, other.capacity),
            (self.reserved, other.reserved),
            (self.on_offer, other.on_offer),
            (self.free, other.free),
        ):
            for i, n in enumerate(theirs):
                mine[i] += n


def shared_capacity(
    *, actor: Any, weeks: list[dt.date], process: str = "", province: str = ""
) -> tuple[list[Pool], list[dt.date]]:
    """Pools of active member factories' capacity over `weeks` (consecutive): one per process, or (given
    `process`) one per province. `province` narrows to the factories there. Kept at the members' level, as the
    scorecards are. Returns the pools and the weeks that take no new work."""
    if not policy.sees_member_level(actor):
        raise Forbidden(_("The cluster's shared capacity is open to members of the cluster in good standing."))
    chosen = _checked(process, province)
    caps = Capability.objects.filter(active=True, organization__status="member")
    if chosen is not None:
        caps = caps.filter(process=chosen)
    sums = _sums(caps, weeks)
    processes = {p.code: p for p in Process.objects.filter(code__in=sums)}
    opens = monday(first_open_day())
    closed = [w for w in weeks if w < opens]
    if chosen is not None:
        pools = _by_province(chosen, sums.get(chosen.code, {}), weeks, opens)
        if province:
            pools = [p for p in [_province_pool(pools, province, chosen, sums.get(chosen.code, {}), opens)] if p]
        return pools, closed
    pools = []
    for code, by_area in sums.items():
        if province:
            there = _province_pool(
                _by_province(processes[code], by_area, weeks, opens), province, processes[code], by_area, opens
            )
            if there is not None:
                pools.append(replace(there, key=code, label=processes[code].name))
            continue
        whole = _Sums.empty(len(weeks))
        for part in by_area.values():
            whole.add(part)
        pools.append(_pool(code, processes[code].name, processes[code], whole, weeks, opens))
    pools.sort(key=lambda p: p.label)
    return pools, closed


def _sums(caps: QuerySet[Capability], weeks: list[dt.date]) -> dict[str, dict[str, _Sums]]:
    """The capabilities' weeks summed by process and province."""
    rows = list(caps.values_list("pk", "process_id", "organization_id", "organization__area_id", "weekly_capacity"))
    ids = [pk for pk, *_rest in rows]
    held = offers_held(ids, weeks[0], weeks[-1])
    slots = slots_after_offers(ids, weeks[0], weeks[-1])
    opens = monday(first_open_day())
    sums: dict[str, dict[str, _Sums]] = defaultdict(dict)
    for pk, code, factory, area, weekly in rows:
        pool = sums[code].get(area) or sums[code].setdefault(area, _Sums.empty(len(weeks)))
        pool.factories.add(factory)
        pool.provinces.add(area)
        for i, week in enumerate(weeks):
            slot = slots.get((pk, week))
            capacity, reserved = (slot.capacity, slot.reserved) if slot else (weekly, 0)
            on_offer = held.get((pk, i), 0)
            pool.capacity[i] += capacity
            pool.reserved[i] += reserved
            pool.on_offer[i] += on_offer
            # each factory's own room: one factory's over-offered week takes nothing from another's
            pool.free[i] += max(0, capacity - reserved - on_offer) if week >= opens else 0
    return sums


def _checked(process: str, province: str) -> Process | None:
    """The process asked for (None for all), once both filters are known; an unknown one is refused by name."""
    errors: dict[str, list[str]] = {}
    chosen = Process.objects.filter(code=process).first() if process else None
    if process and chosen is None:
        errors["process"] = [_("No process with code %(code)s in the catalogue.") % {"code": process}]
    if province and not Region.objects.filter(code=province, level=Region.Level.PROVINCE).exists():
        errors["province"] = [_("Not a province's code (GB/T 2260, six digits): %(code)s.") % {"code": province}]
    if errors:
        raise ValidationFailed(errors)
    return chosen


def _province_pool(
    pools: list[Pool], province: str, process: Process, by_area: dict[str, _Sums], opens: dt.date
) -> Pool | None:
    """One province's pool as the pools by province show it, or withheld where they fold it into the rest (else
    the two views together would tell the rest); None where no factory there makes the process."""
    if province not in by_area:
        return None
    shown = next((p for p in pools if p.key == province), None)
    if shown is not None:
        return shown
    region = Region.objects.filter(code=province).first()
    return _pool(province, region.name if region else province, process, by_area[province], [], opens)


def _pool(key: str, label: str, process: Process, sums: _Sums, weeks: list[dt.date], opens: dt.date) -> Pool:
    """The pool's figures, or none (withheld) when fewer than `MIN_FACTORIES` factories or no `weeks`."""
    shown = None
    if len(sums.factories) >= MIN_FACTORIES and weeks:
        shown = [
            PooledWeek(w, sums.capacity[i], sums.reserved[i], sums.on_offer[i], sums.free[i], w >= opens)
            for i, w in enumerate(weeks)
        ]
    return Pool(key, label, process, len(sums.factories), len(sums.provinces), shown)


def _by_province(process: Process, sums: dict[str, _Sums], weeks: list[dt.date], opens: dt.date) -> list[Pool]:
    """One pool per province big enough to show, largest first, and the rest together. Should the rest be too
    small to show, the smallest provinces shown join it until it is not: else the process's total, shown on the
    pools by process, less the provinces shown would tell it."""
    ranked = sorted(sums, key=lambda code: (-len(sums[code].factories), code))
    shown = [code for code in ranked if len(sums[code].factories) >= MIN_FACTORIES]
    rest = [code for code in ranked if code not in shown]
    while rest and shown and len(set().union(*(sums[c].factories for c in rest))) < MIN_FACTORIES:
        rest.append(shown.pop())
    names = {r.code: r.name for r in Region.objects.filter(code__in=shown)}
    pools = [_pool(code, names.get(code, code), process, sums[code], weeks, opens) for code in shown]
    if rest:
        merged = _Sums.empty(len(weeks))
        for code in rest:
            merged.add(sums[code])
        label = _("Other provinces") if shown else _("All provinces")
        pools.append(_pool(ELSEWHERE, label, process, merged, weeks, opens))
    return pools
