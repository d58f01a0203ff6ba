"""Who sees what of the virtual factory beyond its own part: scorecards, the plan's costs, the members, the log."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from django.test import Client

from agglo.access.models import PlatformRole
from agglo.factory.models import Order
from agglo.factory.services.execution import allocation_progress
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_create, order_plan
from agglo.ledger.entries import decode
from agglo.ledger.models import LogEntry
from agglo.registry.models import Organization
from tests.conftest import user
from tests.factory.conftest import order_data
from tests.factory.conftest import signed_in as logged_in

pytestmark = pytest.mark.django_db


def planned(cluster: dict[str, Any]) -> Order:
    buyer = cluster["people"]["buyer"]
    return order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))


def owner_of(cluster: dict[str, Any], factory_id: int) -> Any:
    return next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == factory_id)


def delivered(cluster: dict[str, Any]) -> Any:
    import django.utils.timezone as tz

    order = planned(cluster)
    a = order.allocations.filter(status="offered").first()
    allocation_respond(actor=owner_of(cluster, a.factory_id), allocation=a, action="accept")
    allocation_progress(
        actor=owner_of(cluster, a.factory_id),
        allocation=a,
        data={"quantity_done": a.quantity, "delivered_on": tz.localdate().isoformat()},
    )
    return a


def test_scorecards_are_for_members_in_good_standing(cluster: dict[str, Any]) -> None:
    a = delivered(cluster)
    assert Client().get("/api/v1/factory/scorecards").status_code == 401  # no identity given: log in first
    outsider = logged_in(user("no-org"))
    assert outsider.get("/api/v1/factory/scorecards").status_code == 403
    assert outsider.get("/factory/scorecards/").status_code == 403
    # kept at the members' level, which government officers see as they see members-level profile data
    officer = logged_in(user("officer", role=PlatformRole.Role.GOVERNMENT))
    assert [c["organization_id"] for c in officer.get("/api/v1/factory/scorecards").json()] == [a.factory_id]
    assert officer.get("/factory/scorecards/").status_code == 200
    member = logged_in(cluster["people"]["buyer"])
    cards = member.get("/api/v1/factory/scorecards").json()
    assert [c["organization_id"] for c in cards] == [a.factory_id]
    assert cards[0]["confirmed"] == 0 and cards[0]["disputed"] == 0
    assert member.get("/factory/scorecards/").status_code == 200
    # a suspended factory's record leaves the list, as it leaves the member directory
    Organization.objects.filter(pk=a.factory_id).update(status="suspended")
    assert member.get("/api/v1/factory/scorecards").json() == []
    assert logged_in(cluster["operator"]).get("/api/v1/factory/scorecards").status_code == 200


def test_a_factory_sees_neither_the_plans_costs_nor_who_else_serves_until_it_joins(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    buyer = logged_in(cluster["people"]["buyer"])
    assert buyer.get(f"/api/v1/factory/orders/{order.pk}").json()["plan_stats"]["objective"] is not None
    offers = list(order.allocations.filter(status="offered"))
    first = offers[0]
    factory = logged_in(owner_of(cluster, first.factory_id))
    assert factory.get(f"/api/v1/factory/orders/{order.pk}").json()["plan_stats"] == {}
    assert all(o["plan_stats"] == {} for o in factory.get("/api/v1/factory/orders").json())
    page = factory.get(f"/factory/orders/{order.pk}/").content.decode()
    assert 'id="plan-stats"' not in page
    # Another factory has joined; one only offered work does not learn who it is.
    other = next(a for a in offers if a.factory_id != first.factory_id)
    allocation_respond(actor=owner_of(cluster, other.factory_id), allocation=other, action="accept")
    other_name = Organization.objects.get(pk=other.factory_id).name_zh
    members = factory.get(f"/factory/orders/{order.pk}/").content.decode().split('id="members"')[1]
    assert other_name not in members.split("</ul>")[0]
    # Once it has accepted too, the members see each other: parts travel between them.
    allocation_respond(actor=owner_of(cluster, first.factory_id), allocation=first, action="accept")
    members = factory.get(f"/factory/orders/{order.pk}/").content.decode().split('id="members"')[1]
    assert other_name in members.split("</ul>")[0]


def test_the_public_log_keeps_who_supplies_whom_between_the_parties(cluster: dict[str, Any]) -> None:
    """The log is public, but the pages show a factory only its own part of an order: its entries name neither
    party, order, quantity, week nor quality in the clear, and the two parties can check each with the key they
    read with the work."""
    from agglo.factory.services.execution import allocation_receipt
    from agglo.ledger.entries import sealed, sealed_ref

    a = delivered(cluster)
    allocation_receipt(actor=cluster["people"]["buyer"], allocation=a, confirm=True, defects_found=2)
    a.refresh_from_db()
    logged = [decode(bytes(e.data)) for e in LogEntry.objects.filter(type__startswith="factory.allocation_")]
    assert {e["type"] for e in logged} >= {"factory.allocation_accepted", "factory.allocation_received"}
    for entry in logged:
        payload = entry["payload"]
        assert "unit_cost" not in payload and "price" not in payload
        assert {"order", "buyer", "factory", "process", "quantity", "week"} <= set(payload)
        assert all(v.startswith("hmac-sha256:") for v in payload.values() if not isinstance(v, bool)), payload
        assert entry["actor"].startswith("party:")  # not org:<id>
        # nor which piece of work: an id in the clear would link a member's entries for whoever can name it
        assert entry["subject"].startswith("factory.allocation:") and str(a.pk) != entry["subject"].split(":")[1]
    # the buyer and the factory read the key with the work, and open what the log says
    key = logged_in(cluster["people"]["buyer"]).get(f"/api/v1/factory/orders/{a.order_id}/allocations").json()
    key = next(x for x in key if x["id"] == a.pk)["text_key"]
    assert key == a.text_key
    received = next(e for e in logged if e["type"] == "factory.allocation_received")
    assert received["payload"]["defects_found"] == sealed("defects_found:2", key)
    assert received["payload"]["factory"] == sealed(f"factory:{a.factory_id}", key)
    assert received["payload"]["week"] == sealed(f"week:{a.week.isoformat()}", key)
    # as the pages say how: HMAC-SHA256 of name:value, keyed with the bytes the hex key stands for
    by_hand = hmac.new(bytes.fromhex(key), b"defects_found:2", hashlib.sha256).hexdigest()
    assert received["payload"]["defects_found"] == "hmac-sha256:" + by_hand
    subject = (
        "factory.allocation:"
        + hmac.new(bytes.fromhex(key), f"factory.allocation:{a.pk}".encode(), "sha256").hexdigest()
    )
    assert {e["subject"] for e in logged} == {subject}
    # the parties read the key and the subject on the order page; another factory of the order does not
    page = logged_in(cluster["people"]["buyer"]).get(f"/factory/orders/{a.order_id}/").content.decode()
    assert key in page.split('id="log-keys"')[1] and subject in page
    # and read what the log says, every digest checked against the platform's own record of the step
    opened = page.split('id="log-keys"')[1].split("</table>")[0]
    assert "defects_found:2</code>" in opened and f"week:{a.week}</code>" in opened
    assert f"<span>{a.factory.name_zh}</span> <code>factory:{a.factory_id}</code>" in opened  # an id, and what it is
    assert "由买方" in opened and "由工厂" in opened and "无法核对" not in opened
    # where the platform's record and the log disagree, the page says so instead of showing a value
    from agglo.common.models import AuditEvent

    step = AuditEvent.objects.get(event="factory.allocation_delivered", subject_id=str(a.pk))
    AuditEvent.objects.filter(pk=step.pk).update(payload={**step.payload, "done": a.quantity_done + 1})
    page = logged_in(cluster["people"]["buyer"]).get(f"/factory/orders/{a.order_id}/").content.decode()
    assert "已完成数量：无法核对" in page.split('id="log-keys"')[1].split("</table>")[0]
    others = a.order.allocations.exclude(factory_id=a.factory_id).exclude(factory_id=a.order.buyer_id).first()
    seen_by_other = logged_in(owner_of(cluster, others.factory_id)).get(f"/factory/orders/{a.order_id}/")
    assert seen_by_other.status_code == 200 and key not in seen_by_other.content.decode()
    # each fact under its own name: equal values do not read as equal digests
    delivery = next(e for e in logged if e["type"] == "factory.allocation_delivered")["payload"]
    assert a.quantity_done == a.quantity and delivery["done"] != delivery["quantity"]
    assert received["actor"] == sealed_ref("party", f"org:{a.order.buyer_id}", key)  # the buyer confirmed
    accepted = next(e for e in logged if e["type"] == "factory.allocation_accepted")
    assert accepted["actor"] == sealed_ref("party", f"org:{a.factory_id}", key)
    mine = logged_in(owner_of(cluster, a.factory_id)).get("/ledger/mine/").content.decode()
    assert "factory.allocation_accepted" in mine and 'id="sealed-how"' in mine
    assert f'<a href="/factory/orders/{a.order_id}/">' in mine  # the sealed entry links to the order it serves
    assert "&quot;quantity&quot;: &quot;hmac-sha256:" in mine  # the payload as JSON, to copy into a checker
    # anyone can still read the entries and check the log; nobody else learns from them who served the order
    from agglo.ledger.services import checkpoint_publish

    checkpoint_publish()
    anonymous = Client().get(f"/api/v1/ledger/entries/{LogEntry.objects.get(type='factory.allocation_received').index}")
    assert anonymous.status_code == 200 and str(a.factory.name_zh) not in anonymous.content.decode()
