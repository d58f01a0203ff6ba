"""API shapes of matching: results with their explanation, and the click a client reports."""

from __future__ import annotations

from typing import Any

from ninja import Schema

from agglo.common.schemas import StrictIn
from agglo.market.schemas import ListingOut


class SignalOut(Schema):
    name: str
    label: str
    contribution: float


class OrganizationRef(Schema):
    id: int
    name: str
    area: str


class ListingMatchOut(Schema):
    rank: int
    score: float
    listing: ListingOut | None
    organization: OrganizationRef | None
    matched: list[str]
    relation: str
    relation_text: str
    trust: list[str]
    cross_region: bool
    signals: list[SignalOut]

    @staticmethod
    def resolve_score(obj: Any) -> float:
        return obj.match.score

    @staticmethod
    def resolve_organization(obj: Any) -> dict[str, Any] | None:
        org = obj.organization
        return None if org is None else {"id": org.pk, "name": org.name, "area": org.area_id}

    @staticmethod
    def resolve_relation(obj: Any) -> str:
        return "" if obj.owner_hidden else obj.match.relation

    @staticmethod
    def resolve_relation_text(obj: Any) -> str:
        return obj.relation

    @staticmethod
    def resolve_cross_region(obj: Any) -> bool:
        return False if obj.owner_hidden else obj.match.cross_region

    @staticmethod
    def resolve_signals(obj: Any) -> list[dict[str, Any]]:
        return [{"name": name, "label": label, "contribution": value} for name, label, value in obj.signals]


class ClickIn(StrictIn):
    item: int
    query: int | None = None
    rank: int | None = None
