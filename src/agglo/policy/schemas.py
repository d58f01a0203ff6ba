"""API shapes of the policy app."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.urls import reverse
from ninja import Field, Schema
from pydantic import ConfigDict, WithJsonSchema

from agglo.common.schemas import Day, Money, StrictIn, Whole, one_of, published_required
from agglo.policy.grants import BASES
from agglo.policy.models import Application, Policy, PolicyNeed

Rate = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [{"type": "number"}, {"type": "string"}],
            "description": "a percentage of a sum of money, or yuan per unit of a count, above 0, to four decimals",
        }
    ),
]


class PolicyIn(StrictIn):
    """A new policy: the fields published as required are left optional here, so that the service names a missing
    one with the draft's other faults (so do NeedIn and the calculators). A title is required in either language."""

    model_config = ConfigDict(json_schema_extra=published_required("kind", "starts_on", "rule"))

    kind: Annotated[Any, one_of(Policy.Kind)] = None
    title_zh: str = ""
    title_en: str = ""
    summary_zh: str = ""
    summary_en: str = ""
    region_scope: list[str] = []
    starts_on: Day = None
    ends_on: Day = None
    budget: Money = None
    rule: str = ""
    auto_grant: bool = False
    # each grant by formula: `grant_rate` percent of a sum of money, or yuan per unit of a count, at most `grant_cap`
    grant_basis: Annotated[str, one_of(BASES, blank=True)] = ""
    grant_rate: Rate = None
    grant_cap: Money = None


class PolicyPatch(StrictIn):
    kind: Annotated[str, one_of(Policy.Kind)] | None = None
    title_zh: str | None = None
    title_en: str | None = None
    summary_zh: str | None = None
    summary_en: str | None = None
    region_scope: list[str] | None = None
    starts_on: Day = None
    ends_on: Day = None
    budget: Money = None
    rule: str | None = None
    auto_grant: bool | None = None
    grant_basis: Annotated[str, one_of(BASES, blank=True)] | None = None  # "" drops the formula (with rate and cap "")
    grant_rate: Rate = None
    grant_cap: Money = None


class PolicyOut(Schema):
    id: int
    issuer_id: int
    kind: Annotated[str, one_of(Policy.Kind)]
    title_zh: str
    title_en: str
    summary_zh: str
    summary_en: str
    region_scope: list[str]
    starts_on: dt.date
    ends_on: dt.date | None
    budget: Decimal | None
    rule: str
    auto_grant: bool
    grant_basis: str
    grant_rate: Decimal | None
    grant_cap: Decimal | None
    status: Annotated[str, one_of(Policy.Status)]
    published_at: dt.datetime | None


class ClauseOut(Schema):
    zh: str
    en: str
    passed: bool
    needed: bool = True  # false: a failed alternative of an `or` the firm meets otherwise, so not missing
    either: bool = False  # on its own an alternative of an `or` that fails: meeting it would do
    yours: str | None  # the firm's value, in Chinese; null where the firm does not disclose its group to you
    yours_en: str | None = ""  # and in English


class MatchOut(Schema):
    organization_id: int
    eligible: bool
    missing: int
    clauses: list[ClauseOut]

    @staticmethod
    def resolve_clauses(obj: Any) -> list[dict[str, Any]]:
        return obj.explained


class EligibilityOut(Schema):
    organization_id: int
    eligible: bool  # in the policy's regions, and meeting its rule
    in_scope: bool = True  # false: outside the policy's regions, whatever the rule says
    clauses: list[ClauseOut]


class ApplicationIn(StrictIn):
    organization_id: int
    note: str = ""


class GrantIn(StrictIn):
    amount: Money = None


class DecisionIn(StrictIn):
    grant: bool
    reason: str = ""
    amount: Money = None


class ApplicationDocumentOut(Schema):
    id: int
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    url: str = Field(description="The file, through the API (`GET /application-documents/{id}`): a token reads it too.")

    @staticmethod
    def resolve_url(obj: Any) -> str:
        # the page's address answered a token with the login page (review 112)
        return reverse("api:application_document", kwargs={"document_id": obj.pk})


class PaymentIn(StrictIn):
    amount: Money
    paid_on: Day
    reference: str = ""  # the transfer or voucher number (on the log only by digest)


