"""What the third review found: the job board keeps all open work in sight, money with a huge exponent is refused,
capability terms are changed only for the user's own factories and follow into weeks holding work."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client

from agglo.access.models import Membership
from agglo.common.errors import ValidationFailed
from agglo.factory.models import Allocation, Capability, CapacitySlot, Order
from agglo.factory.selectors.planning import order_problem
from agglo.factory.services import jobs, orders
from tests.factory.conftest import order_data
from tests.factory.test_pages import form_post

pytestmark = pytest.mark.django_db


def logged(user: Any) -> Client:
    c = Client(raise_request_exception=False)
    c.force_login(user)
    c.cookies["django_language"] = "en"
    return c


def declaration(org: Any, **overrides: Any) -> dict[str, Any]:
    """The capacity page's form for a process: "Change terms" (`editing`) where the factory declares it already,
    as the blank form refuses a process declared before."""
    post = {
        "organization": org.pk,
        "process": "cnc",
        "weekly_capacity": "300",
        "unit_cost": "20",
        "setup_cost": "500",
        "min_lot": "50",
        "quality_grade": "2",
        "certifications": "ISO9001",
        "lead_weeks": "0",
        "active": "on",
    }
    post.update(overrides)
    declared = Capability.objects.filter(organization=org, process_id=post["process"]).first()
    if declared is not None:
        post.setdefault("editing", str(declared.pk))
    return post


def test_new_offers_stay_on_the_board_behind_a_long_history(cluster: dict[str, Any]) -> None:
    buyer = cluster["people"]["buyer"]
    old = orders.order_plan(
        actor=buyer, order=orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk))
    )
    a = Allocation.objects.filter(order=old).first()
    history = [
        Allocation(
            order=old,
            operation=a.operation,
            capability=a.capability,
            factory=a.factory,
            week=a.week,
            quantity=1,
            unit_cost=a.unit_cost,
            plan_version=5,
            status="superseded",
            respond_by=a.respond_by,
        )
        for _ in range(510)
    ]
    Allocation.objects.bulk_create(history)
    new = orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk, product="NEW"))
    orders.order_plan(actor=buyer, order=new)
    offers = list(Allocation.objects.filter(order=new, factory=a.factory, status="offered"))
    assert offers
    owner = next(n for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
    c = logged(cluster["people"][owner])
    page = c.get("/factory/jobs/").content.decode()
    assert all(f'data-allocation="{x.pk}"' in page for x in offers)
    api = {r["id"] for r in c.get("/api/v1/factory/jobs").json()}
    # offers replaced before anyone answered them are not the factory's history
    assert not api & set(Allocation.objects.filter(plan_version=5, status="superseded").values_list("pk", flat=True))
    assert {x.pk for x in offers} <= api and len(api) <= 500 + Allocation.objects.filter(status="offered").count()


@pytest.mark.parametrize("amount", ["1e30", "1E+20", "9e99"])
def test_money_with_a_huge_exponent_is_refused_everywhere(cluster: dict[str, Any], amount: str) -> None:
    sz, org = cluster["people"]["sz"], cluster["orgs"]["sz"]
    c = logged(sz)
    r = c.post("/factory/capacity/", declaration(org, unit_cost=amount))
    assert r.status_code == 400 and "Must be more than zero, below 1,000,000" in r.content.decode()
    r = c.put(
        f"/api/v1/factory/organizations/{org.pk}/capabilities",
        data=json.dumps({"process": "cnc", "weekly_capacity": 300, "unit_cost": float(amount)}),
        content_type="application/json",
    )
    assert r.status_code == 422 and "unit_cost" in r.json()["errors"]
    buyer = cluster["people"]["buyer"]
    b = logged(buyer)
    count = Order.objects.count()
    r = b.post("/factory/orders/new/", form_post(buyer=cluster["orgs"]["buyer"].pk, late_penalty=amount))
    assert r.status_code == 400 and Order.objects.count() == count
    order = orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk))
    r = b.patch(
        f"/api/v1/factory/orders/{order.pk}", data=json.dumps({"budget": amount}), content_type="application/json"
    )
    assert r.status_code == 422
    order.refresh_from_db()
    assert order.budget is None


def test_terms_are_changed_only_for_the_users_own_factories(cluster: dict[str, Any], operator: Any) -> None:
    Membership.objects.create(user=operator, organization=cluster["orgs"]["buyer"], role=Membership.Role.ADMIN)
    su_surface = Capability.objects.get(organization=cluster["orgs"]["su"], process_id="surface")
    c = logged(operator)
    page = c.get(f"/factory/capacity/?edit={su_surface.pk}").content.decode()
    assert "Declare a capability" in page  # an operator sees su's calendar but gets an empty form
    # naming su on the form is an invalid choice, not a save into su or into the operator's own firm
    before = list(Capability.objects.values_list("pk", "organization_id", "unit_cost").order_by("pk"))
    for org_id in (cluster["orgs"]["su"].pk, "9" * 30, "999999"):
        r = c.post("/factory/capacity/", declaration(cluster["orgs"]["su"], organization=org_id, process="surface"))
        assert r.status_code == 400 and "Select a valid choice" in r.content.decode()
    assert list(Capability.objects.values_list("pk", "organization_id", "unit_cost").order_by("pk")) == before
    assert c.get("/factory/capacity/?edit=" + "9" * 30).status_code == 200


def test_a_member_who_is_not_an_admin_is_told_on_the_form(cluster: dict[str, Any]) -> None:
    from tests.conftest import user

    clerk = user("sz-clerk")
    Membership.objects.create(user=clerk, organization=cluster["orgs"]["sz"], role=Membership.Role.MEMBER)
    r = logged(clerk).post("/factory/capacity/", declaration(cluster["orgs"]["sz"], unit_cost="1"))
    assert r.status_code == 400 and "Only an administrator of the factory" in r.content.decode()
    assert not Capability.objects.filter(unit_cost=1).exists()


def test_switching_a_process_off_holds_until_switched_on(cluster: dict[str, Any]) -> None:
    sz, org = cluster["people"]["sz"], cluster["orgs"]["sz"]
    cap = Capability.objects.get(organization=org, process_id="cnc")
    c = logged(sz)
    r = c.put(
        f"/api/v1/factory/organizations/{org.pk}/capabilities",
        data=json.dumps({"process": "cnc", "weekly_capacity": 300, "unit_cost": "20", "active": False}),
        content_type="application/json",
    )
    assert r.status_code == 200
    # an API update that leaves `active` out keeps it off
    c.put(
        f"/api/v1/factory/organizations/{org.pk}/capabilities",
        data=json.dumps({"process": "cnc", "weekly_capacity": 300, "unit_cost": "21"}),
        content_type="application/json",
    )
    cap.refresh_from_db()
    assert cap.active is False and cap.unit_cost == 21
    page = c.get(f"/factory/capacity/?edit={cap.pk}").content.decode()
    box = re.search(r'<input type="checkbox" name="active"[^>]*>', page)
    assert "not offered" in page and box and "checked" not in box[0]
    # the page sends the box as it is: unticked keeps it off, ticked turns it on
    post = declaration(org, unit_cost="22")
    del post["active"]
    c.post("/factory/capacity/", post)
    cap.refresh_from_db()
    assert cap.active is False and cap.unit_cost == 22
    c.post("/factory/capacity/", declaration(org, unit_cost="22"))
    cap.refresh_from_db()
    assert cap.active is True


def test_declared_capacity_reaches_weeks_that_hold_work_but_not_weeks_set_by_hand(cluster: dict[str, Any]) -> None:
    buyer, sz, org = cluster["people"]["buyer"], cluster["people"]["sz"], cluster["orgs"]["sz"]
    order = orders.order_plan(
        actor=buyer, order=orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk))
    )
    a = Allocation.objects.filter(order=order, status="offered", factory=org).first()
    jobs.allocation_respond(actor=sz, allocation=a, action="accept")
    cap = a.capability
    held = CapacitySlot.objects.get(capability=cap, week=a.week)
    assert held.capacity == cap.weekly_capacity and not held.by_hand
    c = logged(sz)
    # a week the factory set by hand keeps its figure
    other = a.week + dt.timedelta(weeks=1)
    c.post("/factory/capacity/", {"capability": cap.pk, "week": other.isoformat(), "capacity": "77"})
    c.post(
        "/factory/capacity/",
        declaration(org, process=cap.process_id, weekly_capacity="1000", unit_cost=str(cap.unit_cost)),
    )
    held.refresh_from_db()
    assert held.capacity == 1000 and held.reserved == a.quantity
    assert CapacitySlot.objects.get(capability=cap, week=other).capacity == 77
    # lowered below the accepted work: the week keeps exactly that work, nothing more is offered
    c.post(
        "/factory/capacity/",
        declaration(org, process=cap.process_id, weekly_capacity="10", unit_cost=str(cap.unit_cost)),
    )
    held.refresh_from_db()
    assert held.capacity == held.reserved == a.quantity
    problem = order_problem(
        orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk, product="X"))
    )
    mine = next(x for x in problem.capabilities if x.key == f"c{cap.pk}")
    assert max(mine.capacity) <= 77


def test_the_lateness_penalty_counts_to_the_fen(cluster: dict[str, Any]) -> None:
    from agglo.factory.allocation import Placement, evaluate

    buyer = cluster["people"]["buyer"]
    order = orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk, late_penalty="0.50"))
    problem = order_problem(order)
    assert problem.orders[0].late_penalty == 0.5
    # three weeks late at ¥0.50 a week is ¥1.50, which a plan's costs show as ¥2 (whole yuan), not ¥0
    due = problem.orders[0].due_week
    cap = next(c for c in problem.capabilities if c.process == "cnc")
    late = [Placement(op.key, cap.key, due + 3, op.quantity) for op in problem.operations]
    assert evaluate(problem, late)[0].lateness == 2


def test_work_cannot_run_ahead_of_its_parts(cluster: dict[str, Any], english: None) -> None:
    from agglo.common.errors import ValidationFailed
    from agglo.factory.services.execution import allocation_progress
    from tests.factory.test_amend import confirmed
    from tests.factory.test_fixed_work import owner_of

    order = confirmed(cluster)
    second = order.allocations.filter(status="accepted", operation__seq=2).order_by("-quantity").first()
    with pytest.raises(ValidationFailed) as early:
        allocation_progress(actor=owner_of(cluster, second), allocation=second, data={"quantity_done": 1})
    assert "Step 1 has delivered 0 of 600 machine-hours so far, enough for 0 " in str(
        early.value.errors["quantity_done"]
    )
    # nothing was saved, and the defects are not judged against a quantity that was refused
    second.refresh_from_db()
    assert second.quantity_done == 0 and not second.started
    with pytest.raises(ValidationFailed) as both:
        allocation_progress(
            actor=owner_of(cluster, second), allocation=second, data={"quantity_done": "x", "defects": "2"}
        )
    assert set(both.value.errors) == {"quantity_done"}
    # once part of step 1 is delivered, step 2 may do as much as that part allows
    firsts = list(order.allocations.filter(status="accepted", operation__seq=1).order_by("-quantity"))
    today = dt.date.today().isoformat()
    first = firsts[0]
    allocation_progress(
        actor=owner_of(cluster, first), allocation=first, data={"quantity_done": first.quantity, "delivered_on": today}
    )
    allowed = first.quantity * 600 // 600
    if allowed < second.quantity:
        with pytest.raises(ValidationFailed):
            allocation_progress(actor=owner_of(cluster, second), allocation=second, data={"quantity_done": allowed + 1})
    done = min(allowed, second.quantity)
    allocation_progress(actor=owner_of(cluster, second), allocation=second, data={"quantity_done": done})
    second.refresh_from_db()
    assert second.quantity_done == done


def test_a_delay_of_one_part_keeps_the_factorys_other_parts_of_the_step(cluster: dict[str, Any]) -> None:
    from collections import Counter

    from agglo.factory.services.execution import allocation_delay
    from tests.factory.test_amend import confirmed
    from tests.factory.test_fixed_work import owner_of

    order = confirmed(cluster, quantity=1500, operations=[{"process": "cnc", "quantity": 1500}])
    accepted = list(order.allocations.filter(status="accepted").order_by("week"))
    twice = [k for k, n in Counter((a.capability_id, a.operation_id) for a in accepted).items() if n > 1]
    assert twice, [(a.capability_id, a.week, a.quantity) for a in accepted]
    mine = [a for a in accepted if (a.capability_id, a.operation_id) == twice[0]]
    earlier, later = mine[0], mine[-1]
    allocation_delay(actor=owner_of(cluster, later), allocation=later, weeks=1, reason="来料晚到")
    earlier.refresh_from_db()
    assert earlier.status == "accepted", earlier.status


def test_accepted_work_a_replan_moves_is_listed_and_named(cluster: dict[str, Any]) -> None:
    from agglo.common.models import LanguagePreference, Notification
    from agglo.factory.services.amend import order_amend
    from tests.factory.test_amend import confirmed
    from tests.factory.test_fixed_work import owner_of

    order = confirmed(cluster)
    a = order.allocations.filter(status="accepted", operation__seq=2).first()
    LanguagePreference.objects.create(user=owner_of(cluster, a), language="en")
    # its factory stops offering the process: the re-plan must move the work
    Capability.objects.filter(pk=a.capability_id).update(active=False)
    order_amend(actor=cluster["people"]["buyer"], order=order, data={"late_penalty": "2500"})
    a.refresh_from_db()
    assert a.status == "superseded"
    page = logged(cluster["people"]["buyer"]).get(f"/factory/orders/{order.pk}/").content.decode()
    changes = page.split('id="changes"')[1].split("</table>")[0]
    assert "Accepted, then moved by a re-plan" in changes and a.factory.name in changes
    assert "every accepted unit it gives to another factory counts ¥50 against the plan, and every one it " in page
    assert "shifts to another week at the same factory ¥5" in page
    # and why: what set the re-plan off, on the page, in the API and in the factory's notice
    assert a.moved_by == "amended" and "The buyer changed the order&#x27;s due week, quantities or terms." in changes
    rows = logged(cluster["people"]["buyer"]).get(f"/api/v1/factory/orders/{order.pk}/allocations").json()
    assert all(r["moved_by"] == "" for r in rows)  # the current plan: nothing in it was moved
    changes = logged(cluster["people"]["buyer"]).get(f"/api/v1/factory/orders/{order.pk}/changes").json()
    assert {"id": a.pk, "status": "superseded", "moved_by": "amended"}.items() <= next(
        r for r in changes if r["id"] == a.pk
    ).items()
    # a factory sees its own changes only
    mine = logged(owner_of(cluster, a)).get(f"/api/v1/factory/orders/{order.pk}/changes").json()
    assert mine and {r["factory_id"] for r in mine} == {a.factory_id}
    told = Notification.objects.filter(user=owner_of(cluster, a), verb="factory.superseded")
    unit = a.operation.process.unit_en
    assert any(
        # one notice for all its moved parts of the step: their sum, each week
        "step 2 (" in n.text
        and f" {unit} in the week of " in n.text
        and a.week.isoformat() in n.text
        and n.text.endswith("The buyer changed the order's due week, quantities or terms.")
        for n in told
    )


def test_changing_terms_keeps_the_process_whatever_is_posted(cluster: dict[str, Any]) -> None:
    sz, org = cluster["people"]["sz"], cluster["orgs"]["sz"]
    cap = Capability.objects.get(organization=org, process_id="cnc")
    count = Capability.objects.count()
    c = logged(sz)
    page = c.get(f"/factory/capacity/?edit={cap.pk}").content.decode()
    assert re.search(r'<select name="process"[^>]*disabled', page)
    r = c.post(
        "/factory/capacity/",
        declaration(org, process="assembly", weekly_capacity="444", unit_cost="19", editing=str(cap.pk)),
        follow=True,
    )
    assert "Capability updated." in r.content.decode()
    cap.refresh_from_db()
    assert Capability.objects.count() == count and cap.weekly_capacity == 444 and cap.process_id == "cnc"
    assert Capability.objects.get(organization=org, process_id="assembly").weekly_capacity == 400


def test_without_a_penalty_the_due_week_comes_before_cost() -> None:
    from agglo.factory.allocation import AllocationProblem, Capability, Operation, OrderTerms
    from agglo.factory.solver import solve

    # a cheap factory free only from week 3, a dear one free now; due in week 1
    cheap = Capability("cheap", "F1", "cnc", (0, 0, 0, 500, 500), unit_cost=5)
    dear = Capability("dear", "F2", "cnc", (500, 500, 500, 500, 500), unit_cost=50)
    op = Operation("1", "O", "cnc", 400)

    def plan(penalty: float) -> set[str]:
        problem = AllocationProblem(5, (op,), (cheap, dear), (OrderTerms("O", 1, penalty),))
        result = solve(problem, time_limit=5)
        assert result.costs is not None
        return {p.capability for p in result.placements}

    assert plan(0) == {"dear"}  # on time, at ten times the price
    assert plan(100) == {"cheap"}  # a named price for lateness is weighed: two weeks late cost ¥200, not ¥18,000


def test_scorecards_show_the_credit_grade_the_solver_counts(cluster: dict[str, Any]) -> None:
    from agglo.factory.risk import failure_risk
    from agglo.factory.selectors.scorecards import scorecard_list
    from agglo.factory.services.execution import allocation_progress
    from agglo.profiles.services import fact_create
    from tests.factory.test_amend import confirmed
    from tests.factory.test_fixed_work import owner_of

    order = confirmed(cluster)
    a = order.allocations.filter(status="accepted", operation__seq=1).first()
    today = dt.date.today()
    allocation_progress(
        actor=owner_of(cluster, a), allocation=a, data={"quantity_done": a.quantity, "delivered_on": today.isoformat()}
    )
    fact_create(
        actor=cluster["operator"],
        organization=a.factory,
        kind="ratings",
        data={
            "grade": "AA",
            "rating_body": "platform",
            "method_version": "v1",
            "as_of": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=365)).isoformat(),
        },
    )
    card = next(c for c in scorecard_list(actor=cluster["people"]["buyer"]) if c.organization_id == a.factory_id)
    assert card.grade == "AA" and card.risk == failure_risk("AA", card.jobs, card.on_time_rate, card.defect_rate)
    page = logged(cluster["people"]["buyer"]).get("/factory/scorecards/").content.decode()
    assert re.search(r'<td data-label="[^"]*">AA</td>', page)
    # the solver counts that same risk, grade and record together (it used the record with no grade, as if unrated)
    assert card.risk != failure_risk(None, card.jobs, card.on_time_rate, card.defect_rate)
    risks = {c.risk for c in order_problem(order).capabilities if c.factory == str(a.factory_id)}
    assert risks == {card.risk}


def test_the_history_names_factory_events_and_what_changed(cluster: dict[str, Any]) -> None:
    from agglo.common.models import AuditEvent

    sz, org = cluster["people"]["sz"], cluster["orgs"]["sz"]
    c = logged(sz)
    c.post("/factory/capacity/", declaration(org, certifications="ISO9001, CE"))
    event = AuditEvent.objects.filter(event="factory.capability_saved").latest("id")
    # only what changed, before and after
    assert event.payload["after"] == {"certifications": ["CE", "ISO9001"]}
    assert event.payload["before"] == {"certifications": ["ISO9001"]}
    page = c.get(f"/organizations/{org.pk}/tab/history/").content.decode()
    assert "Production capability · changed" in page and "Certifications" in page
    assert "capability_saved" not in page and "None" not in page
    assert (
        "ISO9001 → CE, ISO9001"
        in page.replace("<del>", "").replace("</del>", "").replace("<ins>", "").replace("</ins>", "")
        and "['" not in page
    )


def test_the_menu_offers_only_pages_the_user_may_use(cluster: dict[str, Any], operator: Any) -> None:
    from tests.conftest import user

    def menu(who: Any) -> str:
        return logged(who).get("/factory/").content.decode().split('class="subnav"')[1].split("</p>")[0]

    assert all(w in menu(cluster["people"]["sz"]) for w in ("New order", "Job board", "Scorecards"))
    staff = menu(operator)
    assert "Scorecards" in staff and "New order" not in staff
    outsider = menu(user("gov-officer"))
    assert "New order" not in outsider and "Scorecards" not in outsider and "Job board" not in outsider


def test_a_refusal_is_one_line_in_the_server_log(cluster: dict[str, Any]) -> None:
    import logging

    from agglo.common.logs import RefusalsWithoutTraceback

    try:
        raise PermissionError("no")
    except PermissionError:
        import sys

        info = sys.exc_info()
    refused = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden: /x", (), info)
    refused.status_code = 403
    broken = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error: /x", (), info)
    broken.status_code = 500
    keep = RefusalsWithoutTraceback()
    assert keep.filter(refused) and refused.exc_info is None
    assert keep.filter(broken) and broken.exc_info is not None


def test_money_reads_one_way() -> None:
    from agglo.factory.wording import money

    assert money(18916) == "¥18,916" and money("800000.00") == "¥800,000" and money("2.52") == "¥2.52"
    assert money(None) == "—" and money("1234567.5") == "¥1,234,567.50"


def test_the_buyer_lifts_a_region_rule_that_left_no_plan(cluster: dict[str, Any]) -> None:
    buyer = cluster["people"]["buyer"]
    # only Sichuan: no cnc shop there, so no plan
    order = orders.order_plan(
        actor=buyer,
        order=orders.order_create(
            actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk, regions_only="510000")
        ),
    )
    assert order.status == "infeasible"
    b = logged(buyer)
    page = b.get(f"/factory/orders/{order.pk}/").content.decode()
    assert 'name="regions_only"' in page and 'value="Sichuan"' in page  # by name, as the field takes them
    r = b.post(f"/factory/orders/{order.pk}/terms/", {"regions_only": "510000", "regions_excluded": "510000"})
    assert r.status_code == 400 and "cannot be both" in r.content.decode()
    order.refresh_from_db()
    assert order.regions_only == ["510000"] and order.regions_excluded == []
    b.post(f"/factory/orders/{order.pk}/terms/", {"regions_only": "", "regions_excluded": "510000"})
    order.refresh_from_db()
    assert order.regions_only == [] and order.regions_excluded == ["510000"] and order.status == "planned"
    assert not order.allocations.filter(factory=cluster["orgs"]["cd"], status="offered").exists()
    api = b.patch(
        f"/api/v1/factory/orders/{order.pk}",
        data=json.dumps({"regions_only": ["999999"]}),
        content_type="application/json",
    )
    assert api.status_code == 422 and "regions_only" in api.json()["errors"]


def test_a_buyer_hears_when_accepted_work_elsewhere_takes_the_week_its_offer_needs(cluster: dict[str, Any]) -> None:
    from agglo.common.models import LanguagePreference, Notification
    from agglo.factory.services.jobs import allocation_respond
    from tests.factory.test_fixed_work import owner_of

    buyer = cluster["people"]["buyer"]
    LanguagePreference.objects.create(user=buyer, language="en")
    first = orders.order_plan(
        actor=buyer, order=orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk))
    )
    # the weeks first's offers hold have room for both orders when the second is planned ...
    for a in first.allocations.filter(status="offered"):
        CapacitySlot.objects.update_or_create(capability=a.capability, week=a.week, defaults={"capacity": 10_000})
    second = orders.order_plan(
        actor=buyer,
        order=orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk, product="B")),
    )
    # ... so the two plans rest on the same week of one capability
    shared = None
    for a in first.allocations.filter(status="offered"):
        b = second.allocations.filter(status="offered", capability=a.capability, week=a.week).first()
        if b is not None:
            shared = (a, b)
            break
    assert shared is not None
    a, b = shared
    # then its factory lowers the week's capacity: it has room for one of them only
    CapacitySlot.objects.update_or_create(
        capability=a.capability,
        week=a.week,
        defaults={"capacity": max(a.quantity, b.quantity) + min(a.quantity, b.quantity) - 1},
    )
    before = Notification.objects.filter(user=buyer).count()
    allocation_respond(actor=owner_of(cluster, a), allocation=a, action="accept")
    told = Notification.objects.filter(user=buyer).order_by("-id")[
        : Notification.objects.filter(user=buyer).count() - before
    ]
    assert any("can no longer be accepted in full" in n.text and "order B" in n.text for n in told)


def test_a_replan_before_the_buyer_decides_keeps_the_factory_within_its_counter(cluster: dict[str, Any]) -> None:
    from agglo.factory.services.replan import replan
    from tests.factory.test_answers import countered

    a, _who = countered(cluster)
    counter = a.counter_quantity
    assert counter and counter < a.quantity
    replan(a.order, actor=None, reason="plan")  # planning again voids the open counter-offer
    a.refresh_from_db()
    assert a.status == "superseded"
    again = a.order.allocations.filter(
        operation=a.operation, capability=a.capability, status__in=["offered", "accepted"]
    )
    assert sum(x.quantity for x in again) <= counter


def test_an_open_offer_keeps_its_week_from_other_plans_until_its_deadline(cluster: dict[str, Any]) -> None:
    from agglo.factory.selectors.planning import capability_key
    from agglo.factory.weeks import index_of

    buyer = cluster["people"]["buyer"]
    first = orders.order_plan(
        actor=buyer, order=orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk))
    )
    a = first.allocations.filter(status="offered").order_by("-quantity").first()
    # the week has room for a's work and 5 units more
    CapacitySlot.objects.update_or_create(capability=a.capability, week=a.week, defaults={"capacity": a.quantity + 5})
    second = orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk, product="B"))

    def room() -> int:
        cap = next(c for c in order_problem(second).capabilities if c.key == capability_key(a.capability_id))
        return cap.capacity[index_of(second.start_week, a.week)]

    assert room() == 5  # a's offer holds its units while its factory may still answer
    # and its factory's calendar says so
    from tests.factory.test_fixed_work import owner_of

    calendar = logged(owner_of(cluster, a)).get("/factory/capacity/").content.decode()
    there = first.allocations.filter(capability=a.capability, week=a.week, status="offered")
    assert f"+{sum(there.values_list('quantity', flat=True))} on offer" in calendar
    assert "more than the room left" not in calendar
    CapacitySlot.objects.filter(capability=a.capability, week=a.week).update(capacity=a.quantity - 1)
    calendar = logged(owner_of(cluster, a)).get("/factory/capacity/").content.decode()
    assert "more than the room left" in calendar
    CapacitySlot.objects.filter(capability=a.capability, week=a.week).update(capacity=a.quantity + 5)
    orders.order_plan(actor=buyer, order=second)
    made = sum(second.allocations.filter(capability=a.capability, week=a.week).values_list("quantity", flat=True))
    assert made <= 5
    # a counter-offer holds what the factory offered, until the buyer's deadline
    Allocation.objects.filter(pk=a.pk).update(status="countered", counter_quantity=a.quantity - 20)
    assert room() == 25
    # past its deadline an offer holds nothing, expired or not yet
    Allocation.objects.filter(pk=a.pk).update(status="offered", respond_by=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert room() == a.quantity + 5
    # nor does an order's own offer, which its re-plan replaces (the second order's still do)
    assert (
        next(c for c in order_problem(first).capabilities if c.key == capability_key(a.capability_id)).capacity[
            index_of(first.start_week, a.week)
        ]
        == a.quantity + 5 - made
    )


def _cnc_planned(cluster: dict[str, Any], quantity: int, **terms: Any) -> Order:
    """A one-step CNC order of `quantity` machine-hours, two suppliers at most, entered and planned by the buyer."""
    buyer = cluster["people"]["buyer"]
    data = order_data(
        buyer=cluster["orgs"]["buyer"].pk,
        max_suppliers=2,
        quantity=quantity,
        operations=[{"process": "cnc", "quantity": quantity}],
        **terms,
    )
    return orders.order_plan(actor=buyer, order=orders.order_create(actor=buyer, data=data))


def test_an_order_short_of_room_held_by_open_offers_is_told_so(cluster: dict[str, Any]) -> None:
    buyer = cluster["people"]["buyer"]
    first = _cnc_planned(cluster, 5000)
    assert first.status == "planned"
    second = _cnc_planned(cluster, 2000, product="B")
    assert second.status == "infeasible"
    page = logged(buyer).get(f"/factory/orders/{second.pk}/").content.decode()
    diagnosis = page.split('id="diagnosis"')[1].split("</div>")[0]
    assert "open offers to other orders hold 5,000 machine-hours" in diagnosis
    assert "Step 1: needs 2,000 machine-hours but the capable factories have only" in diagnosis  # the step's unit
    # an offer in a week since lowered below it keeps only what that week still has
    a = first.allocations.filter(status="offered").order_by("-quantity").first()
    CapacitySlot.objects.update_or_create(capability=a.capability, week=a.week, defaults={"capacity": a.quantity - 100})
    orders.order_plan(actor=buyer, order=second)
    page = logged(buyer).get(f"/factory/orders/{second.pk}/").content.decode()
    assert "open offers to other orders hold 4,900 machine-hours" in page.split('id="diagnosis"')[1].split("</div>")[0]
    # once those offers are answered (here: past their deadline), the room is back and the order plans
    first.allocations.update(respond_by=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert orders.order_plan(actor=buyer, order=second).status == "planned"


def test_a_buyer_hears_when_a_factory_lowers_the_week_its_offer_needs(cluster: dict[str, Any]) -> None:
    from agglo.common.models import LanguagePreference, Notification
    from agglo.factory.services.capacity import capacity_set
    from tests.factory.test_fixed_work import owner_of

    buyer = cluster["people"]["buyer"]
    LanguagePreference.objects.create(user=buyer, language="en")
    order = orders.order_plan(
        actor=buyer, order=orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk))
    )
    a = order.allocations.filter(status="offered").order_by("-quantity").first()
    heard = Notification.objects.filter(user=buyer, text__contains="lowered its capacity")
    capacity_set(actor=owner_of(cluster, a), capability=a.capability, week=a.week, capacity=a.quantity)
    assert not heard.exists()  # the offer still fits
    capacity_set(actor=owner_of(cluster, a), capability=a.capability, week=a.week, capacity=a.quantity - 1)
    assert heard.count() == 1 and f"step {a.operation.seq} of order {order.product}" in heard.get().text


def _only_sz_cnc(cluster: dict[str, Any]) -> Order:
    """A one-step CNC order only sz (300 a week) can make: several weeks of offers to one factory."""
    Capability.objects.filter(process_id="cnc").exclude(organization=cluster["orgs"]["sz"]).update(active=False)
    buyer = cluster["people"]["buyer"]
    data = order_data(buyer=cluster["orgs"]["buyer"].pk, quantity=900, operations=[{"process": "cnc", "quantity": 900}])
    return orders.order_plan(actor=buyer, order=orders.order_create(actor=buyer, data=data))


def test_declining_one_weeks_offer_leaves_the_factorys_other_weeks_open(cluster: dict[str, Any]) -> None:
    from tests.factory.test_fixed_work import owner_of

    order = _only_sz_cnc(cluster)
    offers = list(order.allocations.filter(status="offered").order_by("week"))
    assert len(offers) >= 2 and order.status == "planned"
    turned = offers[0]
    r = logged(owner_of(cluster, turned)).post(
        f"/factory/allocations/{turned.pk}/decline/", {"note": "该周检修"}, follow=True
    )
    assert (
        "Declined for this week: the repaired plan offers you other weeks of the step, under “Offered to us”"
        in r.content.decode()
    )
    order.refresh_from_db()
    assert order.status == "planned"  # the factory's other weeks still serve the step
    live = order.allocations.filter(status="offered")
    assert sum(live.values_list("quantity", flat=True)) == 900
    assert not live.filter(week=turned.week).exists()  # but not the week it turned down
    # turning down the whole step leaves no one to make it
    again = live.first()
    r = logged(owner_of(cluster, again)).post(
        f"/factory/allocations/{again.pk}/decline/", {"whole_step": "1"}, follow=True
    )
    board = r.content.decode()
    assert "Declined for every week of this step." in board and "Declined (every week of the step)" in board
    order.refresh_from_db()
    assert order.status == "infeasible"
    # a factory in the order sees that, without the buyer's diagnosis
    page = logged(owner_of(cluster, again)).get(f"/factory/orders/{order.pk}/").content.decode()
    assert "No plan fits the rest of this order for now" in page and 'id="diagnosis"' not in page
    assert (
        "No plan fits the rest"
        not in logged(cluster["people"]["buyer"]).get(f"/factory/orders/{order.pk}/").content.decode()
    )


def test_a_taken_counter_offer_is_all_the_factory_makes_that_week(cluster: dict[str, Any]) -> None:
    from tests.factory.test_fixed_work import owner_of

    order = _only_sz_cnc(cluster)
    a = order.allocations.filter(status="offered", quantity__gte=200).order_by("week").first()
    jobs.allocation_respond(actor=owner_of(cluster, a), allocation=a, action="counter", quantity=a.quantity - 100)
    jobs.counter_decide(actor=cluster["people"]["buyer"], allocation=a, accept=True)
    order.refresh_from_db()
    assert order.status == "planned"
    there = order.allocations.filter(week=a.week, status__in=["offered", "accepted"])
    assert sum(there.values_list("quantity", flat=True)) == a.quantity - 100  # the rest goes to other weeks
    live = order.allocations.filter(status__in=["offered", "accepted"])
    assert sum(live.values_list("quantity", flat=True)) == 900


def test_the_capacity_calendar_reaches_every_week_a_plan_made_now_can_use(cluster: dict[str, Any]) -> None:
    from django.utils import timezone

    from agglo.factory.selectors.planning import first_open_day, horizon
    from agglo.factory.weeks import monday, week_at

    c = logged(cluster["people"]["sz"])
    page = c.get("/factory/capacity/").content.decode()
    open_from = monday(first_open_day())
    last = week_at(open_from, horizon() - 1)
    calendar = page.split('id="calendar"')[1].split("</tr>")[0]
    assert f'<th title="{last}">' in calendar
    assert f'<option value="{open_from}" selected>' in page  # the set-week form starts at the first open week
    assert "Earlier weeks" not in page and "Later weeks" in page
    later = re.search(r'href="\?from=([\d-]+)"', page)[1]
    assert dt.date.fromisoformat(later) == last + dt.timedelta(weeks=1)
    second = c.get(f"/factory/capacity/?from={later}").content.decode()
    assert f'<th title="{week_at(last, horizon())}">' in second and "Earlier weeks" in second
    assert f'href="?from={monday(timezone.localdate())}"' in second  # back to the first page, as it opens
    assert c.get("/factory/capacity/?from=garbage").status_code == 200


def test_a_refused_counter_offer_reads_as_the_buyers_refusal_on_the_job_board(cluster: dict[str, Any]) -> None:
    from tests.factory.test_fixed_work import owner_of

    order = _only_sz_cnc(cluster)
    a = order.allocations.filter(status="offered", quantity__gte=200).order_by("week").first()
    jobs.allocation_respond(actor=owner_of(cluster, a), allocation=a, action="counter", quantity=100)
    jobs.counter_decide(actor=cluster["people"]["buyer"], allocation=a, accept=False)
    board = logged(owner_of(cluster, a)).get("/factory/jobs/").content.decode()
    assert "Counter-offer of 100 machine-hours refused by the buyer" in board
    changes = logged(cluster["people"]["buyer"]).get(f"/factory/orders/{order.pk}/").content.decode()
    assert "Counter-offer of 100 machine-hours refused by the buyer" in changes


def test_offers_a_step_could_never_use_are_not_named_as_holding_its_room(cluster: dict[str, Any]) -> None:
    buyer = cluster["people"]["buyer"]
    # the first order is offered Suzhou's CNC; the second may only use Shenzhen's, and is too big for it
    first = _cnc_planned(cluster, 600, regions_only=["320000"])
    assert first.status == "planned" and first.allocations.filter(status="offered").exists()
    second = _cnc_planned(cluster, 9000, product="B", regions_only=["440000"])
    assert second.status == "infeasible"
    page = logged(buyer).get(f"/factory/orders/{second.pk}/").content.decode()
    diagnosis = page.split('id="diagnosis"')[1].split("</div>")[0]
    assert "needs 9,000 machine-hours" in diagnosis and "open offers to other orders" not in diagnosis


def test_a_replan_that_offers_a_factory_the_same_again_does_not_announce_new_work(cluster: dict[str, Any]) -> None:
    from agglo.common.models import Notification

    buyer = cluster["people"]["buyer"]
    order = orders.order_plan(
        actor=buyer, order=orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk))
    )

    def offers() -> dict[int, set[tuple[int, Any, int]]]:
        rows: dict[int, set[tuple[int, Any, int]]] = {}
        for a in order.allocations.filter(status="offered"):
            rows.setdefault(a.factory_id, set()).add((a.operation_id, a.week, a.quantity))
        return rows

    def heard() -> dict[int, int]:
        return {
            f: Notification.objects.filter(user__memberships__organization_id=f, verb="factory.offered").count()
            for f in {o.pk for o in cluster["orgs"].values()}
        }

    before, told = offers(), heard()
    orders.order_plan(actor=buyer, order=order)  # plan again, nothing changed
    after, now = offers(), heard()
    for factory in after:
        assert now[factory] - told[factory] == (0 if after[factory] == before.get(factory) else 1), factory


def test_the_new_api_inputs_refuse_bad_values_and_strangers(cluster: dict[str, Any]) -> None:
    from tests.conftest import user
    from tests.factory.test_fixed_work import owner_of

    order = _only_sz_cnc(cluster)
    a = order.allocations.filter(status="offered").first()
    api = logged(owner_of(cluster, a))
    r = api.post(
        f"/api/v1/factory/allocations/{a.pk}/answer",
        data=json.dumps({"action": "decline", "whole_step": "perhaps"}),
        content_type="application/json",
    )
    assert r.status_code == 422 and "whole_step" in json.dumps(r.json())
    a.refresh_from_db()
    assert a.status == "offered" and not a.declined_step  # nothing half-done
    stranger = logged(user("stranger"))
    assert stranger.get(f"/api/v1/factory/orders/{order.pk}/changes").status_code == 404


def test_a_unit_cost_is_below_a_million_yuan_so_large_orders_stay_plannable(cluster: dict[str, Any]) -> None:
    """The solver's objective is 64-bit: one member's absurd price must not make every large order of its process
    unplannable for the others."""
    from agglo.factory.services.capacity import capability_save
    from tests.factory.test_plan_flow import planned

    people, orgs = cluster["people"], cluster["orgs"]
    with pytest.raises(ValidationFailed) as refused:
        capability_save(
            actor=people["su"],
            organization_id=orgs["su"].pk,
            data={"process": "cnc", "weekly_capacity": 10_000_000, "unit_cost": "1000000"},
        )
    assert "unit_cost" in refused.value.errors
    for who, price in (("sz", "2.50"), ("su", "999999.99")):
        capability_save(
            actor=people[who],
            organization_id=orgs[who].pk,
            data={"process": "cnc", "weekly_capacity": 10_000_000, "unit_cost": price},
        )
    order = planned(cluster, quantity=1_000_000, operations=[{"process": "cnc", "quantity": 1_000_000}])
    assert order.status == "planned", (order.plan_stats, order.diagnosis)


def test_an_unknown_certification_is_named_without_echoing_a_page_of_it() -> None:
    from agglo.factory.validation import certifications_clean

    errors: dict[str, list[str]] = {}
    certifications_clean("ISO9001, " + "X" * 3000, "certifications", errors)
    (said,) = errors["certifications"]
    assert "X" * 40 + "…" in said and len(said) < 300


def test_work_is_started_only_once_its_parts_begin_to_arrive(cluster: dict[str, Any], english: None) -> None:
    """Started work is never moved by a re-plan, so the flag alone must not hold a place ahead of the parts
    (review 32): a later step is started as its first unit done would be, once a preceding step delivered."""
    from tests.factory.conftest import signed_in
    from tests.factory.test_amend import confirmed
    from tests.factory.test_fixed_work import owner_of

    order = confirmed(cluster)
    second = order.allocations.filter(status="accepted", operation__seq=2).order_by("-quantity").first()
    factory = signed_in(owner_of(cluster, second))
    url = f"/api/v1/factory/allocations/{second.pk}/progress"
    r = factory.post(url, {"started": True}, content_type="application/json")
    assert r.status_code == 422 and list(r.json()["errors"]) == ["started"]
    assert "加工不能先于其所需的零部件到位" in r.json()["errors"]["started"][0]
    second.refresh_from_db()
    assert not second.started
    first = order.allocations.filter(status="accepted", operation__seq=1).order_by("-quantity").first()
    done = {"quantity_done": first.quantity, "delivered_on": dt.date.today().isoformat()}
    owner = signed_in(owner_of(cluster, first))
    r = owner.post(f"/api/v1/factory/allocations/{first.pk}/progress", done, content_type="application/json")
    assert r.status_code == 200
    # a first step needs no parts; a later one may start once some have arrived
    assert factory.post(url, {"started": True}, content_type="application/json").json()["started"] is True
    # progress on work already delivered is refused under `action`, as the other state errors are
    again = owner.post(
        f"/api/v1/factory/allocations/{first.pk}/progress", {"quantity_done": 1}, content_type="application/json"
    )
    assert again.status_code == 422 and list(again.json()["errors"]) == ["action"]


def test_an_answer_or_a_delay_names_every_fault_at_once(cluster: dict[str, Any]) -> None:
    """A counter-offer with a bad quantity and too long a note, or a delay report with bad weeks and no reason,
    is refused with both faults in one answer, as an order is (review 32)."""
    from tests.factory.conftest import signed_in
    from tests.factory.test_amend import confirmed
    from tests.factory.test_fixed_work import owner_of
    from tests.factory.test_plan_flow import planned

    order = planned(cluster)
    offer = order.allocations.filter(status="offered").first()
    factory = signed_in(owner_of(cluster, offer))
    answer = {"action": "counter", "quantity": -1, "note": "x" * 3000}
    r = factory.post(f"/api/v1/factory/allocations/{offer.pk}/answer", answer, content_type="application/json")
    assert r.status_code == 422 and set(r.json()["errors"]) == {"quantity", "note"}
    offer.refresh_from_db()
    assert offer.status == "offered"

    work = confirmed(cluster).allocations.filter(status="accepted").first()
    factory = signed_in(owner_of(cluster, work))
    r = factory.post(f"/api/v1/factory/allocations/{work.pk}/delay", {"weeks": 0}, content_type="application/json")
    assert r.status_code == 422 and set(r.json()["errors"]) == {"weeks", "reason"}
    r = factory.post(f"/api/v1/factory/allocations/{work.pk}/delay", {}, content_type="application/json")
    assert r.json()["errors"] == {"weeks": ["此项为必填项。"], "reason": ["请说明原因，以便买方重新安排。"]}


def test_a_huge_figure_is_refused_with_its_fields_own_rule(cluster: dict[str, Any], english: None) -> None:
    """Beyond a database integer, a figure the service checks gets the field's range, not the database's limit
    (review 32); an id or a paging number beyond it still gets the limit."""
    from tests.factory.conftest import signed_in

    buyer = signed_in(cluster["people"]["buyer"])
    buyer.cookies["django_language"] = "en"
    data = order_data(buyer=cluster["orgs"]["buyer"].pk, quantity=10**30, min_quality=10**30)
    data["operations"][1]["quantity"] = -(10**30)
    r = buyer.post("/api/v1/factory/orders", data, content_type="application/json")
    errors = r.json()["errors"]
    assert r.status_code == 422
    assert errors["quantity"] == ["Must be between 1 and 10,000,000."]
    assert errors["min_quality"] == ["Must be between 0 and 3."]
    assert errors["operations[2].quantity"] == ["Must be between 1 and 10,000,000."]
    data = order_data(buyer=10**30)
    assert buyer.post("/api/v1/factory/orders", data, content_type="application/json").json()["errors"] == {
        "buyer": ["Must be at most 9223372036854775807."]
    }
