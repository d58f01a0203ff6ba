from __future__ import annotations

import datetime as dt

from agglo.ledger.entries import Entry
from agglo.ledger.services import entries_append


def append(n: int, *, parties: tuple[int, ...] = (), start: int = 0) -> list[int]:
    """Append n small test entries through the real service."""
    moment = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    return entries_append(
        [
            (Entry("test.event", moment, "system", f"test.thing:{start + i}", {"n": start + i}), parties)
            for i in range(n)
        ]
    )
