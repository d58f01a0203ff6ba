"""Review 103 (this session's changes read again): each week of a shared pool keeps to the pool's rules; the API
refuses an outsider before it reads a filter; figures round half up; the job board's delivery date alone still
delivers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from agglo.factory.models import Allocation, Capability
from agglo.factory.selectors.shared import rounded
from agglo.factory.services.capacity import capacity_set
from agglo.factory.services.execution import allocation_progress
from agglo.factory.weeks import monday
from tests.conftest import user
from tests.factory.conftest import accepted_offer, signed_in
from tests.factory.test_shared_capacity import more_cnc, pools, weeks

pytestmark = pytest.mark.django_db

THREE = (("p1", "440100", 100), ("p2", "420100", 100), ("p3", "510100", 100))


def test_free_room_before_others_lead_times_is_not_one_factorys_own(cluster: dict[str, Any], make_org: Any) -> None:
    more_cnc(cluster, make_org, (("p1", "440100", 130),), process="printing3d")
    more_cnc(cluster, make_org, (("p2", "420100", 100), ("p3", "510100", 100)), process="printing3d", lead_weeks=6)
    pool = pools(cluster["people"]["buyer"])["printing3d"]
    starts = monday(dt.date.today()) + dt.timedelta(weeks=6)
    early = [w for w in pool.weeks if w.open and w.week < starts]
    assert early and all(w.withheld and w.free is None for w in early)
    assert all(w.free == 330 for w in pool.weeks if w.week >= starts)


def test_a_week_one_factory_raised_is_withheld(cluster: dict[str, Any], make_org: Any) -> None:
    more_cnc(cluster, make_org, THREE, process="printing3d")
    week = weeks()[-1]
    cap = Capability.objects.get(organization=cluster["orgs"]["p1"], process="printing3d")
    capacity_set(actor=cluster["people"]["p1"], capability=cap, week=week, capacity=5000)
    pool = pools(cluster["people"]["buyer"])["printing3d"]
    assert not pool.withheld
    cells = {w.week: w for w in pool.weeks}
    assert cells[week].withheld and cells[weeks()[-2]].capacity == 300


def test_a_factory_holding_more_than_half_is_not_shown(cluster: dict[str, Any], make_org: Any) -> None:
    more_cnc(cluster, make_org, (("p1", "440100", 550), ("p2", "420100", 250), ("p3", "510100", 200)), "printing3d")
    assert pools(cluster["people"]["buyer"])["printing3d"].withheld


def test_rounding_is_half_up() -> None:
    assert [rounded(n) for n in (125, 250, 1250, 2500, 9950, 99)] == [130, 250, 1300, 2500, 10000, 99]


def test_the_api_refuses_an_outsider_before_it_reads_a_filter(cluster: dict[str, Any]) -> None:
    outsider = signed_in(user("no-org-103"))
    assert outsider.get("/api/v1/factory/capacity/shared?from=soon").status_code == 403


def test_the_filter_errors_use_the_readers_colon(cluster: dict[str, Any]) -> None:
    page = signed_in(cluster["people"]["buyer"]).get("/factory/shared/?process=zzz").content.decode()
    assert "工艺：" in page.split('id="id_process-errors"')[1].split("</div>")[0]


def test_a_delivery_date_alone_still_delivers_the_whole_quantity_from_the_board(cluster: dict[str, Any]) -> None:
    a, who = accepted_offer(cluster)
    allocation_progress(actor=who, allocation=a, data={"quantity_done": a.quantity // 2})
    c = signed_in(who)
    form = c.get("/factory/jobs/").content.decode().split(f'data-allocation="{a.pk}"')[1].split("</form>")[0]
    field = re.search(r'name="quantity_done"[^>]*>', form).group(0)
    assert f'placeholder="{a.quantity // 2}"' in field  # what was reported, shown, not sent again
    sent = re.search(r'value="([^"]*)"', field).group(1)
    c.post(
        f"/factory/allocations/{a.pk}/progress/",
        {
            "quantity_done": sent,
            "defects": "",
            "delivered_on": timezone.localdate().isoformat(),
            "next": "/factory/jobs/",
        },
    )
    a.refresh_from_db()
    assert a.status == Allocation.Status.DELIVERED and a.quantity_done == a.quantity
