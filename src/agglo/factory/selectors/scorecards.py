"""Per-factory scorecards from executed work: on-time rate and defect rate, which the solver turns into risk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.errors import Forbidden
from agglo.factory.models import Allocation
from agglo.factory.risk import failure_risk
from agglo.profiles.selectors.trust import trust_facts
from agglo.registry.models.bilingual import in_language


@dataclass(frozen=True)
class Scorecard:
    organization_id: int
    name: str
    jobs: int  # work on record: delivered, accepted and then withdrawn, or reported late and then taken away
    on_time: int
    units: int
    defects: int

    @property
    def timed(self) -> int:
        """The work on record whose punctuality is settled: a delivery made in time but under a dispute still open
        waits for its ruling (upheld: a failed delivery; dismissed: on time); a late one is late whatever the ruling."""
        return self.jobs - self.unsettled

    @property
    def on_time_rate(self) -> float | None:
        """Of the work the factory accepted and has delivered, withdrawn or lost by a delay, the share delivered on
        time: work given back after acceptance is a promise not kept, as a late delivery is."""
        return self.on_time / self.timed if self.timed else None

    @property
    def delivered(self) -> int:
        return self.jobs - self.withdrawn - self.taken

    @property
    def defect_rate(self) -> float | None:
        """The share of the delivered work's value found defective: units of different processes (machine-hours,
        square metres …) do not add up, their value does. Where no delivered work has a price, units count."""
        if self.value:
            return self.defect_value / self.value
        return self.defects / self.units if self.units else None

    value: float = 0.0  # delivered units at their unit cost
    defect_value: float = 0.0  # defective units at their unit cost
    grade: str | None = None
    confirmed: int = 0  # deliveries the buyer confirmed as received, or for which the platform dismissed a dispute
    withdrawn: int = 0  # accepted work the factory gave back
    taken: int = 0  # accepted work the factory reported late, which a re-plan then planned without it
    disputed: int = 0  # disputes still open
    unsettled: int = 0  # of those, deliveries made in time: on time or not as the dispute ends
    upheld: int = 0  # disputes the platform decided for the buyer
    # (unit, delivered, defective) per capacity unit (machine-hours, square metres …), in the reader's language: a
    # page should not show 130 m² and 300 sets as 430
    by_unit: tuple[tuple[str, int, int], ...] = ()

    @property
    def defect_pct(self) -> float | None:
        rate = self.defect_rate
        return None if rate is None else 100 * rate

    @property
    def risk(self) -> float:
        """Chance of failing a job, from the credit grade and this record (factory.risk): the settled part of it, so
        that a dispute still open neither helps nor harms the factory yet."""
        return failure_risk(self.grade, self.timed, self.on_time_rate, self.defect_rate)

    @property
    def risk_pct(self) -> float:
        return 100 * self.risk


def scorecard_list(*, actor: Any) -> list[Scorecard]:
    """The scorecards of organizations in good standing, most delivered first: kept at the members' level (members
    in good standing, government officers, operators and auditors): a trust signal inside the cluster, not a public
    page."""
    if not policy.sees_member_level(actor):
        raise Forbidden(_("Scorecards are open to members of the cluster in good standing."))
    cards = scorecards(member_only=True)
    # the credit grade counts in the risk as the solver reads it, so the page shows both
    for org_id, facts in trust_facts(cards).items():
        cards[org_id] = replace(cards[org_id], grade=facts.grade)
    return sorted(cards.values(), key=lambda c: (-c.jobs, c.name))


# re-plans the buyer's own choices set off: the work they take from a factory is not the factory's failure. A
# "plan again" is not among them: it is how a buyer answers a delay, so the delay stays on the record.
BUYER_MOVES = (
    Allocation.MovedBy.AMENDED,
    Allocation.MovedBy.COUNTER,
    Allocation.MovedBy.CANCELLED,
)
# receipts whose defect count, where one was given, replaces the factory's report
DECIDED = (Allocation.Receipt.CONFIRMED, Allocation.Receipt.UPHELD, Allocation.Receipt.DISMISSED)


def scorecards(organization_ids: Iterable[int] | None = None, *, member_only: bool = False) -> dict[int, Scorecard]:
    """Work on record per factory: delivered, or accepted and then withdrawn or reported late and then re-planned
    without it (both never on time; work a re-plan the buyer set off took does not count). On time means
    delivered by the Sunday of the week promised on acceptance (a reported delay moves the work, not the promise)
    and not found failed by a dispute the platform upheld (one the buyer settled counts as the confirmation it
    ended in, one the platform dismissed as delivered; one still open on a delivery made in time counts in neither,
    see `timed`); defects are the buyer's inspection where it confirmed receipt, or the platform's finding where it
    ruled with one, else the factory's report. Work a member made for its own order is left out: no other party
    checked it, and the record lowers the risk other buyers' plans see."""
    # the promise broken by a delay stands when the repair takes the late work away (the late part is not made);
    # not when the buyer's own change took it (new terms, a counter-offer decided, cancelling)
    lost_late = Q(status=Allocation.Status.SUPERSEDED, promised_week__isnull=False, week__gt=F("promised_week")) & ~Q(
        moved_by__in=BUYER_MOVES
    )
    qs = Allocation.objects.filter(
        Q(status__in=(Allocation.Status.DELIVERED, Allocation.Status.WITHDRAWN)) | lost_late
    ).exclude(factory_id=F("order__buyer_id"))
    if organization_ids is not None:
        qs = qs.filter(factory_id__in=list(organization_ids))
    if member_only:
        qs = qs.filter(factory__status__in=policy.PUBLIC_ORG_STATUSES)
    tally: dict[int, dict[str, Any]] = {}
    rows = qs.values_list(
        "factory_id",
        "factory__name_zh",
        "factory__name_en",
        Coalesce("promised_week", "week"),
        "delivered_on",
        "quantity_done",
        "defects",
        "receipt",
        "defects_found",
        "operation__process__unit_zh",
        "operation__process__unit_en",
        "unit_cost",
        "status",
    )
    by_unit: dict[int, dict[str, tuple[int, int]]] = {}
    for (
        factory,
        name_zh,
        name_en,
        week,
        delivered,
        done,
        defects,
        receipt,
        found,
        unit_zh,
        unit_en,
        cost,
        status,
    ) in rows:
        name = in_language(name_zh, name_en)
        row = tally.setdefault(
            factory,
            {"name": name, "jobs": 0, "on_time": 0, "units": 0, "defects": 0, "confirmed": 0, "disputed": 0}
            | {"unsettled": 0}
            | {"value": 0.0, "defect_value": 0.0, "withdrawn": 0, "taken": 0, "upheld": 0},
        )
        by_unit.setdefault(factory, {})
        if status != Allocation.Status.DELIVERED:  # nothing of it was made (withdrawing takes that; so does a repair)
            row["jobs"] += 1
            row["withdrawn" if status == Allocation.Status.WITHDRAWN else "taken"] += 1
            continue
        # a dispute the platform dismissed is a receipt settled for the factory, as a buyer's confirmation is
        confirmed = receipt in (Allocation.Receipt.CONFIRMED, Allocation.Receipt.DISMISSED)
        disputed = receipt == Allocation.Receipt.DISPUTED
        upheld = receipt == Allocation.Receipt.UPHELD
        bad = found if found is not None and receipt in DECIDED else defects
        units = by_unit[factory]
        unit = in_language(unit_zh, unit_en)
        n, n_bad = units.get(unit, (0, 0))
        units[unit] = (n + done, n_bad + bad)
        row["jobs"] += 1
        punctual = delivered is not None and delivered <= week + dt.timedelta(days=6)
        row["on_time"] += punctual and not (disputed or upheld)
        row["unsettled"] += punctual and disputed
        row["units"] += done
        row["defects"] += bad
        row["value"] += done * float(cost or 0)
        row["defect_value"] += bad * float(cost or 0)
        row["confirmed"] += confirmed
        row["disputed"] += disputed
        row["upheld"] += upheld
    return {
        f: Scorecard(organization_id=f, **row, by_unit=tuple((u, *t) for u, t in sorted(by_unit[f].items())))
        for f, row in tally.items()
    }
