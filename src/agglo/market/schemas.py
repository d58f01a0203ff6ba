"""API shapes of the market. Inputs carry types; the rules are the services' own."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from agglo.common.schemas import StrictIn


class ListingIn(StrictIn):
    side: str | None = None
    kind: str | None = None
    subkind: str | None = None
    title_zh: str | None = None
    title_en: str | None = None
    description_zh: str | None = None
    description_en: str | None = None
    terms: list[str] | None = None
    tags: list[str] | None = None
    segments: list[str] | None = None
    region_rule: str | None = None
    regions: list[str] | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    deadline: date | None = None
    visibility: str | None = None
    anonymous: bool | None = None


class ListingOut(Schema):
    id: int
    side: str
    kind: str
    subkind: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    terms: list[str]
    tags: list[str]
    segments: list[str]
    region_rule: str
    regions: list[str]
    amount_min: Decimal | None
    amount_max: Decimal | None
    deadline: date | None
    visibility: str
    anonymous: bool
    status: str
    review_note: str
    outcome: str
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
    outcome: str
    note: str = ""


class InterestIn(StrictIn):
    organization: int | None = None
    cooperation: str
    message: str
    missing: str = ""
    introduction: str = ""


class InterestOut(Schema):
    id: int
    listing_id: int
    organization_id: int
    organization_name: str
    cooperation: str
    message: str
    missing: str
    introduction: str
    status: str
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
    status: str


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
