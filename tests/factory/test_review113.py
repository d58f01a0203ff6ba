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

    # the solver's costs read the record as it is, unrounded
    buyer = cluster["people"]["buyer"]
    problem = order_problem(order_create(actor=buyer, data=order_data(product="第二批外壳")))
    risks = {c.risk for c in problem.capabilities if c.key == capability_key(a.capability_id)}
    assert risks == {card.risk}
