"""API shapes of the professional database. Input shapes carry types; the rules are the services' own."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Field

from agglo.access.models import AccessLogEntry
from agglo.access.selectors import public_name
from agglo.common.schemas import Date, StrictIn, one_of, patch_of, published_required
from agglo.profiles.fields import CAPABILITIES, CASES, FINANCIALS, GRADES, IP_ASSETS, RATINGS, FieldSpec
from agglo.profiles.indicators import ZZone
from agglo.profiles.messages import word_stored
from agglo.profiles.models import CapabilityTerm, Case, CaseParticipant, CreditRating, IPAsset, Source
from agglo.profiles.models.disclosure import VISIBILITY_CHOICES
from agglo.profiles.selectors.facts import case_key
from agglo.profiles.services.imports import IMPORT_KINDS
from agglo.profiles.visibility import FIELD_GROUPS

# The profile fields below are checked by `profiles.fields`, which imports share: the schema lists their codes.
# Any fact may be verified by the operator or a bank; only a financial statement may also be audited.
VERIFIED_SOURCES = [(code, label) for code, label in Source.choices if code in ("operator_verified", "bank_verified")]
AUDITED_SOURCES = [*VERIFIED_SOURCES, (Source.AUDITED.value, Source.AUDITED.label)]
# a participant added to a case is a partner: its lead is the organization that declared it
ADDED_ROLES = [(code, label) for code, label in CaseParticipant.Role.choices if code != CaseParticipant.Role.LEAD]


class Provenance(Schema):
    """Beside every fact: where it comes from, as of when, until when, and whether it was checked."""

    id: int
    organization_id: int
    source: Annotated[str, one_of(Source)]
    source_note: str
    as_of: date
    valid_until: date
    stale: bool
    verified: bool
    verified_by: str | None = None  # who checked it: the platform role, or the bank, that verified it
    verified_at: datetime | None
    warnings: list[str] = []
    updated_at: datetime

    @staticmethod
    def resolve_warnings(obj: Any) -> list[str]:
        return [word_stored(w) for w in obj.warnings]

    @staticmethod
    def resolve_verified_by(obj: Any) -> str | None:
        return public_name(obj.verified_by) if obj.verified_by_id else None


def required_in(fields: dict[str, FieldSpec]) -> list[str]:
    """The fields a new fact of a kind must give, as `profiles.fields` checks them: published as required."""
    return [name for name, spec in fields.items() if spec.required]


class ProvenanceIn(StrictIn):
    as_of: Date | None = None
    valid_until: Date | None = None
    source_note: str | None = None


class FinancialsIn(ProvenanceIn):
    model_config = ConfigDict(json_schema_extra=published_required(*required_in(FINANCIALS)))

    year: int | None = None
    revenue: Decimal | None = None
    total_assets: Decimal | None = None
    total_liabilities: Decimal | None = None
    equity: Decimal | None = None
    net_profit: Decimal | None = None
    operating_cash_flow: Decimal | None = None
    rd_expense: Decimal | None = None
    headcount: int | None = None
    rd_headcount: int | None = None
    current_assets: Decimal | None = None
    current_liabilities: Decimal | None = None
    retained_earnings: Decimal | None = None
    ebit: Decimal | None = None


class EvidenceOut(Schema):
    id: int
    original_name: str
    content_type: str
    size: int
    sha256: str


class FinancialsOut(Provenance):
    year: int
    revenue: Decimal
    total_assets: Decimal
    total_liabilities: Decimal
    equity: Decimal
    net_profit: Decimal | None
    operating_cash_flow: Decimal | None
    rd_expense: Decimal | None
    headcount: int | None
    rd_headcount: int | None
    current_assets: Decimal | None
    current_liabilities: Decimal | None
    retained_earnings: Decimal | None
    ebit: Decimal | None
    evidence: list[EvidenceOut] = []


class RatingsIn(ProvenanceIn):
    model_config = ConfigDict(json_schema_extra=published_required(*required_in(RATINGS)))

    grade: Annotated[str, one_of(GRADES)] | None = None
    score: Decimal | None = None
    rating_body: Annotated[str, one_of(CreditRating.Body)] | None = None
    agency_name: str | None = None
    method_version: str | None = None


class RatingsOut(Provenance):
    grade: Annotated[str, one_of(GRADES)]
    score: Decimal | None
    rating_body: Annotated[str, one_of(CreditRating.Body)]
    agency_name: str
    method_version: str


class IpIn(ProvenanceIn):
    model_config = ConfigDict(json_schema_extra=published_required(*required_in(IP_ASSETS)))

    kind: Annotated[str, one_of(IPAsset.Kind)] | None = None
    number: str | None = None
    title: str | None = None
    status: Annotated[str, one_of(IPAsset.Status)] | None = None
    filed_on: Date | None = None
    granted_on: Date | None = None
    expires_on: Date | None = None


class IpOut(Provenance):
    kind: Annotated[str, one_of(IPAsset.Kind)]
    number: str
    title: str
    status: Annotated[str, one_of(IPAsset.Status)]
    filed_on: date | None
    granted_on: date | None
    expires_on: date | None


class CapabilitiesIn(ProvenanceIn):
    model_config = ConfigDict(json_schema_extra=published_required(*required_in(CAPABILITIES)))

    term: str | None = Field(None, description="catalogue code, e.g. iso-9001")
    detail: str | None = None
    certificate_no: str | None = None


class CapabilitiesOut(Provenance):
    term: str = Field(validation_alias="term.code")
    term_name_zh: str = Field(validation_alias="term.name_zh")
    term_name_en: str = Field(validation_alias="term.name_en")
    term_kind: Annotated[str, one_of(CapabilityTerm.Kind)] = Field(validation_alias="term.kind")
    detail: str
    certificate_no: str


class VerifyIn(StrictIn):
    source: Annotated[str, one_of(VERIFIED_SOURCES)]
    note: str = Field("", description="What it was checked against; required of a bank (bank_verified).")


class StatementVerifyIn(StrictIn):
    source: Annotated[str, one_of(AUDITED_SOURCES)]
    note: str = Field("", description="What it was checked against; required of a bank (bank_verified).")


class TermOut(Schema):
    code: str
    kind: Annotated[str, one_of(CapabilityTerm.Kind)]
    name_zh: str
    name_en: str
    synonyms: str


class HolderOut(Schema):
    id: int
    name_zh: str
    name_en: str
    region: str = Field(validation_alias="region.code")


class DisclosureIn(StrictIn):
    financials_visibility: Annotated[str, one_of(VISIBILITY_CHOICES)] | None = None
    credit_visibility: Annotated[str, one_of(VISIBILITY_CHOICES)] | None = None


class DisclosureOut(Schema):
    financials: Annotated[str, one_of(VISIBILITY_CHOICES)]
    credit: Annotated[str, one_of(VISIBILITY_CHOICES)]
    contacts: Annotated[str, one_of(VISIBILITY_CHOICES)]


class IndicatorsOut(Schema):
    year: int
    rd_intensity: Decimal | None
    debt_ratio: Decimal | None
    revenue_growth: Decimal | None
    net_margin: Decimal | None
    rd_staff_share: Decimal | None
    z_score: Decimal | None
    z_zone: Annotated[str, one_of(ZZone)] | None


class FixOut(Schema):
    code: str
    message: str
    points: float
    count: int


class QualityOut(Schema):
    score: float
    completeness: float
    freshness: float
    verification: float
    fixes: list[FixOut]


class EventOut(Schema):
    id: int
    occurred_at: datetime
    event: str
    actor: str = Field(validation_alias="actor_label")
    subject_type: str
    subject_id: str
    group: str
    payload: dict[str, Any]


class AccessOut(Schema):
    occurred_at: datetime
    group: Annotated[str, one_of(AccessLogEntry.Group)]
    channel: Annotated[str, one_of(AccessLogEntry.Channel)]
    viewer: str = Field(validation_alias="viewer_label")
    viewer_orgs: str
    viewer_orgs_en: str = ""  # the same in English, where a name has one
    viewer_roles: str


class HeadlineOut(Schema):
    grade: Annotated[str, one_of(GRADES)]
    rating_body: Annotated[str, one_of(CreditRating.Body)]
    agency_name: str
    as_of: date
    valid_until: date
    source: Annotated[str, one_of(Source)]
    checked: bool = Field(
        description="The platform's own rating, or one an operator or a bank verified. An unchecked one (the "
        "organization's own entry) is the headline only while no checked one is valid, and counts for no policy "
        "rule and no match."
    )


class ProfileOut(Schema):
    organization_id: int
    visible_groups: list[Annotated[str, one_of(FIELD_GROUPS)]]
    disclosure: DisclosureOut | None = Field(None, description="only for the organization's own people")
    credit: HeadlineOut | None
    counts: dict[str, int]
    indicators: list[IndicatorsOut] | None
    quality: QualityOut | None
    recent_changes: list[EventOut]


class CaseIn(ProvenanceIn):
    model_config = ConfigDict(json_schema_extra=published_required(*required_in(CASES)))

    title: str | None = None
    kind: Annotated[str, one_of(Case.Kind)] | None = None
    started_on: Date | None = None
    ended_on: Date | None = None
    description: str | None = None
    visibility: Annotated[str, one_of(VISIBILITY_CHOICES, blank=True)] | None = None
    outcome_patents: int | None = None
    outcome_products: int | None = None
    outcome_revenue: Decimal | None = None
    outcome_cost_saved: Decimal | None = None


CasePatch = patch_of(CaseIn)


class ParticipantIn(StrictIn):
    organization: int
    role: Annotated[str, one_of(ADDED_ROLES)] = "partner"
    input_kind: Annotated[str, one_of(CaseParticipant.InputKind)]
    input_amount: Decimal | None = None
    input_note: str | None = None


class ParticipantInputIn(StrictIn):
    input_kind: Annotated[str, one_of(CaseParticipant.InputKind)] | None = None
    input_amount: Decimal | None = None
    input_note: str | None = None


class ParticipantOut(Schema):
    id: int
    organization_id: int
    organization_name: str = Field(validation_alias="organization.name_zh")
    role: Annotated[str, one_of(CaseParticipant.Role)]
    input_kind: Annotated[str, one_of(CaseParticipant.InputKind)]
    input_amount: Decimal | None
    input_note: str
    input_seen: str  # send it back as `seen` when confirming: an input changed since is refused, not confirmed
    confirmed_at: datetime | None


class CaseRatingIn(StrictIn):
    rated: int
    score: int
    comment: str | None = None


class CaseRatingOut(Schema):
    id: int
    rater_id: int
    rated_id: int
    score: int
    comment: str
    created_at: datetime


class CaseOut(Schema):
    id: int
    organization_id: int
    title: str
    kind: Annotated[str, one_of(Case.Kind)]
    started_on: date
    ended_on: date | None
    description: str
    visibility: Annotated[str, one_of(VISIBILITY_CHOICES)]
    outcome_patents: int
    outcome_products: int
    outcome_revenue: Decimal | None
    outcome_cost_saved: Decimal | None
    source: Annotated[str, one_of(Source)]
    as_of: date
    valid_until: date
    stale: bool
    participants: list[ParticipantOut]
    ratings: list[CaseRatingOut]
    text_key: str = Field(
        "",
        description="Key under which the transparency log seals the case's entries (hmac-sha256): for its lead and "
        "participants only; empty for others and before the first entry",
    )

    @staticmethod
    def resolve_text_key(obj: Any, context: Any) -> str:
        return case_key(context["request"].auth, obj)


class RowErrorOut(Schema):
    row: int
    column: str
    rule: str
    message: str


class ImportOut(Schema):
    kind: Annotated[str, one_of(IMPORT_KINDS)]
    dry_run: bool
    applied: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    errors: list[RowErrorOut]  # the first 1,000
    errors_total: int
    run_id: int | None
