"""API shapes of the virtual factory. Numbers arrive as given; the services check them and name bad fields."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.urls import reverse
from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool

from agglo.common.schemas import Day, Money, Share, StrictIn, Whole, one_of, published_required
from agglo.factory.models import Allocation, Order
from agglo.factory.selectors.orders import changed_at, progress_of, receipts_pending, sees_whole_plan
from agglo.factory.services.jobs import ACTIONS
from agglo.factory.wording import diagnosis_texts
from agglo.profiles.schemas import RowErrorOut


class ProcessOut(Schema):
    code: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    unit_one_en: str  # the singular, as a price per unit reads


class CapabilityIn(StrictIn):
    """Declares a process, or changes its terms: what a change leaves out keeps its value. A new declaration needs
    `weekly_capacity` and `unit_cost`."""

    process: str
    weekly_capacity: Whole = None
    unit_cost: Money = None
    setup_cost: Money = None
    # no defaults published: a client filling them in would reset a factory's terms on a change (review 56 #4);
    # a new declaration takes 1, 2, none and 0
    min_lot: Whole = None
    quality_grade: Whole = None
    certifications: list[str] | None = None
    lead_weeks: Whole = None
    active: StrictBool | None = None  # left out: as it is (a new capability is active)


class CapabilityOut(Schema):
    id: int
    organization_id: int
    process: str = Field(description="The process's code, as a declaration sends it.")
    process_id: str = Field(description="The same code (the name earlier answers gave it).")
    weekly_capacity: int
    unit_cost: Decimal
    setup_cost: Decimal
    min_lot: int
    quality_grade: int
    certifications: list[str]
    lead_weeks: int
    active: bool
    updated_at: dt.datetime = Field(description="The declaration last changed (its version is the `ETag`).")

    @staticmethod
    def resolve_process(obj: Any) -> str:
        return str(obj.process_id)


class WeekIn(StrictIn):
    """The service reads both, so that a bad week and a bad capacity are named in one answer."""

    model_config = ConfigDict(json_schema_extra=published_required("week", "capacity"))

    week: Day = None
    capacity: Whole = None


class SlotOut(Schema):
    capability_id: int
    week: dt.date
    capacity: int
    reserved: int
    on_offer: int = Field(description="Units open offers hold here until answered; only acceptance reserves them.")
    over_room: bool = Field(description="The open offers here are more than the room left: not all can be accepted.")


class OperationIn(StrictIn):
    process: str
    quantity: Whole
    after: list[int] = []


class OrderIn(StrictIn):
    buyer: int | None = None
    product: str
    quantity: Whole
    start_week: Day = None
    due_week: Day
    min_quality: Whole = 0
    certifications: list[str] = []
    # declared: a factory's word; on_record: a valid certificate in its profile; verified: one an operator checked
    certificates: Annotated[str, one_of(Order.Certificates)] = Order.Certificates.DECLARED.value
    max_suppliers: Whole = 3
    max_share: Share = None
    regions_only: list[str] = []
    regions_excluded: list[str] = []
    budget: Money = None
    late_penalty: Money = 0
    operations: list[OperationIn]


class StepQuantityIn(StrictIn):
    seq: Whole  # the step's number, from 1, as on entry
    quantity: Whole


class OrderAmendIn(StrictIn):
    """Only the fields sent are changed; an empty `budget`, `max_share` or region rule removes it. Other fields are
    refused. A new `quantity` scales every step's quantity in proportion (rounded up), except the steps
    `operations` gives a quantity of their own; a step's process and place in the route stay as entered."""

    due_week: Day = None  # as on entry: an ISO date
    quantity: Whole = None
    operations: list[StepQuantityIn] | None = None
    max_suppliers: Whole = None
    budget: Money = None
    late_penalty: Money = None
    max_share: Share = None
    regions_only: list[str] | None = None  # province codes, as on entry; an empty list lifts the rule
    regions_excluded: list[str] | None = None


