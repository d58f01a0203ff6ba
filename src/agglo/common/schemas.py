"""What every API request body shares."""

from __future__ import annotations

from ninja import Schema
from pydantic import ConfigDict


class StrictIn(Schema):
    """A request body: a field it does not take is refused by name, not dropped (a misspelt field would otherwise
    leave its value unset without a word)."""

    model_config = ConfigDict(extra="forbid")
