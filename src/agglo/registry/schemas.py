"""API shapes of the registry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.conf import settings
from ninja import Schema
from pydantic import ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from agglo.access.models import PlatformRole
from agglo.common.schemas import Date, StrictIn, one_of, patch_of, published_required
from agglo.registry.models import Admission, Organization, Position, Region, Relation, Segment
from agglo.registry.validation import STATUS_RULE

# Checked by `registry.validation` and the services in their own words (a size class depends on the kind).
KINDS = Organization._meta.get_field("kind").choices or []
LAYERS = Organization._meta.get_field("layer").choices or []
SIZES = Organization._meta.get_field("size_class").choices or []
SETTABLE_STATUSES = [(c, label) for c, label in Organization.Status.choices if c != Organization.Status.APPLICANT]


class RegionOut(Schema):
    code: str
    name_zh: str
    name_en: str
    level: Annotated[str, one_of(Region.Level)]
    parent: str | None = Field(None, validation_alias="parent_id")
    country_code: str


class RegionPage(Schema):
    count: int
    items: list[RegionOut]


class SegmentOut(Schema):
    code: str
    name_zh: str
    name_en: str
    stage: Annotated[str, one_of(Segment.Stage)]
    order: int


class ChainOut(Schema):
    code: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    segments: list[SegmentOut]


class ChainDetail(ChainOut):
    links: list[tuple[str, str]]


class SegmentCellOut(Schema):
    segment: str
    name_zh: str
    name_en: str
    stage: Annotated[str, one_of(Segment.Stage)]
    column: int
    members: int
    areas: int
    roles: dict[str, int]
    gap: bool


class ChainMapOut(Schema):
    chain: str
    members: int
    areas: int
    segments: list[SegmentCellOut]
    links: list[tuple[str, str]]
    gaps: list[str]


class OrganizationSummary(Schema):
    id: int
    name_zh: str
    name_en: str
    kind: Annotated[str, one_of(KINDS)]
    layer: Annotated[str, one_of(LAYERS)]
    region: str = Field(validation_alias="region_id")
    area: str = Field(validation_alias="area_id")
    status: Annotated[str, one_of(Organization.Status)]
    size_class: Annotated[str, one_of(SIZES, blank=True)]
    tags: list[str]


class OrganizationOut(OrganizationSummary):
    uscc: str | None
    foreign_registry_id: str
    founded_year: int | None
    headcount: int | None
    website: str
    description: str
    joined_at: datetime | None
    contacts_visibility: Annotated[str, one_of(Organization.Visibility)]
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None

    # Contacts are a sensitive field group: shown only when the caller may see them (DESIGN.md §5).
    @staticmethod
    def resolve_contact_name(obj: Any, context: dict[str, Any]) -> str | None:
        return obj.contact_name if _contacts_visible(obj, context) else None

    @staticmethod
    def resolve_contact_email(obj: Any, context: dict[str, Any]) -> str | None:
        return obj.contact_email if _contacts_visible(obj, context) else None

    @staticmethod
    def resolve_contact_phone(obj: Any, context: dict[str, Any]) -> str | None:
        return obj.contact_phone if _contacts_visible(obj, context) else None


def _contacts_visible(obj: Any, context: dict[str, Any]) -> bool:
    from agglo.registry.selectors import contacts_visible

    cached = getattr(obj, "_contacts_visible", None)
    if cached is None:
        cached = contacts_visible(actor=context["request"].auth, organization=obj)
        obj._contacts_visible = cached
    return cached


class FacetValue(Schema):
    value: str
    label: str
    count: int


class DirectoryOut(Schema):
    count: int
    page: int
    page_size: int
    pages: int
    items: list[OrganizationSummary]
    facets: dict[str, list[FacetValue]]


class OrganizationIn(StrictIn):
    """Fields of an organization. On create, name_zh, kind, region and a code are required."""

    # the code is a USCC or, for a foreign member, its own registry's id: the service says which is missing
    model_config = ConfigDict(json_schema_extra=published_required("name_zh", "kind", "region"))

    uscc: str | None = None
    foreign_registry_id: str | None = None
    name_zh: str | None = None
    name_en: str | None = None
    kind: Annotated[str, one_of(KINDS)] | None = None
    region: str | None = None
    founded_year: int | None = None
    headcount: int | None = None
    size_class: Annotated[str, one_of(SIZES, blank=True)] | None = None
    website: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    contacts_visibility: Annotated[str, one_of(Organization.Visibility)] | None = None
    # not a field of this body, nor published: a client that sends it is told where the status is changed
    status: SkipJsonSchema[Any] = None

    @field_validator("status")
    @classmethod
    def status_elsewhere(cls, value: Any) -> Any:
        raise PydanticCustomError("status_elsewhere", str(STATUS_RULE))


OrganizationPatch = patch_of(OrganizationIn)


class StatusIn(StrictIn):
    status: Annotated[str, one_of(SETTABLE_STATUSES)]
    reason: str = ""


class PositionIn(StrictIn):
    segment: str
    role: Annotated[str, one_of(Position.Role)]
    note: str = ""


class PositionOut(Schema):
    id: int
    organization: int = Field(validation_alias="organization_id")
    segment: str = Field(validation_alias="segment.code")
    chain: str = Field(validation_alias="segment.chain.code")
    role: Annotated[str, one_of(Position.Role)]
    note: str


class RelationIn(StrictIn):
    target: int
    kind: Annotated[str, one_of(Relation.Kind)]
    started_on: Date | None = None
    ended_on: Date | None = None
    note: str = ""


class RelationOut(Schema):
    id: int
    source: int = Field(validation_alias="source_org_id")
    target: int = Field(validation_alias="target_org_id")
    kind: Annotated[str, one_of(Relation.Kind)]
    started_on: date | None
    ended_on: date | None
    source_of_record: Annotated[str, one_of(Relation.Source)] = Field(validation_alias="source")
    note: str


class AdmissionEventOut(Schema):
    status: Annotated[str, one_of(Admission.Status)]
    note: str
    by_applicant: bool
    occurred_at: datetime


class AdmissionDocumentOut(Schema):
    id: int
    original_name: str
    content_type: str
    size: int
    sha256: str


class AdmissionStatusOut(Schema):
    id: int
    status: Annotated[str, one_of(Admission.Status)]
    reason: str
    organization: OrganizationSummary
    created_at: datetime
    decided_at: datetime | None
    events: list[AdmissionEventOut]
    documents: list[AdmissionDocumentOut]
    text_key: str = Field(
        description="Key under which the transparency log keeps the decision's reason as hmac-sha256 (empty before one)"
    )


class AdmissionCreated(Schema):
    id: int
    status: Annotated[str, one_of(Admission.Status)]
    tracking_token: str
    status_url: str


class DuplicateFlag(Schema):
    organization: int
    name: str
    reason: str
    similarity: float


class AdmissionReviewOut(AdmissionStatusOut):
    contact_name: str
    contact_email: str
    contact_phone: str
    message: str
    duplicate_flags: list[DuplicateFlag]


class AdmissionReviewIn(StrictIn):
    note: str = ""


class RejectIn(StrictIn):
    reason: str


class MeOut(Schema):
    username: str
    authenticated: bool
    platform_roles: list[Annotated[str, one_of(PlatformRole.Role)]]
    organizations: list[int]
    language: Annotated[str, one_of(settings.LANGUAGES)] = Field(
        description="What the platform writes to you in: notifications, e-mails, pages once logged in"
    )


class LanguageIn(StrictIn):
    language: Annotated[str, one_of(settings.LANGUAGES)]
