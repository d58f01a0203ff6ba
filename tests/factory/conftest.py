from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from agglo.access.models import Membership
from agglo.factory.selectors.planning import first_open_day
from agglo.factory.services.capacity import capability_save
from tests.conftest import make_uscc, user


@pytest.fixture
def cluster(make_org: Any, operator: Any) -> dict[str, Any]:
    """A buyer in Shenzhen and factories in Shenzhen, Suzhou and Chengdu, each with an admin."""
    people: dict[str, Any] = {}
    orgs: dict[str, Any] = {}
    for name, region, body in (
        ("buyer", "440300", "MA7B0000A"),
        ("sz", "440300", "MA7B0000B"),
        ("su", "320500", "MA7B0000C"),
        ("cd", "510100", "MA7B0000D"),
    ):
        org = make_org(
            region=region,
            uscc=make_uscc(region, body),
            name_zh=f"{name}工厂有限公司",
            name_en=f"{name} Factory Co., Ltd.",
        )
        u = user(f"{name}-admin")
        Membership.objects.create(user=u, organization=org, role=Membership.Role.ADMIN)
        orgs[name], people[name] = org, u
    caps = {
        "sz": [("cnc", 300, "20", "500"), ("assembly", 400, "12", "300")],
        "su": [("cnc", 250, "16", "800"), ("surface", 500, "4", "200")],
        "cd": [("surface", 400, "3", "200"), ("assembly", 300, "10", "400")],
    }
    for name, rows in caps.items():
        for process, capacity, unit, setup in rows:
            capability_save(
                actor=people[name],
                organization_id=orgs[name].pk,
                data={
                    "process": process,
                    "weekly_capacity": capacity,
                    "unit_cost": unit,
                    "setup_cost": setup,
                    "min_lot": 50,
                    "quality_grade": 2,
                    "certifications": ["ISO9001"],
                },
            )
    return {"orgs": orgs, "people": people, "operator": operator}


def signed_in(who: Any) -> Client:
    """A test client logged in as `who`."""
    c = Client()
    c.force_login(who)
    return c


def order_data(**overrides: Any) -> dict[str, Any]:
    today = dt.date.today()
    data = {
        "product": "工业网关外壳",
        "quantity": 600,
        "start_week": first_open_day(today).isoformat(),
        "due_week": (today + dt.timedelta(weeks=6)).isoformat(),
        "late_penalty": "2000",
        "max_suppliers": 2,
        "operations": [
            {"process": "cnc", "quantity": 600},
            {"process": "surface", "quantity": 600, "after": [1]},
            {"process": "assembly", "quantity": 600, "after": [2]},
        ],
    }
    data.update(overrides)
    return data


def accepted_offer(cluster: dict[str, Any]) -> tuple[Any, Any]:
    """A freshly planned order's first offer, accepted by its factory; the allocation and that factory's admin."""
    from agglo.factory.services.jobs import allocation_respond
    from agglo.factory.services.orders import order_create, order_plan

    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    a = order.allocations.filter(status="offered").first()
    who = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
    allocation_respond(actor=who, allocation=a, action="accept")
    a.refresh_from_db()
    return a, who
