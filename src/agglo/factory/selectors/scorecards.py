"""Per-factory scorecards from executed work: on-time rate and defect rate, which the solver turns into risk."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Case, Count, DateField, F, Func, Q, Sum, When
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
    return sorted(cards.values(), key=lambda c: (-c.jobs, c.name, c.organization_id))


class WeekEnd(Func):
    """The Sunday of a week given by its Monday, in SQL. Django's own date arithmetic calls a Python function per
    row on SQLite (it doubled the time of the sums); SQLite's date() and PostgreSQL's date + integer do not."""

    output_field = DateField()
    template = "(%(expressions)s + 6)"  # PostgreSQL: a date plus days is a date

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, template="date(%(expressions)s, '+6 days')", **extra)


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
    # one row per factory and capacity unit, summed by the database: the record grows with every delivery, and
    # a page, an API call and every plan read it (review 104: 10,700 deliveries took 200 ms row by row)
    delivered = Q(status=Allocation.Status.DELIVERED)
    due = WeekEnd(Coalesce("promised_week", "week"))
    punctual = delivered & Q(delivered_on__isnull=False, delivered_on__lte=due)
    failed = (Allocation.Receipt.DISPUTED, Allocation.Receipt.UPHELD)
    # the buyer's inspection, or the platform's finding, where one was given; else the factory's report
    bad = Case(When(Q(defects_found__isnull=False, receipt__in=DECIDED), then=F("defects_found")), default=F("defects"))
    rows = (
        qs.order_by()
        .values(
            "factory_id",
            "factory__name_zh",
            "factory__name_en",
            "operation__process__unit_zh",
            "operation__process__unit_en",
        )
        .annotate(
            jobs=Count("pk"),
            made=Count("pk", filter=delivered),
            withdrawn=Count("pk", filter=Q(status=Allocation.Status.WITHDRAWN)),
            on_time=Count("pk", filter=punctual & ~Q(receipt__in=failed)),
            unsettled=Count("pk", filter=punctual & Q(receipt=Allocation.Receipt.DISPUTED)),
            units=Coalesce(Sum("quantity_done", filter=delivered), 0),
            # not `defects`: an annotation of a field's name would hide the field from `bad`
            defective=Coalesce(Sum(bad, filter=delivered), 0),
            value=Sum(F("quantity_done") * F("unit_cost"), filter=delivered),
            defect_value=Sum(bad * F("unit_cost"), filter=delivered),
            # a dispute the platform dismissed is a receipt settled for the factory, as a buyer's confirmation is
            confirmed=Count(
                "pk",
                filter=delivered & Q(receipt__in=(Allocation.Receipt.CONFIRMED, Allocation.Receipt.DISMISSED)),
            ),
            disputed=Count("pk", filter=delivered & Q(receipt=Allocation.Receipt.DISPUTED)),
            upheld=Count("pk", filter=delivered & Q(receipt=Allocation.Receipt.UPHELD)),
        )
        .order_by("factory_id", "operation__process__unit_zh", "operation__process__unit_en")
    )
    tally: dict[int, dict[str, Any]] = {}
    by_unit: dict[int, dict[str, tuple[int, int]]] = {}
    for r in rows:
        factory = r["factory_id"]
        row = tally.setdefault(
            factory,
            {"name": in_language(r["factory__name_zh"], r["factory__name_en"]), "jobs": 0, "on_time": 0}
            | {"units": 0, "defects": 0, "confirmed": 0, "disputed": 0, "unsettled": 0}
            | {"value": 0.0, "defect_value": 0.0, "withdrawn": 0, "taken": 0, "upheld": 0},
        )
        units = by_unit.setdefault(factory, {})
        # work never made (withdrawn, or taken by a repair after a delay) counts as a job and in no unit
        row["taken"] += r["jobs"] - r["made"] - r["withdrawn"]
        for key in ("jobs", "withdrawn", "on_time", "unsettled", "units", "confirmed", "disputed", "upheld"):
            row[key] += r[key]
        row["defects"] += r["defective"]
        row["value"] += float(r["value"] or 0)
        row["defect_value"] += float(r["defect_value"] or 0)
        if r["made"]:
            unit = in_language(r["operation__process__unit_zh"], r["operation__process__unit_en"])
            n, n_bad = units.get(unit, (0, 0))
            units[unit] = (n + r["units"], n_bad + r["defective"])
    return {
        f: Scorecard(organization_id=f, **row, by_unit=tuple((u, *t) for u, t in sorted(by_unit[f].items())))
        for f, row in tally.items()
    }
