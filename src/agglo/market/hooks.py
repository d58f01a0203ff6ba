"""Where other apps listen to the market: they register here in their AppConfig.ready, so the market needs
not know them (matching keeps its index and behaviour log this way)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

# Called after commit with the ids of listings whose content or status changed.
LISTING_CHANGED: list[Callable[[list[int]], None]] = []
# Called inside the transaction with ("interest" | "acceptance", the interest, the actor).
INTEREST_EVENT: list[Callable[[str, Any, Any], None]] = []


def listings_changed(ids: list[int]) -> None:
    """Tell the listeners after commit (a rolled-back change is no change)."""
    if not ids or not LISTING_CHANGED:
        return
    changed = list(ids)

    def tell() -> None:
        for hook in LISTING_CHANGED:
            hook(changed)

    transaction.on_commit(tell)


def interest_event(kind: str, interest: Any, actor: Any) -> None:
    for hook in INTEREST_EVENT:
        hook(kind, interest, actor)
