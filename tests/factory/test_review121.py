"""Review 121 (concurrency on PostgreSQL): the steps on an order and on a factory's calendar that act for a member
and did not hold its standing, on the scene and with the helpers of reviews 114, 116 and 119.

A suspended member's people read, they do not act (docs/architecture.md, the factory's departures). A step that acts
for the factory (its answer to a dispute, a change of its capabilities or calendar, by hand or by a file) or for the
buyer (a referral of the dispute, a receipt, a drawing attached or removed, an order placed) now holds that member's
standing first, as its answers, reports and the buyer's plans already did: of the step and the member's suspension the
later sees the other's result. A step that comes first lands, and the suspension waits for it; one that comes second
is refused, its people told that their organization is not in good standing, and leaves nothing behind. Without the
hold, a step arriving second read the member in good standing while the suspension was not yet committed and landed
after it, and a suspension arriving second did not wait for the step."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext

from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.models import AuditEvent
from agglo.factory.models import Allocation, Capability, CapacitySlot, Order, OrderDocument
from agglo.factory.services import calendar_file, capacity, disputes, documents, execution, orders
from agglo.factory.services.capacity import settable_weeks
from tests.conftest import PDF
from tests.factory import test_review114 as r114
from tests.factory.conftest import cluster, order_data  # noqa: F401 - fixture
from tests.factory.test_races import owner
from tests.factory.test_review114 import Scene, _consistent, _race, _step
from tests.factory.test_review116 import ADDED, _nothing_left_to, _order, _suspend
from tests.factory.test_review119 import NOT_IN_GOOD_STANDING, _reporting, _said
from tests.registry.test_review111 import _fresh

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

S = Allocation.Status
# what a suspended member's people are told, in the language the race's threads speak (the default)
BUYER_NOT_IN_GOOD_STANDING = (
    "Your organization is not a member in good standing at present: it cannot act on its orders until it is reinstated."
)
CALENDAR_NOT_IN_GOOD_STANDING = (
    "Your organization is not a member in good standing at present: its capabilities and capacity calendar cannot "
    "be changed until it is reinstated."
)
FILE_NOT_IN_GOOD_STANDING = (
    "Organization %(id)s is not a member in good standing at present: its calendar cannot be changed until it is "
    "reinstated."
)
# the steps this review races, each: where it holds still when it comes first (after what it locked), what it records
# once it lands, whose suspension it is raced against (review 114's buyer's, review 116's factory's), and what its
# people are told when it comes second
STEPS: dict[str, tuple[tuple[Any, str], str, str, str]] = {
    "answer": (
        (disputes, "tell_buyer"),
        "factory.allocation_dispute_answered",
        "suspend_factory",
        NOT_IN_GOOD_STANDING,
    ),
    "refer": ((disputes, "notify"), "factory.allocation_dispute_referred", "suspend", BUYER_NOT_IN_GOOD_STANDING),
    "settle": ((execution, "tell_factory"), "factory.allocation_received", "suspend", BUYER_NOT_IN_GOOD_STANDING),
    "attach": ((documents, "_tell_serving"), "factory.order_documents_added", "suspend", BUYER_NOT_IN_GOOD_STANDING),
    "remove": ((documents, "record"), "factory.order_document_removed", "suspend", BUYER_NOT_IN_GOOD_STANDING),
    "place": ((orders, "record"), "factory.order_created", "suspend", BUYER_NOT_IN_GOOD_STANDING),
    "declare": ((capacity, "record"), "factory.capability_saved", "suspend_factory", CALENDAR_NOT_IN_GOOD_STANDING),
    "week": ((capacity, "record"), "factory.capacity_set", "suspend_factory", CALENDAR_NOT_IN_GOOD_STANDING),
    "calendar": ((calendar_file, "week_write"), "factory.capacity_set", "suspend_factory", FILE_NOT_IN_GOOD_STANDING),
}


@pytest.fixture(autouse=True)
def _added_steps(monkeypatch: Any) -> None:
    for kind, (hold, event, sets_aside) in ADDED.items():
        monkeypatch.setitem(r114.HOLDS, kind, hold)
        monkeypatch.setitem(r114.EVENTS, kind, event)
        monkeypatch.setitem(r114.SETS_ASIDE, kind, sets_aside)
    for kind, (hold, event, _against, _told) in STEPS.items():
        monkeypatch.setitem(r114.HOLDS, kind, hold)
        monkeypatch.setitem(r114.EVENTS, kind, event)


def _disputed(cluster: dict[str, Any]) -> tuple[Scene, Allocation]:  # noqa: F811
    """Review 119's scene (review 114's, with the Shenzhen factory's offer of the first step accepted), that piece
    delivered and disputed by the buyer, and a drawing attached to the order."""
    scene, piece = _reporting(cluster)
    who, buyer = owner(cluster, piece), cluster["people"]["buyer"]
    today = timezone.localdate().isoformat()
    execution.allocation_progress(
        actor=who, allocation=piece, data={"quantity_done": piece.quantity, "delivered_on": today}
    )
    piece = Allocation.objects.get(pk=piece.pk)
    execution.allocation_receipt(actor=buyer, allocation=piece, confirm=False, note="三成尺寸超差")
    order = Order.objects.get(pk=scene.order.pk)
    documents.order_documents_add(actor=buyer, order=order, files=[_drawing("rev-A.pdf")])
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    return Scene(cluster, order, scene.countered, scene.accepted, scene.offer, since), Allocation.objects.get(
        pk=piece.pk
    )


def _drawing(name: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _week() -> dt.date:
    return settable_weeks()[0] + dt.timedelta(weeks=3)


def _calendar_file(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["organization_id", "process", "week", "capacity"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _steps(scene: Scene, piece: Allocation) -> dict[str, Callable[[], Any]]:
    factory, buyer = owner(scene.cluster, piece), scene.cluster["people"]["buyer"]
    fresh = lambda: Allocation.objects.get(pk=piece.pk)  # noqa: E731 - a request reads the work itself
    order = lambda: Order.objects.get(pk=scene.order.pk)  # noqa: E731
    cnc = Capability.objects.get(organization_id=piece.factory_id, process_id="cnc")

    def calendar() -> Any:
        body = _calendar_file(
            [{"organization_id": piece.factory_id, "process": "cnc", "week": _week().isoformat(), "capacity": 120}]
        )
        result = calendar_file.calendar_import(actor=_fresh(factory), body=body, filename="产能.csv", dry_run=False)
        if result.errors:  # a file refused answers with its rows' errors: raised here, for the race's checks
            raise ValidationFailed({"file": [e.message for e in result.errors]}, result.errors[0].rule)
        return result

    return {
        "answer": lambda: disputes.dispute_answer(
            actor=_fresh(factory), allocation=fresh(), reply="出厂检验合格，附报告"
        ),
        "refer": lambda: disputes.dispute_refer(actor=_fresh(buyer), allocation=fresh()),
        "settle": lambda: execution.allocation_receipt(actor=_fresh(buyer), allocation=fresh(), confirm=True),
        "attach": lambda: documents.order_documents_add(
            actor=_fresh(buyer), order=order(), files=[_drawing("rev-B.pdf")]
        ),
        "remove": lambda: documents.order_document_remove(
            actor=_fresh(buyer), document=OrderDocument.objects.get(order_id=scene.order.pk)
        ),
        "place": lambda: orders.order_create(actor=_fresh(buyer), data=order_data(product="第二批外壳")),
        "declare": lambda: capacity.capability_save(
            actor=_fresh(factory), organization_id=piece.factory_id, data={"process": "cnc", "weekly_capacity": 320}
        ),
        "week": lambda: capacity.capacity_set(
            actor=_fresh(factory), capability=Capability.objects.get(pk=cnc.pk), week=_week().isoformat(), capacity=110
        ),
        "calendar": calendar,
    }


def _untouched(scene: Scene, piece: Allocation, step: str, weekly: int) -> None:
    """What a step refused would have changed is as it was (`weekly`: the factory's declared capacity)."""
    mine = Allocation.objects.get(pk=piece.pk)
    cnc = Capability.objects.get(organization_id=piece.factory_id, process_id="cnc")
    assert (mine.receipt, mine.dispute_reply, mine.dispute_referred_at) == (Allocation.Receipt.DISPUTED, "", None)
    assert list(OrderDocument.objects.filter(order_id=scene.order.pk).values_list("original_name", flat=True)) == [
        "rev-A.pdf"
    ], step
    assert not Order.objects.filter(product="第二批外壳").exists(), step
    assert cnc.weekly_capacity == weekly, step
    assert not CapacitySlot.objects.filter(capability=cnc, by_hand=True).exists(), step


def _landed(scene: Scene, piece: Allocation, step: str) -> None:
    mine = Allocation.objects.get(pk=piece.pk)
    cnc = Capability.objects.get(organization_id=piece.factory_id, process_id="cnc")
    names = set(OrderDocument.objects.filter(order_id=scene.order.pk).values_list("original_name", flat=True))
    slot = lambda: CapacitySlot.objects.get(capability=cnc, week=_week()).capacity  # noqa: E731
    landed: dict[str, Callable[[], bool]] = {
        "answer": lambda: mine.dispute_reply == "出厂检验合格，附报告",
        "refer": lambda: mine.dispute_referred_at is not None,
        "settle": lambda: mine.receipt == Allocation.Receipt.CONFIRMED,
        "attach": lambda: names == {"rev-A.pdf", "rev-B.pdf"},
        "remove": lambda: not names,
        "place": lambda: Order.objects.filter(product="第二批外壳", buyer_id=scene.order.buyer_id).exists(),
        "declare": lambda: cnc.weekly_capacity == 320,
        "week": lambda: slot() == 110,
        "calendar": lambda: slot() == 120,
    }
    assert landed[step](), step


RACES = [(step, first) for step in STEPS for first in (step, STEPS[step][2])]


@pytest.mark.parametrize(("step", "first"), RACES, ids=["-".join(p) + "-first" for p in RACES])
def test_a_step_for_a_member_as_it_is_suspended_lands_before_or_is_refused(
    cluster: dict[str, Any],  # noqa: F811
    monkeypatch: Any,
    step: str,
    first: str,
) -> None:
    scene, piece = _disputed(cluster)
    weekly = Capability.objects.get(organization_id=piece.factory_id, process_id="cnc").weekly_capacity
    against, said = STEPS[step][2], STEPS[step][3]
    first, second = _order(first, step, against)
    suspensions = {"suspend": _step(scene, "suspend"), **_suspend(scene, piece)}
    outcome = _race(scene, monkeypatch, first, second, steps={against: suspensions[against], **_steps(scene, piece)})
    # both hold the member's standing: the second waits for the first to commit
    _consistent(scene, outcome, first, second, waits=True)
    assert not isinstance(outcome[against], BaseException), outcome
    if first == against:  # suspended, the member does nothing: its people are told why, and nothing is written
        assert isinstance(outcome[step], Forbidden | ValidationFailed), outcome
        expected = gettext(said) % {"id": piece.factory_id} if step == "calendar" else gettext(said)
        assert expected in _said(outcome[step]), outcome
        _untouched(scene, piece, step, weekly)
    else:  # it lands before the suspension
        assert not isinstance(outcome[step], BaseException), outcome
        _landed(scene, piece, step)
    if against == "suspend_factory":  # what the factory held open or not begun on the order was taken back
        _nothing_left_to(scene, piece.factory_id, outcome)
    else:  # a suspended buyer's order stands
        assert Order.objects.get(pk=scene.order.pk).status not in Order.CLOSED, outcome
    assert Allocation.objects.get(pk=piece.pk).status == S.DELIVERED, outcome
