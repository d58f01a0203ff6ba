"""Reminders before an answer is due: a factory's unanswered offers and a buyer's undecided counter-offers, once
per deadline, some hours before it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from agglo.common.models import Notification
from agglo.factory.models import Allocation
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_cancel
from agglo.factory.services.reminders import REMIND_HOURS, offers_remind
from tests.factory.test_answers import countered
from tests.factory.test_plan_flow import planned

pytestmark = pytest.mark.django_db


def _told(verb: str) -> list[Notification]:
    return list(Notification.objects.filter(verb=verb).select_related("user"))


def _due_in(allocations: Any, hours: float, *, given: float = 72) -> dt.datetime:
    """Set every given offer's deadline `hours` from now, as offered with `given` hours to answer; the deadline."""
    deadline = timezone.now() + dt.timedelta(hours=hours)
    Allocation.objects.filter(pk__in=[a.pk for a in allocations]).update(
        respond_by=deadline, updated_at=deadline - dt.timedelta(hours=given)
    )
    return deadline


def test_a_factory_is_reminded_once_of_offers_due_soon(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    offers = list(order.allocations.filter(status="offered"))
    first = offers[0]
    theirs = [a for a in offers if a.factory_id == first.factory_id]
    others = [a for a in offers if a.factory_id != first.factory_id]
    _due_in(theirs, REMIND_HOURS - 1)
    _due_in(others, REMIND_HOURS + 24)  # not yet
    assert offers_remind() == len(theirs)
    told = _told("factory.offer_reminder")
    admins = {m.user_id for m in orgs_admins(cluster, first.factory_id)}
    assert {n.user_id for n in told} == admins and len(told) == len(admins)  # one notice per order for each admin
    english = told[0].texts["en"]
    assert f"{len(theirs)} offer" in english and order.product in english and "Unanswered" in english
    assert offers_remind() == 0 and len(_told("factory.offer_reminder")) == len(admins)  # once per deadline
    # the others' turn comes when theirs is near
    later = timezone.now() + dt.timedelta(hours=25)
    assert offers_remind(now=later) == len(others)


def orgs_admins(cluster: dict[str, Any], organization_id: int) -> list[Any]:
    from agglo.access.models import Membership

    return list(Membership.objects.filter(organization_id=organization_id, role="admin"))


def test_answered_overdue_and_cancelled_offers_are_not_reminded_of(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    people, orgs = cluster["people"], cluster["orgs"]
    offers = list(order.allocations.filter(status="offered"))
    _due_in(offers, 2)
    first = offers[0]
    owner = next(people[n] for n, o in orgs.items() if o.pk == first.factory_id)
    for a in Allocation.objects.filter(pk__in=[o.pk for o in offers], factory_id=first.factory_id):
        allocation_respond(actor=owner, allocation=a, action="accept")
    waiting = order.allocations.filter(status="offered")
    # past its deadline an offer is for `expire_offers`, not a reminder
    assert offers_remind(now=timezone.now() + dt.timedelta(hours=3)) == 0
    order_cancel(actor=people["buyer"], order=order, reason="no longer needed")
    assert offers_remind() == 0 and not _told("factory.offer_reminder")
    assert not waiting.exists()


def test_an_answer_given_less_time_than_the_reminder_is_not_reminded_of(cluster: dict[str, Any]) -> None:
    """Recheck 42, R5: work offered for the week under way may be due within hours; its offer is its reminder."""
    order = planned(cluster)
    offers = list(order.allocations.filter(status="offered"))
    _due_in(offers[:1], 5, given=REMIND_HOURS + 1)  # its reminder would come an hour after the offer
    _due_in(offers[1:], 5, given=2 * REMIND_HOURS)
    assert offers_remind() == len(offers) - 1


def test_the_buyer_is_reminded_of_a_counter_offer_even_after_the_offer_was(cluster: dict[str, Any]) -> None:
    a, _who = countered(cluster)
    # the offer's own reminder went out before the counter-offer; the counter's new deadline is the buyer's
    Allocation.objects.filter(pk=a.pk).update(
        reminded_by=timezone.now() + dt.timedelta(hours=1), updated_at=timezone.now() - dt.timedelta(days=1)
    )
    a.refresh_from_db()
    now = a.respond_by - dt.timedelta(hours=REMIND_HOURS - 1)
    assert offers_remind(now=now) == 1
    told = _told("factory.counter_reminder")
    buyer = cluster["people"]["buyer"]
    assert [n.user_id for n in told] == [buyer.pk] and told[0].link == f"/factory/orders/{a.order_id}/"
    assert "还价仍待您决定" in told[0].texts["zh-hans"]
    assert offers_remind(now=now) == 0


def test_the_command_reminds(cluster: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    order = planned(cluster)
    _due_in(list(order.allocations.filter(status="offered")), 1)
    call_command("remind_offers")
    n = order.allocations.filter(status="offered").count()
    assert f"offers reminded of: {n}" in capsys.readouterr().out
