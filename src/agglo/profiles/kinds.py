"""The four kinds of dated fact per organization and what differs between them: model, fields, group, key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q

from agglo.profiles import fields as f
from agglo.profiles.models import CreditRating, Fact, FinancialStatement, IPAsset, OrganizationCapability
from agglo.registry.validation import ORG_FIELDS


def _statement_validity(v: dict[str, Any]) -> dt.date:
    # The next annual statement is due by mid-year after the year it follows: FY2024 holds until 2026-06-30.
    return dt.date(v["year"] + 2, 6, 30)


def _years(n: int) -> Callable[[dict[str, Any]], dt.date]:
    def validity(v: dict[str, Any]) -> dt.date:
        as_of: dt.date = v["as_of"]
        try:
            return as_of.replace(year=as_of.year + n)
        except ValueError:  # 29 February
            return as_of.replace(year=as_of.year + n, day=28)

    return validity


@dataclass(frozen=True)
class FactKind:
    name: str
    model: type[Fact]
    specs: dict[str, f.FieldSpec]
    # The field group: who may see it (financials and credit carry their own level) and how history is filtered.
    group: str
    natural_key: tuple[str, ...]
    default_validity: Callable[[dict[str, Any]], dt.date]


KINDS: dict[str, FactKind] = {
    "financials": FactKind(
        "financials", FinancialStatement, f.FINANCIALS, "financials", ("year",), _statement_validity
    ),
    "ratings": FactKind(
        "ratings", CreditRating, f.RATINGS, "credit", ("rating_body", "agency_name", "as_of"), _years(1)
    ),
    "ip": FactKind("ip", IPAsset, f.IP_ASSETS, "ip", ("kind", "number"), _years(1)),
    "capabilities": FactKind(
        "capabilities", OrganizationCapability, f.CAPABILITIES, "capabilities", ("term",), _years(2)
    ),
}
KIND_OF_MODEL = {k.model: k for k in KINDS.values()}
# Organization columns of imports and exports: the registry's fields less the derived size class and the level.
ORG_COLUMNS = tuple(f for f in ORG_FIELDS if f not in ("size_class", "contacts_visibility"))


def kind_of(fact: Fact) -> FactKind:
    return KIND_OF_MODEL[type(fact)]


def superseded(kind: FactKind) -> Exists | None:
    """An expression true for a fact replaced by a newer one of its kind: a statement by a later year's, a rating
    by a later rating. A superseded fact is history, not stale: nobody needs to update it."""
    model = kind.model
    if kind.name == "financials":
        newer = model.objects.filter(organization=OuterRef("organization"), year__gt=OuterRef("year"))  # type: ignore[attr-defined]
    elif kind.name == "ratings":
        newer = model.objects.filter(organization=OuterRef("organization"), as_of__gt=OuterRef("as_of"))  # type: ignore[attr-defined]
    else:
        return None
    return Exists(newer)


def current_stale(kind: FactKind, today: dt.date) -> Q:
    """Facts past their validity that nothing newer replaced: what owners are reminded of and scored on."""
    condition = Q(valid_until__lt=today)
    newer = superseded(kind)
    return condition & ~Q(newer) if newer is not None else condition
