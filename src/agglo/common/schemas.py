"""What every API request body shares."""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, ClassVar

from django.utils import timezone
from ninja import Schema
from ninja.schema import DjangoGetter
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Strict,
    StrictBool,
    StrictInt,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from agglo.common.days import iso_day
from agglo.common.language import choice_words

# Inputs the services check themselves, so that a page's form and the API refuse them in the same words: typed
# here for the schema a client reads (a number in quotes is taken, as a form sends it). WHOLE also tells
# api_guard to leave such a number's range to the service, which names the field's own rule.
WHOLE = WithJsonSchema({"type": "integer", "description": "a whole number"})
Whole = Annotated[Any, WHOLE]
Money = Annotated[
    Any,
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string"}], "description": "yuan, at most two decimals (to the fen)"}
    ),
]
Share = Annotated[Any, WithJsonSchema({"type": "number", "description": "a share between 0 and 1"})]
Day = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "description": "an ISO date, 2026-12-31, or an ISO week, 2027-W02 (its Monday)",
        }
    ),
]


def _day(value: Any) -> dt.date:
    """A day as every API field and service reads one (`common.days.iso_day`); the error handler words why not."""
    day = iso_day(value)
    if day is None:
        given = value[:40] if isinstance(value, str) else ""
        raise PydanticCustomError("date_type", "Input should be a valid date", {"given_day": given})
    return day


# A body's date that the schema checks itself (the services read `Day`), by the same rule
Date = Annotated[dt.date, BeforeValidator(_day)]


def _since(value: dt.datetime) -> dt.datetime:
    """A moment to compare with, in UTC (a naive one is in the platform's time zone). One beyond the calendar's
    ends in UTC (0001-01-01 east of Greenwich) is its end: it still means "since ever" or "nothing yet"."""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=timezone.get_current_timezone())
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        return dt.datetime.min.replace(tzinfo=dt.UTC) if value.year == 1 else dt.datetime.max.replace(tzinfo=dt.UTC)


Since = Annotated[dt.datetime, AfterValidator(_since)]


@dataclass(frozen=True, eq=False)
class OneOf:
    """A code field's allowed values, published as the schema's `enum`. The services check a body's codes with its
    other fields, so that one answer names every fault; `checked` adds the check here (`Choose one of: …`, each code
    with its label where it has one), for a query filter that nothing else checks. `blank` also allows "", which a
    query filter takes as "any" and some fields as "none"."""

    choices: tuple[tuple[str, Any], ...]  # (code, label or None)
    blank: bool = False
    checked: bool = False

    @property
    def codes(self) -> list[str]:
        return [code for code, _label in self.choices]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema = handler(source)
        return core_schema.no_info_after_validator_function(self._check, schema) if self.checked else schema

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        described = dict(handler(schema))
        described["enum"] = ([""] if self.blank else []) + self.codes
        return described

    def _check(self, value: Any) -> Any:
        if value is None or value in self.codes or (self.blank and value == ""):  # None: as the type allows
            return value
        labelled = all(label is not None for _code, label in self.choices)
        expected = choice_words((c, label) for c, label in self.choices) if labelled else ", ".join(self.codes)
        raise PydanticCustomError("enum", "Choose one of: {expected}.", {"expected": expected})


def _read_by_service(field: Any) -> bool:
    """A number, amount or date the service reads itself (`Whole`, `Money`, `Day`, `Share`: typed `Any`, published
    by hand) that may be left out."""
    return bool(field.annotation is Any and not field.is_required() and field.default is None)


def _null_where_left_out(schema: dict[str, Any], model: type[Schema]) -> None:
    """Such a field takes `null` too, meaning the same as leaving it out: published as pydantic publishes
    `int | None`."""
    for name, field in model.model_fields.items():
        said = schema.get("properties", {}).get(field.alias or name)
        if said is None or not _read_by_service(field):
            continue
        if "anyOf" in said:
            if {"type": "null"} not in said["anyOf"]:
                said["anyOf"].append({"type": "null"})
        elif "type" in said:
            typed = {k: said.pop(k) for k in ("type", "format") if k in said}
            said["anyOf"] = [typed, {"type": "null"}]


def one_of(choices: Iterable[Any], *, blank: bool = False, checked: bool = False) -> OneOf:
    """`OneOf` from a Django choices class, a `choices` list of pairs, an enum, or the codes themselves."""
    pairs = getattr(choices, "choices", None)  # a Django choices class: (code, label) pairs
    if not isinstance(pairs, list):
        pairs = [c if isinstance(c, tuple) else (c.value, None) if isinstance(c, Enum) else (c, None) for c in choices]
    return OneOf(tuple((str(code), label) for code, label in pairs if code != ""), blank=blank, checked=checked)