class PaymentOut(Schema):
    id: int
    application_id: int
    amount: Decimal
    paid_on: dt.date
    reference: str
    recorded_at: dt.datetime


class ApplicationOut(Schema):
    id: int
    policy_id: int
    organization_id: int
    note: str
    status: Annotated[str, one_of(Application.Status)]
    amount: Decimal | None
    reason: str
    automatic: bool
    created_at: dt.datetime
    decided_at: dt.datetime | None
    documents: list[ApplicationDocumentOut]  # the materials sent with it
    payments: list[PaymentOut]  # what the agency paid of the granted amount, oldest first
    paid: Decimal  # their sum
    # the key that seals this grant's sums on the public log where a formula reckons them on a figure the member
    # may withhold (empty otherwise): the agency and the member check the entries with it
    text_key: str

    @staticmethod
    def resolve_documents(obj: Any) -> list[Any]:
        return list(obj.documents.all())

    @staticmethod
    def resolve_payments(obj: Any) -> list[Any]:
        return list(obj.payments.all())


class NeedIn(StrictIn):
    model_config = ConfigDict(json_schema_extra=published_required("topic", "text"))

    organization_id: int
    topic: Annotated[Any, one_of(PolicyNeed.Topic)] = None
    text: str = ""
    segment: str = ""


class NeedAnswerIn(StrictIn):
    answer: str
    policy_id: int | None = None


class NeedOut(Schema):
    id: int
    organization_id: int
    topic: Annotated[str, one_of(PolicyNeed.Topic)]
    segment_id: int | None
    area_id: str
    text: str
    created_at: dt.datetime
    answer: str
    answered_by_id: int | None
    answered_at: dt.datetime | None
    policy_id: int | None


class AnsweredNeedOut(Schema):
    """A need as government answered it in public: no organization."""

    id: int
    topic: Annotated[str, one_of(PolicyNeed.Topic)]
    segment_id: int | None
    area_id: str
    text: str
    answer: str
    answered_by_id: int | None
    answered_at: dt.datetime
    policy_id: int | None


class TechSmeIn(StrictIn):
    """Figures for the technology-based SME evaluation; checked field by field by the calculator."""

    model_config = ConfigDict(
        json_schema_extra=published_required(
            "staff", "tech_staff", "revenue", "total_assets", "rd_expense", "total_cost", "ip_class_i", "ip_class_ii"
        )
    )

    staff: Whole = None
    tech_staff: Whole = None
    revenue: Money = None
    total_assets: Money = None
    rd_expense: Money = None
    total_cost: Money = None
    ip_class_i: Whole = None
    ip_class_ii: Whole = None
    high_tech_enterprise: bool = False
    national_award_top3: bool = False
    provincial_rd_institution: bool = False
    led_standard: bool = False


class TechSmeOut(Schema):
    eligible: bool
    score: int
    staff_points: int
    rd_points: int
    ip_points: int
    within_size_limits: bool
    directly_confirmed: bool
    reasons: list[str]
    source: str


class DeductionIn(StrictIn):
    model_config = ConfigDict(json_schema_extra=published_required("expensed", "year"))

    expensed: Money = None
    amortisation: Money = None
    year: Whole = None
    industry: str = ""
    ic_or_machine_tool: bool = False


class DeductionOut(Schema):
    additional: Decimal
    expensed_rate: Decimal
    amortised_rate: Decimal
    reason: str
    source: str


class DocumentOut(Schema):
    id: int
    policy_id: int
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    url: str = Field(description="The file, through the API (`GET /policy-documents/{id}`): a token reads it too.")

    @staticmethod
    def resolve_url(obj: Any) -> str:
        # the page's address answered a token with the login page for a draft's file (review 112)
        return reverse("api:document_download", kwargs={"document_id": obj.pk})


class GrantedOut(Schema):
    granted: int = Field(description="how many members were granted")


class NeedDashboardOut(Schema):
    """Needs grouped for government: in the reader's language, each count as [label, n]."""

    total: int
    answered: int
    clusters: list[dict[str, Any]] = Field(description="needs grouped by what they say, largest first")
    trend: dict[str, Any] = Field(description="needs filed per month by the largest groups: months and series")
    by_topic: list[tuple[str, int]]
    by_area: list[tuple[str, int]]
    by_segment: list[tuple[str, int]]
    by_month: list[tuple[str, int]] = Field(description="[YYYY-MM, n]")
