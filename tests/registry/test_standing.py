"""A member suspended, withdrawn and reinstated, across the platform: what its people still see and do, what others
no longer see, what comes back by itself and what does not, who is told, and what the history and the log keep."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from agglo.access import policy
from agglo.access.tokens import api_token_create
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.models import AuditEvent, Notification
from agglo.ledger.models import LogEntry
from agglo.market import services as market
from agglo.market.models import Listing
from agglo.registry.models import Organization
from agglo.registry.services import organization_set_status

pytestmark = pytest.mark.django_db


def _answer(actor: Any, listing: Listing) -> Any:
    """The actor's organization answers the listing (a response waiting for the owner's decision)."""
    return market.interest_express(
        actor=actor, listing=listing, data={"cooperation": "service", "message": "我们需要测量一批壳体"}
    )


def _publish(actor: Any, org: Organization, title: str) -> Listing:
    listing = market.listing_create(
        actor=actor,
        organization=org,
        data={"side": "offer", "kind": "equipment", "title_zh": title, "description_zh": "每周可用两天。"},
    )
    return market.listing_submit(actor=actor, listing=listing)


def _set(operator: Any, org: Organization, status: str, capture: Any, reason: str = "") -> None:
    with capture(execute=True):
        organization_set_status(actor=operator, organization=org, status=status, reason=reason)
    org.refresh_from_db()


def _fresh(user: Any) -> Any:
    return type(user).objects.get(pk=user.pk)  # a new request: its rights read again


def test_a_suspended_member_reads_its_own_data_and_acts_again_once_reinstated_others_lose_sight_meanwhile(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    owner, org = member_of("standing-owner")
    other, _other_org = member_of("standing-other")
    listing = _publish(owner, org, "出租三坐标测量机")
    _, clear = api_token_create(actor=owner, user=owner, name="erp")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {clear}")
    _set(operator, org, "suspended", django_capture_on_commit_callbacks, reason="年度信息未报送")
    # its people log in and read its own data, by page and by token, but cannot act for it
    mine = Client()
    mine.force_login(owner)
    assert mine.get(f"/organizations/{org.pk}/").status_code == 200
    assert mine.get(f"/market/{listing.pk}/").status_code == 200
    assert api.get(f"/api/v1/organizations/{org.pk}").status_code == 200
    made = api.post(
        f"/api/v1/organizations/{org.pk}/listings",
        {"side": "offer", "kind": "equipment", "title_zh": "再发一条"},
        content_type="application/json",
    )
    assert made.status_code == 403
    # others no longer find it, nor its listing; nothing of it is deleted
    theirs = Client()
    theirs.force_login(other)
    assert theirs.get(f"/organizations/{org.pk}/").status_code == 404
    assert theirs.get(f"/market/{listing.pk}/").status_code == 404
    assert str(org.pk) not in [str(o["id"]) for o in theirs.get("/api/v1/organizations").json()["items"]]
    listing.refresh_from_db()
    assert listing.status == "published"
    # its admins are told what it means, and why
    told = Notification.objects.get(user=owner, verb="registry.status")
    assert "已被平台运营方暂停" in told.text and "原因：年度信息未报送" in told.text, told.text
    assert told.link == f"/organizations/{org.pk}/"
    _set(operator, org, "member", django_capture_on_commit_callbacks)
    # everything comes back by itself: the listing, its token's rights
    assert theirs.get(f"/market/{listing.pk}/").status_code == 200
    assert theirs.get(f"/organizations/{org.pk}/").status_code == 200
    made = api.post(
        f"/api/v1/organizations/{org.pk}/listings",
        {"side": "offer", "kind": "equipment", "title_zh": "再发一条"},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    again = Notification.objects.filter(user=owner, verb="registry.status").order_by("-pk").first()
    assert again is not None and "已恢复为正常状态的成员" in again.text


def test_every_change_of_standing_is_in_the_history_in_words_and_on_the_log_and_a_repeat_changes_nothing(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    owner, org = member_of("history-owner")
    _set(operator, org, "suspended", django_capture_on_commit_callbacks, reason="年度信息未报送")
    _set(operator, org, "suspended", django_capture_on_commit_callbacks)  # again: nothing new
    _set(operator, org, "member", django_capture_on_commit_callbacks)
    events = AuditEvent.objects.filter(event="registry.organization_status_changed", organization_id=org.pk)
    assert [(e.payload["before"], e.payload["after"]) for e in events.order_by("pk")] == [
        ("member", "suspended"),
        ("suspended", "member"),
    ]
    assert Notification.objects.filter(user=owner, verb="registry.status").count() == 2
    logged = LogEntry.objects.filter(type="registry.organization_status_changed")
    assert logged.count() == 2
    client = Client()
    client.force_login(_fresh(owner))
    row = client.get(f"/organizations/{org.pk}/tab/history/").content.decode().split('id="history"')[1]
    assert "成员资格 · 状态变更" in row
    assert "之前：已暂停" in row and "之后：成员" in row and "理由：年度信息未报送" in row, row


def test_responders_waiting_on_a_suspended_owner_are_told_and_its_expired_listings_are_named_on_reinstatement(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    owner, org = member_of("waiting-owner")
    responder, responder_org = member_of("waiting-responder")
    listing = _publish(owner, org, "出租三坐标测量机")
    lapsing = _publish(owner, org, "出租激光切割机")
    interest = _answer(responder, listing)
    _set(operator, org, "suspended", django_capture_on_commit_callbacks)
    told = Notification.objects.get(user=responder, verb="market.owner_status")
    assert "“出租三坐标测量机”的发布方已被平台运营方暂停" in told.text and told.link == f"/market/{listing.pk}/"
    Listing.objects.filter(pk=lapsing.pk).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
    assert market.listings_expire() == 1  # expired while its owner was away: renewing it is the owner's call
    _set(operator, org, "member", django_capture_on_commit_callbacks)
    back = Notification.objects.filter(user=responder, verb="market.owner_status").order_by("-pk").first()
    assert back is not None and "可以答复贵方的响应" in back.text
    named = Notification.objects.get(user=owner, verb="market.reinstated")
    assert "出租激光切割机" in named.text and named.link == "/market/mine/"
    interest.refresh_from_db()
    assert interest.status == "new"  # it waited, undecided


def test_a_response_from_a_suspended_member_cannot_be_accepted_meanwhile(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    owner, org = member_of("accept-owner")
    responder, responder_org = member_of("accept-responder")
    listing = _publish(owner, org, "出租三坐标测量机")
    interest = _answer(responder, listing)
    _set(operator, responder_org, "suspended", django_capture_on_commit_callbacks)
    with pytest.raises(ValidationFailed) as refused:
        market.interest_accept(actor=owner, interest=interest)
    assert "目前不是正常状态的成员" in refused.value.errors["status"][0]
    _set(operator, responder_org, "member", django_capture_on_commit_callbacks)
    assert market.interest_accept(actor=owner, interest=interest).status == "accepted"


def test_a_member_that_leaves_has_its_listings_closed_and_its_responses_withdrawn_everyone_waiting_told(
    member_of: Any, django_capture_on_commit_callbacks: Any
) -> None:
    leaving, org = member_of("leaving-owner")
    other, other_org = member_of("leaving-other")
    mine = _publish(leaving, org, "出租三坐标测量机")
    theirs = _publish(other, other_org, "寻求精密加工合作")
    answer_to_mine = _answer(other, mine)
    answer_to_theirs = _answer(leaving, theirs)
    with django_capture_on_commit_callbacks(execute=True):  # its admin withdraws it
        organization_set_status(actor=leaving, organization=org, status="withdrawn")
    mine.refresh_from_db()
    assert (mine.status, mine.outcome) == ("closed", "withdrawn")
    for interest in (answer_to_mine, answer_to_theirs):
        interest.refresh_from_db()
        assert interest.status == "declined"
    assert Notification.objects.filter(user=other, verb="market.interest_lapsed").count() == 2
    gone = Notification.objects.get(user=other, verb="market.interest_lapsed", link=f"/market/{theirs.pk}/")
    assert "已退出平台：其对“寻求精密加工合作”的响应已撤回" in gone.text
    # the operators hear of a member leaving by itself; it is on the log as the member's own act
    assert Notification.objects.filter(verb="registry.status", text__contains="已自行退出平台").exists()
    entry = LogEntry.objects.get(type="registry.organization_status_changed")
    assert f'"org:{org.pk}"'.encode() in bytes(entry.data)
    with pytest.raises(Forbidden):  # and nobody of it acts for it any more
        _publish(_fresh(leaving), org, "再发一条")
    assert not policy.active_organization_ids(_fresh(leaving))


def test_the_operator_reinstating_in_the_admin_is_told_what_came_back_and_what_was_left_alone(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _owner, org = member_of("admin-owner")
    _x, steady = member_of("admin-steady")
    _set(operator, org, "suspended", django_capture_on_commit_callbacks)
    operator.is_staff = True
    operator.save()
    client = Client()
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            "/admin/registry/organization/",
            {"action": "set_member", "_selected_action": [org.pk, steady.pk]},
            follow=True,
        ).content.decode()
    assert "已恢复 1 个机构" in page and "期间被收回或关闭、不会恢复的事项" in page
    assert "1 个机构已是该状态，未作改动。" in page
    org.refresh_from_db()
    assert org.status == "member"


def test_partners_on_a_suspended_owners_listing_are_told_they_lose_sight_of_it_and_see_it_again(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    owner, org = member_of("partner-owner")
    partner, _partner_org = member_of("partner-responder")
    listing = _publish(owner, org, "出租三坐标测量机")
    interest = _answer(partner, listing)
    market.interest_accept(actor=owner, interest=interest)
    reader = Client()
    reader.force_login(partner)
    assert reader.get(f"/market/{listing.pk}/").status_code == 200

    def told() -> list[str]:
        notes = Notification.objects.filter(user=partner, verb="market.owner_status").order_by("pk")
        assert {n.link for n in notes} <= {f"/market/{listing.pk}/"}
        return [n.text for n in notes]

    _set(operator, org, "suspended", django_capture_on_commit_callbacks)
    assert reader.get(f"/market/{listing.pk}/").status_code == 404
    assert len(told()) == 1 and "已接受贵方响应的“出租三坐标测量机”的发布方已被平台运营方暂停" in told()[0], told()
    _set(operator, org, "member", django_capture_on_commit_callbacks)
    assert reader.get(f"/market/{listing.pk}/").status_code == 200
    assert len(told()) == 2 and "重新向贵方显示" in told()[1], told()
    _set(operator, org, "withdrawn", django_capture_on_commit_callbacks)
    assert reader.get(f"/market/{listing.pk}/").status_code == 404
    assert len(told()) == 3 and "已退出平台：该条目不再向贵方显示" in told()[2], told()


def test_a_member_that_leaves_is_told_which_listings_were_closed_and_which_responses_withdrawn(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    leaving, org = member_of("closing-owner")
    other, other_org = member_of("closing-other")
    _quiet, quiet_org = member_of("closing-quiet")
    _publish(leaving, org, "出租三坐标测量机")
    theirs = _publish(other, other_org, "寻求精密加工合作")
    _answer(leaving, theirs)
    _set(operator, org, "withdrawn", django_capture_on_commit_callbacks)
    told = Notification.objects.get(user=leaving, verb="market.left")
    assert "其未关闭的需求和供给已关闭（出租三坐标测量机）" in told.text, told.text
    assert "其尚待答复的响应已撤回（寻求精密加工合作）" in told.text and told.link == "/market/mine/"
    _set(operator, quiet_org, "withdrawn", django_capture_on_commit_callbacks)  # nothing in the market: no notice
    assert not Notification.objects.filter(verb="market.left").exclude(user=leaving).exists()


def test_a_bank_suspended_or_withdrawn_is_told_what_it_means_for_it_not_of_factories_or_orders_it_never_had(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    banker, bank = member_of("standing-bank", kind="bank", name_zh="深圳测试银行")
    for status in ("suspended", "member", "withdrawn"):
        _set(operator, bank, status, django_capture_on_commit_callbacks)
    said = list(Notification.objects.filter(user=banker).order_by("pk").values_list("verb", "text"))
    assert [verb for verb, _text in said] == ["registry.status"] * 3, said  # nothing of the apps': it had nothing
    for _verb, text in said:
        assert not any(word in text for word in ("工厂", "订单", "报价", "任务")), text
    suspended, back, left = (text for _verb, text in said)
    assert "其他成员在名录、搜索和匹配中将不再看到它及其发布的内容" in suspended, suspended
    assert "其他成员重新可以看到它及其发布的内容" in back, back
    assert "其在平台上尚未了结的事项均已关闭或撤销，另有通知逐项说明" in left, left


def test_the_operator_withdrawing_in_the_admin_is_told_its_nodes_are_revoked(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _owner, org = member_of("admin-leaving")
    operator.is_staff = True
    operator.save()
    client = Client()
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            "/admin/registry/organization/", {"action": "set_withdrawn", "_selected_action": [org.pk]}, follow=True
        ).content.decode()
    assert "已将 1 个机构标记为已退出" in page and "其节点被吊销" in page, page