class AcceptedPartOut(Schema):
    allocation_id: int
    factory_id: int
    factory: str
    step: int
    week: dt.date
    quantity: int
    keeps: int  # what the factory keeps of it: 0 when taken back whole
    offered_again: bool  # the same plan offers that factory the step again in other weeks

    @staticmethod
    def resolve_factory_id(part: Any) -> int:
        return int(part.factory.pk)

    @staticmethod
    def resolve_factory(part: Any) -> str:
        return str(part.factory.name)


class AmendPreviewOut(Schema):
    """What a change would do, nothing changed: the accepted work its repair takes back or cuts, and the
    plan's cost before and after (`cost_after` null: no plan fits the new terms)."""

    parts: list[AcceptedPartOut]
    cost_before: int | None
    cost_after: int | None
    weeks_late: int
    fits: bool  # false: no plan fits the new terms; the order would be found infeasible


class OperationOut(Schema):
    seq: int
    process: str = Field(description="The process's code, as the order's entry sends it.")
    process_id: str = Field(description="The same code (the name earlier answers gave it).")
    quantity: int
    after: list[int]

    @staticmethod
    def resolve_process(obj: Any) -> str:
        return str(obj.process_id)


class ProgressOut(Schema):
    delivered: int = Field(description="pieces of work delivered")
    pieces: int = Field(description="pieces of work in the current plan (a factory's part of a step in one week)")
    whole: bool = Field(description="true: of the whole plan (the buyer's view); false: of the reader's own pieces")


class OrderOut(Schema):
    id: int
    buyer_id: int
    product: str
    quantity: int
    start_week: dt.date
    due_week: dt.date
    status: Annotated[str, one_of(Order.Status)]
    plan_version: int
    plan_stats: dict[str, Any]
    diagnosis: list[str]
    operations: list[OperationOut]
    terms: dict[str, Any] | None
    # the buyer's: deliveries it has yet to confirm or dispute, and those it disputes ("done" is every step delivered)
    receipts: dict[str, int] | None = None
    # how far the plan has come: the whole plan's pieces for the buyer, a factory's own for a factory
    progress: ProgressOut | None = None
    updated_at: dt.datetime = Field(description="The order's own record (status, terms, plan version) last changed.")
    changed_at: dt.datetime | None = Field(
        None, description="The order or any of its work you see last changed: what `updated_after` compares."
    )

    @staticmethod
    def resolve_operations(obj: Any) -> list[Any]:
        return list(obj.operations.all())

    @staticmethod
    def resolve_changed_at(obj: Any, context: dict[str, Any]) -> Any:
        return changed_at(context["request"].auth, obj)

    # What the buyer may change (`PATCH`) and what the plan must meet; the buyer's, like the plan's costs.
    @staticmethod
    def resolve_terms(obj: Any, context: dict[str, Any]) -> dict[str, Any] | None:
        # what a factory must meet it reads, as the order page's "factories must meet" says it; the buyer's budget,
        # penalty and supplier rules are the buyer's (review 96: the page and the API said different things)
        must_meet = {
            "min_quality": obj.min_quality,
            "certifications": obj.certifications,
            "certificates": obj.certificates,
            "regions_only": obj.regions_only,
            "regions_excluded": obj.regions_excluded,
        }
        if not sees_whole_plan(context["request"].auth, obj):
            return must_meet
        return {
            "max_suppliers": obj.max_suppliers,
            "budget": None if obj.budget is None else str(obj.budget),
            "late_penalty": str(obj.late_penalty),
            "max_share": None if obj.max_share is None else str(obj.max_share),
            **must_meet,
        }

    @staticmethod
    def resolve_progress(obj: Any, context: dict[str, Any]) -> Any:
        return progress_of(context["request"].auth, obj)

    @staticmethod
    def resolve_receipts(obj: Any, context: dict[str, Any]) -> dict[str, int] | None:
        return receipts_pending(obj) if sees_whole_plan(context["request"].auth, obj) else None

    # The plan's costs and its diagnosis (which speaks of other factories' free capacity) are the buyer's.
    @staticmethod
    def resolve_plan_stats(obj: Any, context: dict[str, Any]) -> dict[str, Any]:
        return obj.plan_stats if sees_whole_plan(context["request"].auth, obj) else {}

    @staticmethod
    def resolve_diagnosis(obj: Any, context: dict[str, Any]) -> list[str]:
        if obj.status == "cancelled" or sees_whole_plan(context["request"].auth, obj):  # a cancellation's reason
            return diagnosis_texts(obj)
        return []


