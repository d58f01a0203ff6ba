"""Review 98 (the API fuzzed): a sync moment at the calendar's edge is read, not a 500; a dispute does not drop a
defect count unread."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from agglo.common.errors import ValidationFailed
from agglo.common.schemas import _since
from agglo.factory.models import Allocation
from agglo.factory.services.execution import allocation_receipt
from tests.factory.test_visibility import delivered
from tests.registry.test_api import bearer, problem

pytestmark = pytest.mark.django_db

EDGES = (
    "0001-01-01",
    "0001-01-01T08:00:00",
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
)


def test_a_moment_beyond_the_calendar_in_utc_is_its_end() -> None:
    utc = dt.UTC
    assert _since(dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == dt.datetime.min.replace(
        tzinfo=utc
    )
    assert _since(dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(-dt.timedelta(hours=14)))) == (
        dt.datetime.max.replace(tzinfo=utc)
    )
    naive = dt.datetime(2026, 12, 7, 8, 0)  # in the platform's time zone (Asia/Shanghai)
    assert _since(naive) == timezone.make_aware(naive).astimezone(utc)


@pytest.mark.parametrize("moment", EDGES)
def test_updated_after_at_the_calendars_edge_is_answered(cluster: dict[str, Any], client: Any, moment: str) -> None:
    a = delivered(cluster)
    buyer = bearer(cluster["people"]["buyer"])
    everything = moment.startswith("0001")
    orders = client.get("/api/v1/factory/orders", {"updated_after": moment}, **buyer)
    assert orders.status_code == 200 and len(orders.json()) == (1 if everything else 0)
    factory = next(p for n, p in cluster["people"].items() if cluster["orgs"][n].pk == a.factory_id)
    jobs = client.get("/api/v1/factory/jobs", {"updated_after": moment}, **bearer(factory))
    assert jobs.status_code == 200 and bool(jobs.json()) == everything
    org = cluster["orgs"]["buyer"].pk
    facts = client.get(f"/api/v1/organizations/{org}/financials", {"updated_after": moment}, **buyer)
    assert facts.status_code == 200
    assert problem(client.get("/api/v1/factory/orders", {"updated_after": "soon"}, **buyer), 422)["errors"].keys() == {
        "updated_after"
    }


def test_a_dispute_refuses_a_defect_count_by_name(cluster: dict[str, Any], client: Any) -> None:
    a = delivered(cluster)
    buyer = cluster["people"]["buyer"]
    for count in ("abc", 401, 3):
        with pytest.raises(ValidationFailed) as exc:
            allocation_receipt(actor=buyer, allocation=a, confirm=False, note="划痕", defects_found=count)
        assert set(exc.value.errors) == {"defects_found"}
    answer = client.post(
        f"/api/v1/factory/allocations/{a.pk}/receipt",
        {"confirm": False, "note": "bad", "defects_found": "abc"},
        content_type="application/json",
        **bearer(buyer),
    )
    assert set(problem(answer, 422)["errors"]) == {"defects_found"}
    a.refresh_from_db()
    assert a.receipt == "" and a.defects_found is None and a.dispute_reason == ""  # nothing half-saved
    disputed = allocation_receipt(actor=buyer, allocation=a, confirm=False, note="划痕", defects_found="")
    assert disputed.receipt == Allocation.Receipt.DISPUTED
