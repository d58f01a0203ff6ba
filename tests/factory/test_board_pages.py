"""The job board pages what came before: the open work is always shown whole, the earlier rows page newest first,
on the page and in the API alike."""

from __future__ import annotations

from typing import Any

import pytest

from agglo.factory.models import Allocation
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_cancel
from agglo.factory.views import board
from tests.factory.conftest import signed_in
from tests.factory.test_disputes import disputed
from tests.factory.test_plan_flow import planned


def _owner(cluster: dict[str, Any], factory_id: int) -> Any:
    return next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == factory_id)


@pytest.fixture
def history(cluster: dict[str, Any]) -> dict[str, Any]:
    """Three orders whose every offer was accepted; the first two then cancelled. One factory's view of it."""
    buyer = cluster["people"]["buyer"]
    orders = []
    for n in range(3):
        order = planned(cluster, product=f"外壳{n}")
        for a in order.allocations.filter(status="offered"):
            allocation_respond(actor=_owner(cluster, a.factory_id), allocation=a, action="accept")
        orders.append(order)
    for order in orders[:2]:
        order_cancel(actor=buyer, order=order, reason="不再需要")
    # the factory with most work across the three orders
    counts: dict[int, int] = {}
    for a in Allocation.objects.filter(order__in=orders):
        counts[a.factory_id] = counts.get(a.factory_id, 0) + 1
    factory_id = max(counts, key=lambda k: counts[k])
    mine = Allocation.objects.filter(factory_id=factory_id)
    return {
        "who": _owner(cluster, factory_id),
        "open": list(mine.filter(status="accepted").order_by("week", "id").values_list("id", flat=True)),
        "earlier": list(mine.exclude(status="accepted").order_by("-updated_at", "-id").values_list("id", flat=True)),
    }


def test_earlier_rows_page_newest_first_and_open_work_shows_on_every_page(
    history: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert history["open"] and len(history["earlier"]) >= 2
    monkeypatch.setattr(board, "BOARD_PAGE", 1)
    client = signed_in(history["who"])
    seen: list[int] = []
    for number in range(1, len(history["earlier"]) + 1):
        page = client.get(f"/factory/jobs/?earlier={number}").content.decode()
        accepted = page.split('id="accepted"')[1].split("</table>")[0]
        assert f'data-allocation="{history["open"][0]}"' in accepted  # each list pages on its own
        earlier = page.split('id="earlier"')[1].split("</table>")[0]
        seen += [pk for pk in history["earlier"] if f'data-allocation="{pk}"' in earlier]
        pager = page.split('id="earlier-pages"')[1].split("</nav>")[0]
        assert f"第 {number} 页，共 {len(history['earlier'])} 页" in pager
        assert ("earlier=" + str(number + 1) in pager) == (number < len(history["earlier"]))
    assert seen == history["earlier"]  # each once, newest first
    # open work pages too, by week (review 49 a11y F2: hundreds of rows with their forms on one page)
    shown = []
    for number in range(1, len(history["open"]) + 1):
        page = client.get(f"/factory/jobs/?accepted={number}&earlier=2").content.decode()
        accepted = page.split('id="accepted"')[1].split("</table>")[0]
        shown += [pk for pk in history["open"] if f'data-allocation="{pk}"' in accepted]
        # its forms come back to this page of every list
        assert f'name="next" value="/factory/jobs/?accepted={number}&amp;earlier=2"' in accepted
    assert shown == history["open"]
    # a page past the end shows the last; a page that is not a number, the first
    last = client.get(f"/factory/jobs/?earlier={len(seen) + 5}").content.decode().split('id="earlier"')[1]
    assert f'data-allocation="{seen[-1]}"' in last.split("</table>")[0]
    first = client.get("/factory/jobs/?earlier=zz").content.decode().split('id="earlier"')[1]
    assert f'data-allocation="{seen[0]}"' in first.split("</table>")[0]


def test_the_api_lists_open_work_then_earlier_rows_in_pages_with_the_total(history: dict[str, Any]) -> None:
    client = signed_in(history["who"])
    whole = history["open"] + history["earlier"]
    got: list[int] = []
    for offset in range(0, len(whole), 2):
        r = client.get(f"/api/v1/factory/jobs?limit=2&offset={offset}")
        assert r.status_code == 200 and r["X-Total-Count"] == str(len(whole))
        got += [row["id"] for row in r.json()]
    assert got == whole
    r = client.get("/api/v1/factory/jobs?limit=0")
    assert r.status_code == 422 and "limit" in r.json()["errors"]
    # the status filter pages over its own rows
    r = client.get("/api/v1/factory/jobs?status=accepted")
    assert [row["id"] for row in r.json()] == history["open"] and r["X-Total-Count"] == str(len(history["open"]))


def test_an_answer_with_errors_on_a_later_page_of_disputes_comes_back_at_its_row(
    cluster: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 30: the answer's form carries the board's pages back, so the row, its error and the page's links are
    those of the page it was sent from."""
    by_factory: dict[int, list[Allocation]] = {}
    for _ in range(6):
        a, _factory, _buyer = disputed(cluster)
        by_factory.setdefault(a.factory_id, []).append(a)
        if len(by_factory[a.factory_id]) == 2:
            break
    rows = next(v for v in by_factory.values() if len(v) == 2)
    monkeypatch.setattr(board, "BOARD_PAGE", 1)
    client = signed_in(_owner(cluster, rows[0].factory_id))
    second = list(Allocation.objects.filter(factory_id=rows[0].factory_id, receipt="disputed").order_by("week", "id"))[
        1
    ]
    page2 = client.get("/factory/jobs/?disputed=2").content.decode()
    assert f'data-allocation="{second.pk}"' in page2 and 'name="next" value="/factory/jobs/?disputed=2"' in page2
    r = client.post(
        f"/factory/allocations/{second.pk}/answer-dispute/", {"reply": "", "next": "/factory/jobs/?disputed=2"}
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert f'id="row-errors-{second.pk}"' in body
    pager = body.split('id="disputed-pages"')[1].split("</nav>")[0]
    assert 'href="/factory/jobs/?disputed=1"' in pager  # its links lead to the board, not the form's address
    # answered properly, the member lands on the page it answered from
    r = client.post(
        f"/factory/allocations/{second.pk}/answer-dispute/",
        {"reply": "按图纸检验合格", "next": "/factory/jobs/?disputed=2"},
    )
    assert r.status_code == 302 and r["Location"] == "/factory/jobs/?disputed=2"


def test_work_partly_done_offers_no_withdrawal_on_the_board(cluster: dict[str, Any]) -> None:
    # review 56 L5: the form was drawn on every accepted row, and always refused work partly done
    from agglo.factory.services.execution import allocation_progress
    from tests.factory.conftest import accepted_offer

    a, factory = accepted_offer(cluster)
    c = signed_in(factory)
    withdraw = f"/factory/allocations/{a.pk}/withdraw/"
    assert withdraw in c.get("/factory/jobs/").content.decode()
    allocation_progress(actor=factory, allocation=a, data={"quantity_done": 1})
    page = c.get("/factory/jobs/").content.decode()
    assert withdraw not in page and ("已有完成数量的任务不能退出" in page or "Work partly done" in page)
