"""Review 113: a scorecard's `risk` is published rounded (the API gave 0.045000000000000005), as its schema says,
while the solver keeps reading it whole. The pages' widths are checked in tests/e2e/test_laptop_widths.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from agglo.factory.risk import failure_risk
from agglo.factory.schemas import RISK_DIGITS
from agglo.factory.selectors.planning import capability_key, order_problem
from agglo.factory.selectors.scorecards import scorecards
from agglo.factory.services.execution import allocation_progress
from agglo.factory.services.orders import order_create
from tests.factory.conftest import accepted_offer, order_data, signed_in

pytestmark = pytest.mark.django_db


def test_a_scorecards_risk_is_published_rounded_and_planned_with_whole(cluster: dict[str, Any]) -> None:
    a, who = accepted_offer(cluster)
    allocation_progress(actor=who, allocation=a, data={"delivered_on": timezone.localdate().isoformat()})
    card = scorecards([a.factory_id])[a.factory_id]
    # one delivery, on time and whole, no credit grade: 9/10 of the unrated 5 %, which floating point makes noisy
    assert card.risk == failure_risk(None, 1, 1.0, 0.0) == 0.9 * 0.05
    assert card.risk != round(card.risk, RISK_DIGITS)

    answer = signed_in(cluster["people"]["buyer"]).get("/api/v1/factory/scorecards")
    (row,) = [r for r in answer.json() if r["organization_id"] == a.factory_id]
    assert row["risk"] == round(card.risk, RISK_DIGITS) == 0.045
    assert re.search(r'"risk": ?0\.045[,}]', answer.content.decode())  # as sent, not only as parsed
    schema = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]["ScorecardOut"]
    assert f"rounded to {RISK_DIGITS} decimal places" in schema["properties"]["risk"]["description"]

    assert row["on_time_rate"] == 1.0 and row["defect_rate"] == 0.0
    for rate in ("on_time_rate", "defect_rate"):
        assert f"rounded to {RISK_DIGITS} decimal places" in schema["properties"][rate]["description"]

    # the solver's costs read the record as it is, unrounded
    buyer = cluster["people"]["buyer"]
    problem = order_problem(order_create(actor=buyer, data=order_data(product="第二批外壳")))
    risks = {c.risk for c in problem.capabilities if c.key == capability_key(a.capability_id)}
    assert risks == {card.risk}


def test_a_scorecards_rates_are_published_rounded() -> None:
    from agglo.factory.schemas import ScorecardOut
    from agglo.factory.selectors.scorecards import Scorecard

    # a third of the work on time, a tenth and a fifth of its value found defective: floats that do not print short
    card = Scorecard(1, "甲", jobs=3, on_time=1, units=30, defects=1, value=0.3, defect_value=0.1 + 0.2 * 0.1 - 0.02)
    assert card.on_time_rate == 1 / 3 and card.defect_rate is not None and len(repr(card.defect_rate)) > 8
    out = ScorecardOut.from_orm(card).dict()
    assert out["on_time_rate"] == 0.3333 and out["defect_rate"] == round(card.defect_rate, RISK_DIGITS)
    empty = ScorecardOut.from_orm(Scorecard(2, "乙", jobs=0, on_time=0, units=0, defects=0)).dict()
    assert empty["on_time_rate"] is None and empty["defect_rate"] is None
