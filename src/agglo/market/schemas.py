"""API shapes of the market. Inputs carry types; the rules are the services' own."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import ConfigDict

from agglo.common.schemas import Date, StrictIn, one_of, patch_of, published_required
from agglo.market.lifecycle import InterestStatus
from agglo.market.models import COLLATERAL_LABELS, Interest, Listing

# The codes with their labels, as the services name them in an error.
SIDES = Listing._meta.get_field("side").choices or []
KINDS = Listing._meta.get_field("kind").choices or []
SUBKINDS = Listing._meta.get_field("subkind").choices or []
REGION_RULES = Listing._meta.get_field("region_rule").choices or []
STATUSES = Listing._meta.get_field("status").choices or []
COLLATERALS = [(str(code), label) for code, label in COLLATERAL_LABELS.items()]
INTEREST_STATUSES = Interest._meta.get_field("status").choices or []
MOVES = [(c, label) for c, label in INTEREST_STATUSES if c in (InterestStatus.CONTACTED, InterestStatus.EVALUATED)]


class ListingIn(StrictIn):
    # a title is required too, in Chinese, English or both: the service says so
    model_config = ConfigDict(json_schema_extra=published_required("side", "kind"))

    side: Annotated[str, one_of(SIDES)] | None = None
    kind: Annotated[str, one_of(KINDS)] | None = None
    subkind: Annotated[str, one_of(SUBKINDS, blank=True)] | None = None
    title_zh: str | None = None
    title_en: str | None = None
    description_zh: str | None = None
    description_en: str | None = None
    terms: list[str] | None = None
    tags: list[str] | None = None
    segments: list[str] | None = None
    region_rule: Annotated[str, one_of(REGION_RULES)] | None = None
    regions: list[str] | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    # loan terms, on capital needs and financing products only: months, percent a year, what secures the loan
    term_months_min: int | None = None
    term_months_max: int | None = None
    rate_min: Decimal | None = None
    rate_max: Decimal | None = None
    collateral: list[Annotated[str, one_of(COLLATERALS)]] | None = None
    deadline: Date | None = None
    visibility: Annotated[str, one_of(Listing.Visibility)] | None = None
    anonymous: bool | None = None


ListingPatch = patch_of(ListingIn)


class ListingOut(Schema):
    id: int
    side: Annotated[str, one_of(SIDES)]
    kind: Annotated[str, one_of(KINDS)]
    subkind: Annotated[str, one_of(SUBKINDS, blank=True)]
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    terms: list[str]
    tags: list[str]
    segments: list[str]
    region_rule: Annotated[str, one_of(REGION_RULES)]
    regions: list[str]
    amount_min: Decimal | None
    amount_max: Decimal | None
    term_months_min: int | None
    term_months_max: int | None
    rate_min: Decimal | None
    rate_max: Decimal | None
    collateral: list[Annotated[str, one_of(COLLATERALS)]]
    deadline: date | None
    visibility: Annotated[str, one_of(Listing.Visibility)]
    anonymous: bool
    status: Annotated[str, one_of(STATUSES)]
    review_note: str
    outcome: Annotated[str, one_of(Listing.Outcome, blank=True)]
    outcome_note: str
    published_at: datetime | None
    expires_on: date | None
    organization_id: int | None
    organization_name: str | None

    @staticmethod
    def resolve_organization_id(obj: Any, context: dict[str, Any]) -> int | None:
        return obj.organization_id if _revealed(obj, context) else None

    @staticmethod
    def resolve_organization_name(obj: Any, context: dict[str, Any]) -> str | None:
        return obj.organization.name_zh if _revealed(obj, context) else None


def _revealed(obj: Any, context: dict[str, Any]) -> bool:
    from agglo.market.selectors import owner_revealed

    cached = getattr(obj, "_owner_revealed", None)
    if cached is None:
        cached = owner_revealed(context["request"].auth, obj)
        obj._owner_revealed = cached
    return bool(cached)


class ReviewIn(StrictIn):
    approve: bool
    note: str = ""


class RenewIn(StrictIn):
    days: int | None = None


class CloseIn(StrictIn):
    outcome: Annotated[str, one_of(Listing.Outcome)]
    note: str = ""


class InterestIn(StrictIn):
    organization: int | None = None
    cooperation: Annotated[str, one_of(Interest.Cooperation)]
    message: str
    missing: str = ""
    introduction: str = ""


class InterestOut(Schema):
    id: int
    listing_id: int
    organization_id: int
    organization_name: str
    cooperation: Annotated[str, one_of(Interest.Cooperation)]
    message: str
    missing: str
    introduction: str
    status: Annotated[str, one_of(INTEREST_STATUSES)]
    decline_reason: str
    created_at: datetime
    decided_at: datetime | None
    text_key: str = Field(
        description="Key under which the transparency log seals the acceptance (hmac-sha256); empty before one"
    )

    @staticmethod
    def resolve_organization_name(obj: Any) -> str:
        return obj.organization.name_zh


class MoveIn(StrictIn):
    status: Annotated[str, one_of(MOVES)]


class DeclineIn(StrictIn):
    reason: str


class NotificationOut(Schema):
    id: int
    verb: str
    text: str  # in the language of the request where the platform wrote it in that language
    link: str
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def resolve_text(obj: Any) -> str:
        return str(obj.shown)
