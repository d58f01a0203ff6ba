"""Review 104 (the factory at platform scale): what a page or a plan reads must not grow row by row with the
record."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from agglo.factory.models import Allocation
from agglo.factory.selectors import scorecards as scorecards_module
from agglo.factory.selectors.scorecards import scorecards
from agglo.factory.services.orders import order_create, order_plan
from tests.factory.conftest import order_data, signed_in


def _deliveries(cluster: dict[str, Any], n: int) -> int:
    """`n` deliveries of one factory's work (copies of a planned piece), the first half on the Sunday of the
    promised week (on time), the rest on the Monday after (late); the factory's id."""
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    a = order.allocations.filter(status="offered").first()
    rows = []
    for i in range(n):
        a.pk = None
        a.status, a.quantity_done, a.defects, a.promised_week = "delivered", 10, i % 2, a.week
        a.delivered_on = a.week + dt.timedelta(days=6 if i < n // 2 else 7)
        rows.append(Allocation(**{f.attname: getattr(a, f.attname) for f in Allocation._meta.concrete_fields}))
    Allocation.objects.bulk_create(rows)
    return a.factory_id


def _read(factory: int) -> tuple[Any, int, int]:
    """The factory's scorecard, the queries and the names worded reading it (one per row the database returns)."""
    with (
        mock.patch.object(scorecards_module, "in_language", wraps=scorecards_module.in_language) as worded,
        CaptureQueriesContext(connection) as queries,
    ):
        card = scorecards([factory])[factory]
    return card, len(queries), worded.call_count


def test_a_scorecard_is_summed_by_the_database_not_read_delivery_by_delivery(cluster: dict[str, Any]) -> None:
    factory = _deliveries(cluster, 20)
    card, queries, worded = _read(factory)
    assert (card.jobs, card.on_time, card.units, card.defects) == (20, 10, 200, 10)
    Allocation.objects.filter(factory_id=factory, status="delivered").delete()
    factory = _deliveries(cluster, 40)
    card, queries_2n, worded_2n = _read(factory)
    assert (card.jobs, card.on_time, card.units, card.defects) == (40, 20, 400, 20)
    # one row per factory and unit, whatever the number of deliveries (it was one row, and two names, per delivery)
    assert (queries_2n, worded_2n) == (queries, worded) and worded <= 2


def _delivered_by_each(cluster: dict[str, Any]) -> list[int]:
    """The factories sz, su and cd (their ids), with 1, 2 and 3 deliveries on record."""
    factories = [o.pk for name, o in cluster["orgs"].items() if name != "buyer"]
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    a = order.allocations.first()
    for n, factory in enumerate(factories, start=1):  # sz, su, cd: 1, 2 and 3 deliveries
        Allocation.objects.bulk_create(
            Allocation(**{f.attname: getattr(a, f.attname) for f in Allocation._meta.concrete_fields if f.name != "id"})
            for _i in range(n)
        )
        Allocation.objects.filter(pk__gt=a.pk, factory_id=a.factory_id, status=a.status).update(
            factory_id=factory, status="delivered", quantity_done=10, delivered_on=a.week
        )
    return factories


def test_the_scorecards_page_shows_a_page_of_factories(cluster: dict[str, Any]) -> None:
    from agglo.factory.views import scorecards as view

    factories = _delivered_by_each(cluster)
    c = signed_in(cluster["people"]["buyer"])
    with mock.patch.object(view, "SCORECARDS_PAGE", 2):
        # a name as read, without the marks where it may break between its words (review 118)
        first, second = (c.get(f"/factory/scorecards/?page={p}").content.decode().replace("<wbr>", "") for p in (1, 2))
    names = {o.pk: o.name_zh for o in cluster["orgs"].values()}
    assert names[factories[2]] in first and names[factories[1]] in first and names[factories[0]] not in first
    assert names[factories[0]] in second and names[factories[2]] not in second
    assert 'id="scorecard-pages"' in first


def test_the_api_pages_scorecards_and_capabilities(cluster: dict[str, Any]) -> None:
    """Both lists grow with the platform: a page at a time, the whole count in `X-Total-Count`, each row once."""
    factories = _delivered_by_each(cluster)
    c = signed_in(cluster["people"]["buyer"])
    pages = [c.get(f"/api/v1/factory/scorecards?limit=2&offset={n}") for n in (0, 2)]
    assert [r["X-Total-Count"] for r in pages] == ["3", "3"]
    assert [x["organization_id"] for r in pages for x in r.json()] == factories[::-1]  # most delivered first
    bad = c.get("/api/v1/factory/scorecards?limit=0")
    assert bad.status_code == 422 and list(bad.json()["errors"]) == ["limit"]

    operator = signed_in(cluster["operator"])  # reads every factory's capabilities
    first, second = (operator.get(f"/api/v1/factory/capabilities?limit=4&offset={n}") for n in (0, 4))
    assert first["X-Total-Count"] == second["X-Total-Count"] == "6"
    ids = [x["id"] for x in first.json() + second.json()]
    assert len(ids) == len(set(ids)) == 6
    su = cluster["orgs"]["su"].pk
    mine = operator.get(f"/api/v1/factory/capabilities?organization_id={su}")
    assert mine["X-Total-Count"] == "2" and {x["organization_id"] for x in mine.json()} == {su}
    # a factory narrowing to another's id finds none of it
    other = signed_in(cluster["people"]["sz"]).get(f"/api/v1/factory/capabilities?organization_id={su}")
    assert other.status_code == 200 and other.json() == [] and other["X-Total-Count"] == "0"
