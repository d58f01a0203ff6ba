"""`agglo sweep_standing`: a status written around `organization_set_status` (a bulk update in the database) is
found and carried out as the service would, every record saying the sweep found it; a withdrawn organization's
nodes and open listings left standing are taken back; a second run does nothing."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management import CommandError, call_command
from django.test import Client

from agglo.access.models import Node
from agglo.access.nodes import node_register
from agglo.common.models import AuditEvent, Notification
from agglo.ledger.models import LogEntry
from agglo.market.models import Interest, Listing
from agglo.registry.models import Organization
from agglo.registry.services import organization_set_status, standing
from tests.registry.test_standing import _answer, _fresh, _publish

pytestmark = pytest.mark.django_db

EVENT = "registry.organization_status_changed"


def _node(admin: Any, org: Organization, name: str) -> Node:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return node_register(actor=admin, organization_id=org.pk, name=name, public_key=base64.b64encode(raw).decode()).node


def _sweep(capture: Any) -> str:
    out = io.StringIO()
    with capture(execute=True):
        call_command("sweep_standing", stdout=out)
    return out.getvalue()


def _written() -> tuple[int, int, int]:
    """What a run may leave: history events, notices, log entries."""
    return AuditEvent.objects.count(), Notification.objects.count(), LogEntry.objects.count()


def test_a_withdrawal_written_in_the_database_is_carried_out_by_the_sweep_once_and_says_so(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    leaving, org = member_of("bulk-leaving")
    other, other_org = member_of("bulk-other")
    node = _node(leaving, org, "erp")
    mine = _publish(leaving, org, "出租三坐标测量机")
    theirs = _publish(other, other_org, "寻求精密加工合作")
    answer_to_mine, answer_to_theirs = _answer(other, mine), _answer(leaving, theirs)
    Organization.objects.filter(pk=org.pk).update(status="withdrawn")  # around the service: nothing happens
    node.refresh_from_db()
    assert node.revoked_at is None and Listing.objects.get(pk=mine.pk).status == "published"
    assert not AuditEvent.objects.filter(event=EVENT).exists()

    said = _sweep(django_capture_on_commit_callbacks)
    assert f"organization {org.pk}: member -> withdrawn, not recorded: recorded and carried out" in said, said
    assert "changes carried out: 1" in said, said
    # what the service does on withdrawal is done: nodes revoked, listings closed, responses withdrawn
    node.refresh_from_db()
    node.user.refresh_from_db()
    assert node.revoked_at is not None and not node.user.is_active
    assert not node.keys.filter(revoked_at__isnull=True).exists()
    mine.refresh_from_db()
    assert (mine.status, mine.outcome) == ("closed", "withdrawn")
    assert {i.status for i in Interest.objects.filter(pk__in=[answer_to_mine.pk, answer_to_theirs.pk])} == {"declined"}
    # recorded as the service would, each record saying the sweep found it
    change = AuditEvent.objects.get(event=EVENT, organization_id=org.pk)
    assert change.payload == {"before": "member", "after": "withdrawn", "reason": "", "swept": True}
    assert change.actor_id is None
    revoked = AuditEvent.objects.get(event="access.node_revoked", organization_id=org.pk)
    assert revoked.payload == {"organization_left": True, "swept": True}
    closed = AuditEvent.objects.get(event="market.listing_close", subject_id=str(mine.pk))
    assert closed.payload["swept"] is True
    entry = LogEntry.objects.get(type=EVENT)
    assert b'"swept":true' in bytes(entry.data) and b'"actor":"system"' in bytes(entry.data)
    # its admins are told what it means and that the sweep found it; the operators that it bypassed the services
    told = Notification.objects.get(user=leaving, verb="registry.status")
    assert "已退出平台" in told.text and "其节点已被吊销：erp。" in told.text, told.text
    assert "并非经由平台的正常途径作出" in told.text, told.text
    ops = Notification.objects.get(user=operator, verb="registry.status")
    assert "在平台服务之外被标记为已退出" in ops.text and ops.link == f"/admin/registry/organization/{org.pk}/change/"
    assert Notification.objects.filter(user=other, verb="market.interest_lapsed").count() == 2
    # the history reads it in words
    page = Client()
    page.force_login(_fresh(leaving))
    history = page.get(f"/organizations/{org.pk}/tab/history/").content.decode()
    assert "由成员状态定期核查发现" in history and "之后：已退出" in history, history

    before = _written()
    again = _sweep(django_capture_on_commit_callbacks)
    assert _written() == before, "a second run must change nothing"
    assert "changes carried out: 0; organizations with nodes revoked: 0" in again and "market 0" in again, again


def test_a_suspension_and_a_reinstatement_written_in_the_database_are_each_recorded_once(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    owner, org = member_of("bulk-suspended")
    _still, steady = member_of("bulk-steady")
    node = _node(owner, org, "erp")
    Organization.objects.filter(pk=org.pk).update(status="suspended")
    stamped = Organization.objects.get(pk=org.pk).updated_at  # a bulk update leaves the row's time as it was
    _sweep(django_capture_on_commit_callbacks)
    assert [e.payload for e in AuditEvent.objects.filter(event=EVENT)] == [
        {"before": "member", "after": "suspended", "reason": "", "swept": True}
    ]
    node.refresh_from_db()
    assert node.revoked_at is None  # a suspension revokes nothing
    told = Notification.objects.get(user=owner, verb="registry.status")
    assert "已被平台运营方暂停" in told.text and "平台的定期核查发现了它" in told.text, told.text
    # the directory's facets and the matching index's sync see the change: the row's time moves with the record
    org.refresh_from_db()
    assert org.updated_at > stamped
    Organization.objects.filter(pk=org.pk).update(status="member")
    said = _sweep(django_capture_on_commit_callbacks)
    assert f"organization {org.pk}: suspended -> member" in said, said
    assert [e.payload["after"] for e in AuditEvent.objects.filter(event=EVENT).order_by("pk")] == [
        "suspended",
        "member",
    ]
    assert not AuditEvent.objects.filter(event=EVENT, organization_id=steady.pk).exists()  # as it was: untouched
    assert LogEntry.objects.filter(type=EVENT).count() == 2
    before = _written()
    _sweep(django_capture_on_commit_callbacks)
    assert _written() == before


def test_a_withdrawn_member_reinstated_in_the_database_stays_reinstated_and_is_recorded(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    owner, org = member_of("bulk-back")
    with django_capture_on_commit_callbacks(execute=True):
        organization_set_status(actor=operator, organization=org, status="withdrawn")
    Organization.objects.filter(pk=org.pk).update(status="member")  # reinstating one that left is allowed
    _sweep(django_capture_on_commit_callbacks)
    org.refresh_from_db()
    assert org.status == "member"
    last = AuditEvent.objects.filter(event=EVENT, organization_id=org.pk).order_by("-pk").first()
    assert last is not None and last.payload == {"before": "withdrawn", "after": "member", "reason": "", "swept": True}
    told = Notification.objects.filter(user=owner, verb="registry.status").order_by("-pk").first()
    assert told is not None and "已恢复为正常状态的成员" in told.text


def test_what_a_recorded_withdrawal_left_standing_is_taken_back_and_only_once(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    leaving, org = member_of("left-over")
    with django_capture_on_commit_callbacks(execute=True):
        organization_set_status(actor=operator, organization=org, status="withdrawn")
    # back in the database, a node and a listing made meanwhile, and withdrawn again there: the history's last
    # change is a withdrawal, as the status is, so only what it left standing tells
    Organization.objects.filter(pk=org.pk).update(status="member")
    node = _node(_fresh(leaving), org, "erp")
    listing = _publish(_fresh(leaving), Organization.objects.get(pk=org.pk), "出租三坐标测量机")
    Organization.objects.filter(pk=org.pk).update(status="withdrawn")
    changes = AuditEvent.objects.filter(event=EVENT).count()
    said = _sweep(django_capture_on_commit_callbacks)
    assert AuditEvent.objects.filter(event=EVENT).count() == changes  # no change of standing to record
    assert f"organization {org.pk}: withdrawn, nodes revoked: erp" in said and "market 1" in said, said
    node.refresh_from_db()
    listing.refresh_from_db()
    assert node.revoked_at is not None and (listing.status, listing.outcome) == ("closed", "withdrawn")
    revoked = AuditEvent.objects.get(event="access.node_revoked", organization_id=org.pk)
    assert revoked.payload == {"organization_left": True, "swept": True} and revoked.actor_id is None
    assert AuditEvent.objects.get(event="market.listing_close", subject_id=str(listing.pk)).payload["swept"] is True
    for user in (leaving, operator):
        told = Notification.objects.filter(user=user, verb="registry.status", text__contains="仍然有效")
        assert [n.text for n in told] == [
            f"{org.name_zh} 已退出平台，但其部分节点仍然有效：平台的定期核查已将其吊销：erp。"
        ]
    before = _written()
    again = _sweep(django_capture_on_commit_callbacks)
    assert _written() == before and "market 0" in again, again


def test_a_change_through_the_service_meanwhile_is_not_recorded_twice(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _owner, org = member_of("bulk-race")
    Organization.objects.filter(pk=org.pk).update(status="suspended")
    assert standing._unrecorded() == [org.pk]
    # between the sweep's look and its turn, an operator withdraws it through the service (which records it)
    with django_capture_on_commit_callbacks(execute=True):
        organization_set_status(actor=operator, organization=org, status="withdrawn")
    assert standing._sweep_change(org.pk) is None
    assert [e.payload["after"] for e in AuditEvent.objects.filter(event=EVENT)] == ["withdrawn"]
    assert standing._unrecorded() == []


def test_applicants_are_left_to_their_admission(ref: None, operator: Any, make_org: Any) -> None:
    org = make_org()
    Organization.objects.filter(pk=org.pk).update(status="applicant", joined_at=None)
    assert standing._unrecorded() == []
    assert standing.standing_sweep().changes == {}


def test_one_organization_failing_leaves_the_others_done_and_the_run_failed_the_next_run_finishes_it(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _a, first = member_of("bulk-fails")
    _b, second = member_of("bulk-passes")
    Organization.objects.filter(pk__in=[first.pk, second.pk]).update(status="suspended")
    carry_out = standing._carry_out

    def broken(actor: Any, organization: Organization, **kwargs: Any) -> list[str]:
        if organization.pk == first.pk:
            raise RuntimeError("a fault in one organization's turn")
        return carry_out(actor, organization, **kwargs)

    monkeypatch.setattr(standing, "_carry_out", broken)
    with pytest.raises(CommandError, match=f"failed for organizations {first.pk}: see the log"):
        _sweep(django_capture_on_commit_callbacks)
    assert [e.organization_id for e in AuditEvent.objects.filter(event=EVENT)] == [second.pk]
    first.refresh_from_db()
    assert first.status == "suspended"  # rolled back whole: nothing of it half-done
    monkeypatch.setattr(standing, "_carry_out", carry_out)
    said = _sweep(django_capture_on_commit_callbacks)
    assert f"organization {first.pk}: member -> suspended" in said and "changes carried out: 1" in said, said