def published_required(*names: str) -> Callable[[dict[str, Any]], None]:
    """A body schema's `json_schema_extra` publishing fields as required that the service requires: the model
    leaves them optional, so that the service names a missing one together with the body's other faults."""

    def publish(schema: dict[str, Any]) -> None:
        schema["required"] = sorted({*schema.get("required", []), *names})

    return publish


def patch_of(schema: type[Schema]) -> type[Schema]:
    """The body of a change (PATCH) with the same fields as `schema`, the body of a new record: every field may be
    left out of a change, so none is published as required. Named `<Thing>Patch` in the schema."""
    name = schema.__name__.removesuffix("In") + "Patch"
    config = ConfigDict(json_schema_extra=None)  # type: ignore[typeddict-item]
    doc = f"A change: the fields of {schema.__name__}, each left as it is when left out."
    return type(name, (schema,), {"__module__": schema.__module__, "__doc__": doc, "model_config": config})


def _codes_of(annotation: Any, metadata: list[Any]) -> bool:
    """Whether a field is a code field: `OneOf` in its metadata, or in an `Annotated` member of its union."""
    if any(isinstance(m, OneOf) for m in metadata):
        return True
    return any(
        any(isinstance(m, OneOf) for m in getattr(arg, "__metadata__", ())) for arg in typing.get_args(annotation)
    )


def _kinds(annotation: Any) -> set[Any]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return set(typing.get_args(annotation))
    return {annotation}


STRICT_ITEMS = {int: StrictInt, bool: StrictBool}


class StrictIn(Schema):
    """A request body: a field it does not take is refused by name, not dropped (a misspelt field would otherwise
    leave its value unset without a word). Whole numbers and booleans typed as such are JSON's own, in lists too:
    `true` is no score of 1, `"yes"` no flag and `"5"` no id. Fields typed `Whole` are left to the service, which
    also reads the page's form (where every number comes in quotes), so that both say the same. A code field
    (`OneOf`), or a number, amount or date the service reads that may be left out, sent as `null` counts as left
    out: in a change, "as it is"; in a new record, not given (`""` empties a field that may be empty)."""

    model_config = ConfigDict(extra="forbid")
    null_left_out: ClassVar[frozenset[str]] = frozenset()  # fields where null is left out, as a client names them

    @model_validator(mode="before")
    @classmethod
    def null_code_left_out(cls, data: Any) -> Any:
        # ninja hands the body over as a dict, then again wrapped in its DjangoGetter (a dict's missing key: unset)
        sent = data._obj if isinstance(data, DjangoGetter) else data
        if not (isinstance(sent, dict) and cls.null_left_out):
            return data
        kept = {k: v for k, v in sent.items() if not (v is None and k in cls.null_left_out)}
        return DjangoGetter(kept, data._schema_cls, data._context) if isinstance(data, DjangoGetter) else kept

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.null_left_out = frozenset(
            field.alias or name
            for name, field in cls.model_fields.items()
            if _codes_of(field.annotation, field.metadata) or _read_by_service(field)
        )
        changed = False
        for field in cls.model_fields.values():
            kinds = _kinds(field.annotation) - {types.NoneType}
            item = typing.get_args(field.annotation)[0] if typing.get_origin(field.annotation) is list else None
            if any(isinstance(m, Strict) for m in field.metadata):
                continue
            # only where every type is a number or a boolean: strictness would refuse what a `str` beside it takes
            if kinds and kinds <= {int, bool}:
                field.metadata.append(Strict())
                changed = True
            elif item in STRICT_ITEMS:
                field.annotation = list[STRICT_ITEMS[item]]  # type: ignore[valid-type]
                changed = True
        if changed:
            cls.model_rebuild(force=True)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        described = handler(schema)
        _null_where_left_out(handler.resolve_ref_schema(described), cls)
        return described


# how a file download's body is described, by content type
TABLE_FILES: dict[str, dict[str, Any]] = {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}
    },
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
}


def file_download(description: str, formats: Iterable[str]) -> dict[str, Any]:
    """`openapi_extra` of an operation that answers with a file (an attachment) in one of `formats`."""
    types = [f.split(";")[0].strip() for f in formats]  # "text/csv; charset=utf-8" is described as text/csv
    return {"responses": {"200": {"description": description, "content": {t: TABLE_FILES[t] for t in types}}}}


VERSIONED = "x-agglo-versioned"  # read and dropped by `agglo.api.AggloAPI`, which publishes what it says


def versioned(*, etag: bool = True, if_match: bool = False) -> dict[str, Any]:
    """`openapi_extra` of an operation that answers with the record's `ETag` and (`if_match`) takes `If-Match`,
    refusing a change to a record changed since with 412: the schema publishes the header, the parameter and the
    answer, which only the descriptions named before (review 112)."""
    return {VERSIONED: {"etag": etag, "if_match": if_match}}