class AllocationOut(Schema):
    id: int
    order_id: int
    step: int
    process: str
    factory_id: int
    factory: str = Field(description="The factory's name (as the plan file gives it), in the reader's language.")
    week: dt.date
    promised_week: dt.date | None = Field(
        description="The week the factory promised on accepting (null until then): a reported delay moves `week`, "
        "not this; the scorecards' on-time rate counts against it."
    )
    quantity: int
    unit_cost: Decimal
    status: Annotated[str, one_of(Allocation.Status)]
    plan_version: int
    respond_by: dt.datetime
    counter_quantity: int | None
    offered_quantity: int | None = Field(
        None, description="a counter-offer the buyer took: the quantity offered before it"
    )
    # a decline of every week of the step (else of this offer's week only)
    declined_step: bool
    note: str
    # accepted work a re-plan took away: what set it off (plan, amended, declined, counter, withdrawn, delayed, expired)
    moved_by: Annotated[str, one_of(Allocation.MovedBy, blank=True)]
    # work under way: a re-plan never moves it
    started: bool
    quantity_done: int
    defects: int
    delivered_on: dt.date | None
    receipt: Annotated[str, one_of(Allocation.Receipt, blank=True)]
    defects_found: int | None
    dispute_reason: str
    dispute_reply: str
    # when the buyer or the factory asked the platform to decide the dispute, and the operator's reasons
    dispute_referred_at: dt.datetime | None
    # until when the factory may answer a referred dispute before the platform may rule without its answer
    dispute_answer_by: dt.datetime | None
    dispute_ruling: str
    # the key of the keyed digests under which this work's free text is on the transparency log
    text_key: str
    # on the job board, for an open offer: what the factory's week can still take now (only acceptance reserves)
    free_now: int | None = None
    updated_at: dt.datetime = Field(description="This piece of work last changed: what `updated_after` compares.")

    @staticmethod
    def resolve_step(obj: Any) -> int:
        return int(obj.operation.seq)

    @staticmethod
    def resolve_process(obj: Any) -> str:
        return str(obj.operation.process_id)

    @staticmethod
    def resolve_factory(obj: Any) -> str:
        return str(obj.factory.name)

    @staticmethod
    def resolve_respond_by(obj: Any) -> dt.datetime:
        """In UTC always: a deadline just set is in the server's zone, one read back from the database in UTC."""
        return obj.respond_by.astimezone(dt.UTC)


class OfferAnswerIn(StrictIn):
    action: Annotated[str, one_of(ACTIONS)]
    quantity: Whole = None
    note: str = ""
    # with "decline": not this step in any week (else only the offer's week is turned down)
    whole_step: StrictBool = False


class OffersAcceptIn(StrictIn):
    """The factory (one of the caller's organizations) whose open offers on the order are all accepted; `offers`,
    the ids of the offers the caller read: none is accepted unless exactly these are open."""

    model_config = ConfigDict(json_schema_extra=published_required("factory"))

    factory: Whole = None
    offers: list[Whole] | None = None


class WithdrawIn(StrictIn):
    reason: str


class DelayIn(StrictIn):
    """Both are required: the service says so beside any other fault of the report, all in one answer."""

    model_config = ConfigDict(json_schema_extra=published_required("weeks", "reason"))

    weeks: Whole = None
    reason: str = ""


class ProgressIn(StrictIn):
    started: StrictBool | None = None  # left out (or false): not reported; work cannot be "unstarted"
    quantity_done: Whole = None
    defects: Whole = None
    delivered_on: Day = None


class ReceiptIn(StrictIn):
    confirm: StrictBool
    defects_found: Whole = None
    note: str = ""


class DisputeReplyIn(StrictIn):
    reply: str


