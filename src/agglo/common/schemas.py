"""What every API request body shares."""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Strict, WithJsonSchema

# Inputs the services check themselves, so that a page's form and the API refuse them in the same words: typed
# here only for the schema a client reads (a number in quotes is taken, as a form sends it).
Whole = Annotated[Any, WithJsonSchema({"type": "integer", "description": "a whole number"})]
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


class StrictIn(Schema):
    """A request body: a field it does not take is refused by name, not dropped (a misspelt field would otherwise
    leave its value unset without a word). Whole numbers and booleans are JSON's own: `true` is no score of 1 and
    `"yes"` no flag, and a number in quotes is refused rather than guessed at."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        loose = [
            f
            for f in cls.model_fields.values()
            if _kinds(f.annotation) & {int, bool} and not any(isinstance(m, Strict) for m in f.metadata)
        ]
        for field in loose:
            field.metadata.append(Strict())
        if loose:
            cls.model_rebuild(force=True)
