"""Review 121: a suspended member's people read, they do not act, and every step on its orders or its calendar that
refuses them says why, in the same words (the factory's answers and reports said so since review 119; the buyer's
steps and the calendar said only who else may act)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils.translation import gettext

from agglo.access.models import Membership
from agglo.common.errors import Forbidden
from agglo.factory.models import Allocation, Capability, Order, OrderDocument
from agglo.factory.services import amend, capacity, disputes, documents, execution, jobs, orders
from agglo.factory.services.calendar_file import calendar_import
from agglo.registry.services import organization_set_status
from tests.factory.conftest import cluster, order_data  # noqa: F401 - fixture
from tests.factory.test_races import owner
from tests.factory.test_review119 import NOT_IN_GOOD_STANDING
from tests.factory.test_review121 import (
    BUYER_NOT_IN_GOOD_STANDING,
    CALENDAR_NOT_IN_GOOD_STANDING,
    FILE_NOT_IN_GOOD_STANDING,
    _calendar_file,
    _disputed,
    _drawing,
    _week,
)
from tests.registry.test_review111 import _fresh

pytestmark = pytest.mark.django_db


def _suspended(cluster: dict[str, Any], organization_id: int) -> None:  # noqa: F811
    org = next(o for o in cluster["orgs"].values() if o.pk == organization_id)
    organization_set_status(actor=cluster["operator"], organization=org, status="suspended")


def test_a_suspended_buyers_people_are_told_why_they_cannot_act_on_its_orders(cluster: dict[str, Any]) -> None:  # noqa: F811
    scene, piece = _disputed(cluster)
    buyer = cluster["people"]["buyer"]
    _suspended(cluster, scene.order.buyer_id)
    order = lambda: Order.objects.get(pk=scene.order.pk)  # noqa: E731
    steps = {
        "plan": lambda: orders.order_plan(actor=_fresh(buyer), order=order()),
        "cancel": lambda: orders.order_cancel(actor=_fresh(buyer), order=order(), reason="需求取消"),
        "cancel_check": lambda: orders.cancel_check(actor=_fresh(buyer), order=order(), reason="需求取消"),
        "amend": lambda: amend.order_amend(actor=_fresh(buyer), order=order(), data={"quantity": 500}),
        "counter": lambda: jobs.counter_decide(
            actor=_fresh(buyer), allocation=Allocation.objects.get(pk=scene.countered.pk), accept=True
        ),
        "settle": lambda: execution.allocation_receipt(
            actor=_fresh(buyer), allocation=Allocation.objects.get(pk=piece.pk), confirm=True
        ),
        "refer": lambda: disputes.dispute_refer(actor=_fresh(buyer), allocation=Allocation.objects.get(pk=piece.pk)),
        "attach": lambda: documents.order_documents_add(
            actor=_fresh(buyer), order=order(), files=[_drawing("rev-B.pdf")]
        ),
        "remove": lambda: documents.order_document_remove(
            actor=_fresh(buyer), document=OrderDocument.objects.get(order_id=scene.order.pk)
        ),
        "place": lambda: orders.order_create(actor=_fresh(buyer), data=order_data(product="第二批外壳")),
    }
    for name, step in steps.items():
        with pytest.raises(Forbidden) as refused:
            step()
        assert str(refused.value) == gettext(BUYER_NOT_IN_GOOD_STANDING), name
    # nothing of it landed
    assert Order.objects.get(pk=scene.order.pk).status == Order.Status.PLANNED
    assert Allocation.objects.get(pk=piece.pk).receipt == Allocation.Receipt.DISPUTED
    assert OrderDocument.objects.filter(order_id=scene.order.pk).count() == 1
    assert Order.objects.count() == 1


def test_a_suspended_factorys_people_are_told_why_they_cannot_answer_or_change_its_calendar(
    cluster: dict[str, Any],  # noqa: F811
) -> None:
    scene, piece = _disputed(cluster)
    factory = owner(cluster, piece)
    cnc = Capability.objects.get(organization_id=piece.factory_id, process_id="cnc")
    _suspended(cluster, piece.factory_id)
    steps = {
        "answer": (
            lambda: disputes.dispute_answer(
                actor=_fresh(factory), allocation=Allocation.objects.get(pk=piece.pk), reply="出厂检验合格"
            ),
            NOT_IN_GOOD_STANDING,
        ),
        "refer": (
            lambda: disputes.dispute_refer(actor=_fresh(factory), allocation=Allocation.objects.get(pk=piece.pk)),
            NOT_IN_GOOD_STANDING,
        ),
        "withdraw": (
            lambda: execution.withdraw_check(actor=_fresh(factory), allocation=piece, reason="设备检修"),
            NOT_IN_GOOD_STANDING,
        ),
        "accept_all": (
            lambda: jobs.offers_accept(
                actor=_fresh(factory), order=Order.objects.get(pk=scene.order.pk), factory_id=piece.factory_id
            ),
            NOT_IN_GOOD_STANDING,
        ),
        "declare": (
            lambda: capacity.capability_save(
                actor=_fresh(factory), organization_id=piece.factory_id, data={"process": "cnc", "weekly_capacity": 320}
            ),
            CALENDAR_NOT_IN_GOOD_STANDING,
        ),
        "week": (
            lambda: capacity.capacity_set(actor=_fresh(factory), capability=cnc, week=_week().isoformat(), capacity=1),
            CALENDAR_NOT_IN_GOOD_STANDING,
        ),
    }
    for name, (step, said) in steps.items():
        with pytest.raises(Forbidden) as refused:
            step()
        assert str(refused.value) == gettext(said), name
    assert Allocation.objects.get(pk=piece.pk).dispute_reply == ""
    assert Capability.objects.get(pk=cnc.pk).weekly_capacity == cnc.weekly_capacity


def test_a_calendar_file_says_which_of_its_factories_is_not_in_good_standing(cluster: dict[str, Any]) -> None:  # noqa: F811
    sz, su = cluster["orgs"]["sz"], cluster["orgs"]["su"]
    admin = cluster["people"]["sz"]
    Membership.objects.create(user=admin, organization=su, role=Membership.Role.ADMIN)  # it runs both factories
    _suspended(cluster, su.pk)
    week = _week().isoformat()
    body = _calendar_file(
        [
            {"organization_id": sz.pk, "process": "cnc", "week": week, "capacity": 120},
            {"organization_id": su.pk, "process": "cnc", "week": week, "capacity": 120},
        ]
    )
    result = calendar_import(actor=_fresh(admin), body=body, filename="产能.csv", dry_run=False)
    assert not result.applied
    assert [(e.row, e.column, e.rule) for e in result.errors] == [(3, "organization_id", "not_in_good_standing")]
    assert result.errors[0].message == gettext(FILE_NOT_IN_GOOD_STANDING) % {"id": su.pk}
