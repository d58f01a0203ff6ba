"""prepare() on random odd input, every kind, create and update: no exception."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from agglo.profiles.kinds import KINDS
from agglo.profiles.services.facts import prepare

ODD = [
    None,
    "",
    " ",
    "x",
    "2024",
    "２０２４",
    "-1",
    "1e400",
    "NaN",
    0,
    -5,
    10**30,
    1.5,
    True,
    [],
    {},
    {"a": 1},
    "2024-02-30",
    "2024-12-31",
    "2099-01-01",
    "1900-01-01",
    dt.date(2024, 6, 1),
    dt.datetime(2024, 1, 1),
    Decimal("1.005"),
    "AAA",
    "agency",
    "platform",
    "granted",
    "invention_patent",
    "ZL202310000001.X",
    "①",
]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("seed", range(40))
def test_prepare_never_raises(kind, seed):
    rng = random.Random(seed)
    spec = KINDS[kind].specs
    names = list(spec) + ["bogus"]
    data = {n: rng.choice(ODD) for n in rng.sample(names, rng.randint(0, len(names)))}
    current = None
    if seed % 2:
        current = dict.fromkeys(spec)
        current.update(
            {
                "year": 2024,
                "as_of": dt.date(2024, 12, 31),
                "kind": "invention_patent",
                "number": "X1",
                "rating_body": "platform",
                "agency_name": "",
                "term": "t",
                "status": "pending",
            }
        )
        current = {k: v for k, v in current.items() if k in spec}
    prepare(
        KINDS[kind],
        data,
        current=current,
        today=dt.date(2026, 12, 5),
        founded_year=2000,
        previous_revenue=Decimal(1),
        terms={"t": object()},
    )
