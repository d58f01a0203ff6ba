"""The cluster's shared capacity: member factories' weeks pooled by process or province, small pools withheld."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest
from django.test import Client

from agglo.access.models import Membership, PlatformRole
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.factory.models import Allocation, Capability
from agglo.factory.selectors.calendar import calendar_page
from agglo.factory.selectors.planning import first_open_day
from agglo.factory.selectors.shared import ABROAD, ELSEWHERE, rounded, shared_capacity
from agglo.factory.services.capacity import capability_save, capacity_set
from agglo.factory.services.orders import order_create, order_plan
from agglo.factory.weeks import monday
from agglo.registry.models import Organization
from tests.conftest import make_uscc, user
from tests.factory.conftest import order_data, signed_in

pytestmark = pytest.mark.django_db

CNC_MORE = (("gz", "440100", 200), ("dg", "441900", 150), ("wh", "420100", 100))  # Guangzhou, Dongguan, Wuhan


def more_cnc(
    cluster: dict[str, Any],
    make_org: Any,
    rows: tuple[tuple[str, str, int], ...] = CNC_MORE,
    process: str = "cnc",
    **terms: Any,
) -> None:
    """Factories making CNC machining (or `process`) besides those of the cluster fixture."""
    for name, region, capacity in rows:
        n = len(cluster["orgs"])
        org = make_org(region=region, uscc=make_uscc(region, f"MA7C00{n:02d}X"))
        admin = user(f"{name}-admin")
        Membership.objects.create(user=admin, organization=org, role=Membership.Role.ADMIN)
        declare(admin, org, process, capacity, **terms)
        cluster["orgs"][name], cluster["people"][name] = org, admin


def declare(admin: Any, org: Any, process: str, capacity: int, **terms: Any) -> Capability:
    data = {"process": process, "weekly_capacity": capacity, "unit_cost": "18", "quality_grade": 2, **terms}
    return capability_save(actor=admin, organization_id=org.pk, data=data)


def weeks() -> list[dt.date]:
    return calendar_page(None).weeks


def pools(who: Any, **filters: str) -> dict[str, Any]:
    return {p.key: p for p in shared_capacity(actor=who, weeks=weeks(), **filters)}


def test_a_process_pools_every_member_factorys_weeks(cluster: dict[str, Any], make_org: Any) -> None:
    more_cnc(cluster, make_org)  # CNC: Shenzhen 300, Suzhou 250, Guangzhou 200, Dongguan 150, Wuhan 100
    buyer = cluster["people"]["buyer"]
    cnc = Capability.objects.get(organization=cluster["orgs"]["su"], process="cnc")
    week = weeks()[-1]
    capacity_set(actor=cluster["people"]["su"], capability=cnc, week=week, capacity=50)
    found = pools(buyer)
    assert found["cnc"].factories == 5 and found["cnc"].provinces == 3
    by_week = {w.week: w for w in found["cnc"].weeks}
    assert by_week[week].capacity == 300 + 50 + 200 + 150 + 100
    assert by_week[weeks()[-2]].capacity == 1000
    assert by_week[week].free == by_week[week].capacity  # nothing accepted or offered
    # two factories make surface treatment, two assembly: their figures are theirs to show
    assert found["surface"].withheld and found["surface"].factories == 2
    assert found["assembly"].withheld


def spread(parts: list[int]) -> bool:
    """The week rule on what each factory has taken: none, or three or more with none above half."""
    taken = [n for n in parts if n > 0]
    return not taken or (len(taken) >= 3 and max(taken) <= sum(taken) / 2)


def test_offers_hold_each_factory_only_its_own_room_and_a_week_few_take_part_in_is_withheld(
    cluster: dict[str, Any], make_org: Any
) -> None:
    more_cnc(cluster, make_org)  # CNC: Shenzhen 300, Suzhou 250, Guangzhou 200, Dongguan 150, Wuhan 100
    buyer = cluster["people"]["buyer"]
    data = order_data(operations=[{"process": "cnc", "quantity": 900}], max_suppliers=3)
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=data))
    offers = list(order.allocations.filter(status=Allocation.Status.OFFERED))
    assert offers
    by_week: dict[dt.date, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for a in offers:
        by_week[a.week][a.factory_id] += a.quantity
    cnc = {w.week: w for w in pools(buyer)["cnc"].weeks}
    for week, parts in by_week.items():
        if spread(list(parts.values())):
            assert cnc[week].free == rounded(1000 - sum(parts.values()))
        else:  # one or two factories' offers: the taken room would be theirs
            assert cnc[week].withheld and cnc[week].free is None
    assert any(w.withheld for w in cnc.values()) or all(spread(list(p.values())) for p in by_week.values())
    # a factory that lowers a week below the offers it holds there frees none of its neighbours' room
    week = max(by_week, key=lambda w: len(by_week[w]))
    Allocation.objects.filter(pk__in=[a.pk for a in offers if a.week != week]).update(status="declined")
    for factory in list(by_week[week])[:-1]:  # all but one: the week's rule is met by three others' offers below
        by_week[week].pop(factory)
    rows = Capability.objects.filter(process="cnc", active=True)
    low = rows.exclude(organization_id__in=by_week[week]).order_by("-weekly_capacity")[:3]
    for cap in low:  # three more factories take part: an order of theirs is offered the same week
        Allocation.objects.create(
            order=order,
            operation=order.operations.get(),
            capability=cap,
            factory_id=cap.organization_id,
            week=week,
            quantity=40,
            unit_cost=cap.unit_cost,
            plan_version=order.plan_version,
            respond_by=offers[0].respond_by,
        )
        by_week[week][cap.organization_id] += 40
    busy = next(iter(by_week[week]))  # the one left of the plan's: it lowers the week below its offer
    busy_cap = rows.get(organization_id=busy)
    owner = next(p for n, p in cluster["people"].items() if cluster["orgs"][n].pk == busy)
    capacity_set(actor=owner, capability=busy_cap, week=week, capacity=0)
    cell = {w.week: w for w in pools(buyer)["cnc"].weeks}[week]
    others = sum(n for f, n in by_week[week].items() if f != busy)
    left = 1000 - busy_cap.weekly_capacity  # the week's capacity without the factory that set it to 0
    assert (cell.capacity, cell.free) == (rounded(left), rounded(left - others))


def test_weeks_that_take_no_new_work_show_no_free_capacity(cluster: dict[str, Any], make_org: Any) -> None:
    more_cnc(cluster, make_org)
    opens = monday(first_open_day())
    span = [opens - dt.timedelta(weeks=1), opens]
    found = shared_capacity(actor=cluster["people"]["buyer"], weeks=span, process="", province="")
    cnc = next(p for p in found if p.key == "cnc").weeks
    assert (cnc[0].open, cnc[0].free, cnc[0].capacity) == (False, 0, 1000)
    assert (cnc[1].open, cnc[1].free) == (True, 1000)


def test_provinces_too_small_to_show_are_pooled_and_cannot_be_worked_out(
    cluster: dict[str, Any], make_org: Any
) -> None:
    more_cnc(cluster, make_org)  # Guangdong 3 (Shenzhen, Guangzhou, Dongguan), Jiangsu 1, Hubei 1
    buyer = cluster["people"]["buyer"]
    # Guangdong alone is big enough, but the rest (two factories) would be the total less Guangdong: all pooled
    found = pools(buyer, process="cnc")
    assert list(found) == [ELSEWHERE]
    assert found[ELSEWHERE].factories == 5 and not found[ELSEWHERE].withheld
    # asked for by name, Guangdong is withheld too, on the pools by process as on those by province
    assert pools(buyer, process="cnc", province="440000")["440000"].withheld
    assert pools(buyer, province="440000")["cnc"].withheld
    # with a third factory elsewhere, Guangdong and the rest each show
    more_cnc(cluster, make_org, (("cd2", "510100", 200),))
    found = pools(buyer, process="cnc")
    assert list(found) == ["440000", ELSEWHERE]
    assert found["440000"].factories == 3 and found[ELSEWHERE].factories == 3
    assert found["440000"].weeks[-1].capacity == 300 + 200 + 150
    assert found[ELSEWHERE].weeks[-1].capacity == 250 + 100 + 200
    assert pools(buyer, province="440000")["cnc"].weeks == found["440000"].weeks
    assert pools(buyer, process="cnc", province="440000")["440000"].weeks == found["440000"].weeks
    # a province without the process has no pool
    assert pools(buyer, process="cnc", province="110000") == {}


def test_only_active_capabilities_of_members_in_good_standing_count(cluster: dict[str, Any], make_org: Any) -> None:
    more_cnc(cluster, make_org)
    buyer = cluster["people"]["buyer"]
    Organization.objects.filter(pk=cluster["orgs"]["wh"].pk).update(status="suspended")
    assert pools(buyer)["cnc"].factories == 4
    Capability.objects.filter(organization=cluster["orgs"]["dg"]).update(active=False)
    assert pools(buyer)["cnc"].factories == 3
    Capability.objects.filter(organization=cluster["orgs"]["gz"]).update(active=False)
    assert pools(buyer)["cnc"].withheld


def test_kept_at_the_members_level(cluster: dict[str, Any], make_org: Any) -> None:
    more_cnc(cluster, make_org)
    assert Client().get("/factory/shared/").status_code == 302
    assert Client().get("/api/v1/factory/capacity/shared").status_code == 401
    outsider = signed_in(user("no-org"))
    assert outsider.get("/factory/shared/").status_code == 403
    assert outsider.get("/factory/shared/?process=zzz").status_code == 403  # refused before its filters are read
    assert outsider.get("/api/v1/factory/capacity/shared").status_code == 403
    with pytest.raises(Forbidden):
        shared_capacity(actor=user("nobody"), weeks=weeks())
    officer = signed_in(user("officer", role=PlatformRole.Role.GOVERNMENT))
    body = officer.get("/api/v1/factory/capacity/shared").json()
    assert body["min_factories"] == 3 and len(body["weeks"]) == len(weeks())
    cnc = next(p for p in body["pools"] if p["key"] == "cnc")
    assert cnc["factories"] == 5 and not cnc["withheld"] and cnc["weeks"][-1]["capacity"] == 1000
    surface = next(p for p in body["pools"] if p["key"] == "surface")
    assert surface["withheld"] and surface["weeks"] is None
    page = officer.get("/factory/shared/")
    assert page.status_code == 200 and 'data-pool="cnc"' in page.content.decode()
    # a member in good standing reads it; one suspended does not
    buyer = signed_in(cluster["people"]["buyer"])
    assert buyer.get("/factory/shared/?process=cnc").status_code == 200
    Organization.objects.filter(pk=cluster["orgs"]["buyer"].pk).update(status="suspended")
    assert buyer.get("/api/v1/factory/capacity/shared").status_code == 403


def test_a_filter_that_cannot_be_read_is_named(cluster: dict[str, Any], english: None) -> None:
    buyer = signed_in(cluster["people"]["buyer"])
    answer = buyer.get("/api/v1/factory/capacity/shared?process=zzz&province=440300&from=soon")
    assert answer.status_code == 422 and answer["Content-Type"].startswith("application/problem+json")
    assert set(answer.json()["errors"]) == {"from"}
    answer = buyer.get("/api/v1/factory/capacity/shared?process=zzz&province=440300")
    errors = answer.json()["errors"]
    assert answer.status_code == 422 and set(errors) == {"process", "province"}
    assert "zzz" in errors["process"][0] and "440300" in errors["province"][0]  # a city, not its province
    with pytest.raises(ValidationFailed):
        shared_capacity(actor=cluster["people"]["buyer"], weeks=weeks(), province="CN")
    buyer.cookies["django_language"] = "en"
    page = buyer.get("/factory/shared/?process=zzz").content.decode()
    assert "Process: Select a valid choice" in page and "data-pool=" not in page


def test_the_query_count_does_not_grow_with_the_factories(
    cluster: dict[str, Any], make_org: Any, django_assert_max_num_queries: Any
) -> None:
    more_cnc(cluster, make_org)
    buyer = cluster["people"]["buyer"]
    with django_assert_max_num_queries(8):
        pools(buyer)
    with django_assert_max_num_queries(9):
        pools(buyer, process="cnc", province="440000")


def test_figures_are_rounded_to_two_significant_digits() -> None:
    assert [rounded(n) for n in (0, 7, 87, 99, 100, 137, 1234, 7770, 98765)] == [
        0,
        7,
        87,
        99,
        100,
        140,
        1200,
        7800,
        99000,
    ]


def test_a_readers_own_factories_do_not_count_towards_a_pool_it_may_read(
    cluster: dict[str, Any], make_org: Any
) -> None:
    # surface treatment: Suzhou 500 and Chengdu 400, withheld; the buyer declares one of its own (review 101)
    buyer, org = cluster["people"]["buyer"], cluster["orgs"]["buyer"]
    declare(buyer, org, "surface", 300)
    assert pools(buyer)["surface"].factories == 3 and pools(buyer)["surface"].withheld
    # to a reader with no surface treatment of its own, the three are three others
    assert not pools(cluster["people"]["sz"])["surface"].withheld
    # nor does a group's admin of two of them read the third
    Membership.objects.create(user=buyer, organization=cluster["orgs"]["cd"], role=Membership.Role.ADMIN)
    more_cnc(cluster, make_org, (("x1", "440100", 300),), process="surface")
    again = type(buyer).objects.get(pk=buyer.pk)  # as the next request reads it (memberships are kept per request)
    assert pools(again)["surface"].withheld  # Suzhou and Guangzhou besides the reader's two


def test_a_reader_cannot_move_the_split_by_province_with_a_capability_of_its_own(
    cluster: dict[str, Any], make_org: Any
) -> None:
    # CNC: Guangdong Shenzhen 300 + Guangzhou 200, Hubei Wuhan 100, Sichuan three; Suzhou's dropped (review 101)
    more_cnc(cluster, make_org, (("gz", "440100", 200), ("wh", "420100", 100)))
    more_cnc(cluster, make_org, (("c1", "510100", 120), ("c2", "511100", 110), ("c3", "510700", 100)))
    Capability.objects.filter(organization=cluster["orgs"]["su"], process="cnc").update(active=False)
    buyer, org = cluster["people"]["buyer"], cluster["orgs"]["buyer"]  # in Shenzhen, Guangdong
    before = pools(buyer, process="cnc")
    declare(buyer, org, "cnc", 1)
    after = pools(buyer, process="cnc")
    assert list(before) == list(after) == ["510000", ELSEWHERE]
    assert after[ELSEWHERE].factories == before[ELSEWHERE].factories + 1


def test_a_pool_one_factory_dominates_is_withheld(cluster: dict[str, Any], make_org: Any) -> None:
    more_cnc(cluster, make_org, (("big", "440100", 5000),))  # 5,000 of 5,550 a week
    assert pools(cluster["people"]["buyer"])["cnc"].withheld
    more_cnc(cluster, make_org, (("b2", "420100", 5000),))  # two of 5,000: none above half
    assert not pools(cluster["people"]["buyer"])["cnc"].withheld


def test_no_free_capacity_before_a_factorys_lead_time(cluster: dict[str, Any], make_org: Any) -> None:
    more_cnc(
        cluster,
        make_org,
        (("p1", "440100", 100), ("p2", "420100", 100), ("p3", "510100", 100)),
        process="printing3d",
        lead_weeks=6,
    )
    printing = pools(cluster["people"]["buyer"])["printing3d"].weeks
    starts = monday(dt.date.today()) + dt.timedelta(weeks=6)
    assert all(w.free == 0 and w.capacity == 300 for w in printing if w.week < starts)
    assert all(w.free == 300 for w in printing if w.week >= starts)


def test_members_abroad_are_pooled_as_abroad_not_as_a_province(
    cluster: dict[str, Any], make_org: Any, english: None
) -> None:
    more_cnc(cluster, make_org, (("gz", "440100", 200), ("dg", "441900", 150)))
    for n in range(3):
        org = make_org(region="DE", uscc="", foreign_registry_id=f"HRB 1000{n}", name_zh=f"德国工厂{n}")
        admin = user(f"de{n}-admin")
        Membership.objects.create(user=admin, organization=org, role=Membership.Role.ADMIN)
        declare(admin, org, "cnc", 100)
    found = pools(cluster["people"]["buyer"], process="cnc")
    assert ABROAD not in found and "DE" not in found
    assert list(found) == ["440000", ELSEWHERE] and found[ELSEWHERE].label == "Other provinces and abroad"
    # nor counted as one (review 103): Guangdong and Jiangsu
    assert pools(cluster["people"]["buyer"])["cnc"].provinces == 2
