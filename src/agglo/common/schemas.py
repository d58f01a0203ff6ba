"""What every API request body shares."""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Strict, StrictBool, StrictInt, WithJsonSchema

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
Day = Annotated[Any, WithJsonSchema({"type": "string", "format": "date", "description": "an ISO date, 2026-12-31"})]
Code = Annotated[Any, WithJsonSchema({"type": "string", "description": "one of the codes the operation lists"})]


def _kinds(annotation: Any) -> set[Any]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return set(typing.get_args(annotation))
    return {annotation}


STRICT_ITEMS = {int: StrictInt, bool: StrictBool}


class StrictIn(Schema):
    """A request body: a field it does not take is refused by name, not dropped (a misspelt field would otherwise
    leave its value unset without a word). Whole numbers and booleans typed as such are JSON's own, in lists too:
    `true` is no score of 1, `"yes"` no flag and `"5"` no id. Fields typed `Whole` are left to the service, which
    also reads the page's form (where every number comes in quotes), so that both say the same."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
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
