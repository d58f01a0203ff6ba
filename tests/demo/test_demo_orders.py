"""The demo's virtual-factory orders: placed, planned and (the first) accepted and under way through the real
services, once, so that the order, job board and scorecard pages have something to show on a first visit."""

import pytest
from django.contrib.auth import get_user_model
from django.utils.translation import gettext, override

from agglo.access.models import Membership
from agglo.demo.factory import demo_factory_load
from agglo.demo.orders import BOARD, HOUSING, demo_orders_summary
from agglo.demo.services import demo_accounts_ensure, demo_cluster_load
from agglo.factory.models import Allocation, Order
from agglo.factory.selectors.scorecards import scorecard_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(ref):
    # the cluster `agglo up` loads (300 organizations, seed 42), without the professional data and the market
    demo_cluster_load(n=300, seed=42)
    demo_factory_load(seed=42)
    demo_accounts_ensure()
    return get_user_model().objects.get(username="sme-admin")


def test_the_demo_buyer_has_an_order_under_way_and_one_waiting_for_answers(demo, client):
    housing = Order.objects.get(product=HOUSING["product"])
    board = Order.objects.get(product=BOARD["product"])
    assert housing.buyer_id == board.buyer_id == Membership.objects.get(user=demo).organization_id
    assert housing.status == Order.Status.CONFIRMED and board.status == Order.Status.PLANNED
    live = housing.allocations.exclude(status__in=("superseded",))
    assert {a.status for a in live} == {"accepted", "delivered"}
    delivered = live.get(status="delivered")
    assert delivered.operation.seq == 1 and delivered.receipt == "confirmed" and delivered.quantity_done
    started = live.filter(status="accepted", operation__seq=1)
    assert all(a.started and a.quantity_done == a.quantity // 2 for a in started)
    assert not live.filter(operation__seq__gt=1, started=True).exists()
    assert set(board.allocations.values_list("status", flat=True)) == {"offered"}
    # the delivery is on the factory's scorecard
    card = next(c for c in scorecard_list(actor=demo) if c.organization_id == delivered.factory_id)
    assert card.delivered == 1 and card.on_time == 1
    # the buyer's page shows the plan and the progress of the started work
    client.force_login(demo)
    page = client.get(f"/factory/orders/{housing.pk}/").content.decode()
    with override("zh-hans"):
        assert gettext("Receipt confirmed") in page
    for a in started:
        assert f'id="progress-{a.pk}"' in page
    # with its drawing, which the factories serving it download
    (drawing,) = housing.documents.all()
    assert drawing.original_name in page and drawing.content_type == "application/pdf"
    body = drawing.file.read()
    assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF") and b"GW-200" in body
    assert not board.documents.exists()


def test_the_demo_orders_are_made_once_and_name_the_logins_to_answer_them(demo):
    count = Allocation.objects.count()
    demo_accounts_ensure()  # as `agglo up` does on every start
    assert Order.objects.count() == 2 and Allocation.objects.count() == count
    summary = dict(demo_orders_summary(demo))
    for order, usernames in summary.items():
        factories = set(order.allocations.exclude(status="superseded").values_list("factory_id", flat=True))
        admins = set(
            Membership.objects.filter(user__username__in=usernames, role="admin").values_list(
                "organization_id", flat=True
            )
        )
        assert usernames and admins == factories


def test_agglo_up_says_whose_job_boards_show_the_demo_orders(demo):
    import io

    from rich.console import Console

    from agglo.web.management.commands.up import _print_demo_orders

    out = io.StringIO()
    _print_demo_orders(Console(file=out, width=200))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Demo orders placed by sme-admin")
    housing, board = lines[1:3]
    assert housing.strip().startswith(HOUSING["product"]) and "first step under way" in housing
    assert board.strip().startswith(BOARD["product"]) and "waiting for the factories' answers" in board
    for (_order, usernames), line in zip(demo_orders_summary(demo), (housing, board), strict=True):
        assert line.endswith(", ".join(usernames))