class DisputeRulingIn(StrictIn):
    """An operator's ruling on a referred dispute: `upheld` true for the buyer, false for the factory."""

    upheld: StrictBool | None = None
    defects_found: Whole = None  # the defects the platform finds proven; left out, the factory's report stands
    ruling: str = ""


class CancelIn(StrictIn):
    reason: str


class CounterDecisionIn(StrictIn):
    accept: StrictBool


class PooledWeekOut(Schema):
    week: dt.date
    capacity: int | None = Field(description="Null where the week is withheld (too few factories in it).")
    free: int | None = Field(
        description="What a new order could still be offered: each factory's room, summed; 0 in a week that takes "
        "no new work and before a factory's lead time. Null where the week is withheld."
    )
    open: bool = Field(description="Whether the week takes new work.")
    withheld: bool


class PoolOut(Schema):
    key: str = Field(description="The process code, the province code, or `elsewhere` for provinces pooled together.")
    name: str
    process: str
    unit: str
    factories: int
    provinces: int
    withheld: bool = Field(
        description="Fewer than `min_factories` factories here (or in the provinces not listed): no figures."
    )
    weeks: list[PooledWeekOut] | None

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return obj.label

    @staticmethod
    def resolve_process(obj: Any) -> str:
        return obj.process.code

    @staticmethod
    def resolve_unit(obj: Any) -> str:
        return str(obj.process.unit)


class SharedCapacityOut(Schema):
    weeks: list[dt.date]
    min_factories: int
    pools: list[PoolOut]


RISK_DIGITS = 4  # a probability or a rate to 0.0001, a hundredth of a percentage point: the page shows tenths of one


class ScorecardOut(Schema):
    organization_id: int
    name: str
    jobs: int  # delivered, withdrawn after acceptance, or reported late and then re-planned without the factory
    withdrawn: int
    taken: int  # reported late, then re-planned without the factory (not made, not on time)
    on_time_rate: float | None = Field(
        description=f"Of the work settled, the share delivered on time, 0 to 1 (null: none yet), rounded to "
        f"{RISK_DIGITS} decimal places."
    )
    defect_rate: float | None = Field(
        description=f"The share of the delivered work's value found defective, 0 to 1 (null: none delivered), "
        f"rounded to {RISK_DIGITS} decimal places."
    )
    risk: float = Field(
        description=f"The chance of failing a job, 0 to 1, which the solver counts as risk when it plans: rounded to "
        f"{RISK_DIGITS} decimal places (0.045, not 0.045000000000000005); the solver reads it unrounded."
    )
    confirmed: int  # deliveries the buyer confirmed, or for which the platform dismissed a dispute
    disputed: int  # disputes still open
    upheld: int  # disputes the platform decided for the buyer

    # rounded where they are published (review 113: 0.30000000000000004), not in the selector or factory.risk,
    # whose full precision the solver's costs take
    @staticmethod
    def resolve_risk(obj: Any) -> float:
        return round(obj.risk, RISK_DIGITS)

    @staticmethod
    def resolve_on_time_rate(obj: Any) -> float | None:
        return None if obj.on_time_rate is None else round(obj.on_time_rate, RISK_DIGITS)

    @staticmethod
    def resolve_defect_rate(obj: Any) -> float | None:
        return None if obj.defect_rate is None else round(obj.defect_rate, RISK_DIGITS)


class CalendarImportOut(Schema):
    """What a capacity calendar file did (or, in a dry run, would do); `errors` lists the first 1,000 problems,
    `errors_total` counts them all."""

    dry_run: bool
    applied: bool
    rows: int
    changed: int
    unchanged: int
    errors: list[RowErrorOut]
    errors_total: int


class OrderDocumentOut(Schema):
    id: int
    order_id: int
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    url: str = Field(description="The file, through the API (`GET /factory/documents/{id}`): a token reads it too.")

    @staticmethod
    def resolve_url(obj: Any) -> str:
        # the page's address answered a token with the login page (review 112)
        return reverse("api:order_document", kwargs={"document_id": obj.pk})
