"""Needs and offers through their services and selectors: rules, lifecycle, visibility, anonymity, interest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import translation

from agglo.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from agglo.common.language import language_remember
from agglo.common.models import AuditEvent, Notification
from agglo.market import selectors, services
from agglo.market.models import Listing, Need, Offer
from tests.conftest import make_uscc

pytestmark = pytest.mark.django_db


def need(**over):
    data = {
        "side": "need",
        "kind": "technology",
        "title_zh": "寻求车规级 SiC 功率器件联合研发伙伴",
        "description_zh": "我司需要碳化硅 MOSFET 的可靠性测试与封装能力。",
        "terms": ["sic-power"],
        "segments": ["ic-design"],
        "tags": "碳化硅, 车规",
    }
    data.update(over)
    return data


@pytest.fixture
def owner(member_of):
    return member_of("owner-admin")


def test_create_validates_every_field_and_saves_nothing(owner, english):
    admin, org = owner
    with pytest.raises(ValidationFailed) as exc:
        services.listing_create(
            actor=admin,
            organization=org,
            data=need(
                kind="service",
                title_zh="",
                terms=["juggling"],
                segments=["nope"],
                region_rule="only",
                amount_min="10",
                amount_max="5",
                deadline="2020-01-01",
                colour="red",
            ),
        )
    assert set(exc.value.errors) == {
        "subkind",
        "title_zh",
        "terms",
        "segments",
        "regions",
        "amount_max",
        "deadline",
        "colour",
    }
    assert exc.value.errors["regions"] == ["Name at least one province or country."]
    assert not Listing.objects.exists()


def test_lifecycle_with_history(owner, operator):
    admin, org = owner
    listing = services.listing_create(actor=admin, organization=org, data=need(deadline="2099-01-01"))
    assert listing.status == "draft" and "碳化硅" in listing.search_text
    services.listing_submit(actor=admin, listing=listing)
    assert listing.status == "published" and listing.expires_on is not None
    services.listing_update(actor=admin, listing=listing, data={"title_en": "SiC power device partner"})
    assert Need.objects.count() == 1 and Offer.objects.count() == 0
    assert services.listings_expire(today=listing.expires_on + dt.timedelta(days=1)) == 1
    listing.refresh_from_db()
    assert listing.status == "expired"
    services.listing_renew(actor=admin, listing=listing, days=30)
    assert listing.status == "published"
    services.listing_close(actor=admin, listing=listing, outcome="fulfilled", note="已与合作方签约")
    with pytest.raises(ValidationFailed):
        services.listing_renew(actor=admin, listing=listing)
    with pytest.raises(ValidationFailed):
        services.listing_update(actor=admin, listing=listing, data={"title_zh": "x"})
    events = list(AuditEvent.objects.filter(subject_type="market.listing").values_list("event", flat=True))
    assert {
        "market.listing_created",
        "market.listing_submit",
        "market.listing_updated",
        "market.listing_expire",
        "market.listing_renew",
        "market.listing_close",
    } <= set(events)


@override_settings(AGGLO_MARKET_REVIEW=True)
def test_operators_review_when_the_platform_requires_it(owner, operator, english):
    admin, org = owner
    listing = services.listing_create(actor=admin, organization=org, data=need())
    services.listing_submit(actor=admin, listing=listing)
    assert listing.status == "review"
    with pytest.raises(Forbidden):
        services.listing_review(actor=admin, listing=listing, approve=True)
    with pytest.raises(ValidationFailed) as exc:
        services.listing_review(actor=operator, listing=listing, approve=False)
    assert exc.value.errors == {"note": ["Say what the owner should change."]}
    services.listing_review(actor=operator, listing=listing, approve=False, note="请补充技术指标")
    assert listing.status == "draft"
    services.listing_submit(actor=admin, listing=listing)
    services.listing_review(actor=operator, listing=listing, approve=True)
    assert listing.status == "published"


def test_only_the_owners_admins_manage_listings(owner, member_of):
    admin, org = owner
    peer, _ = member_of("peer")
    with pytest.raises(Forbidden):
        services.listing_create(actor=peer, organization=org, data=need())
    listing = services.listing_create(actor=admin, organization=org, data=need())
    for call in (
        lambda: services.listing_update(actor=peer, listing=listing, data={"title_zh": "x"}),
        lambda: services.listing_submit(actor=peer, listing=listing),
        lambda: services.listing_close(actor=peer, listing=listing, outcome="withdrawn"),
    ):
        with pytest.raises(Forbidden):
            call()


def test_hidden_listings_never_show(owner, member_of, client):
    admin, org = owner
    peer, _ = member_of("peer")
    draft = services.listing_create(actor=admin, organization=org, data=need())
    members_only = services.listing_create(actor=admin, organization=org, data=need(title_zh="成员可见"))
    services.listing_submit(actor=admin, listing=members_only)
    partners_only = services.listing_create(
        actor=admin, organization=org, data=need(title_zh="伙伴可见", visibility="partners")
    )
    services.listing_submit(actor=admin, listing=partners_only)
    public = services.listing_create(actor=admin, organization=org, data=need(title_zh="公开", visibility="public"))
    services.listing_submit(actor=admin, listing=public)
    from django.contrib.auth.models import AnonymousUser

    seen = {item.pk for item in selectors.listing_list(actor=peer)}
    assert seen == {members_only.pk, public.pk}
    assert {item.pk for item in selectors.listing_list(actor=AnonymousUser())} == {public.pk}
    assert {item.pk for item in selectors.listing_list(actor=admin)} == {
        draft.pk,
        members_only.pk,
        partners_only.pk,
        public.pk,
    }
    with pytest.raises(NotFound):
        selectors.listing_get(actor=peer, pk=draft.pk)


def test_the_owner_reads_the_listings_title_in_their_own_language(owner, member_of):
    admin, org = owner
    language_remember(admin, "en")
    listing = services.listing_create(actor=admin, organization=org, data=need(title_en="SiC power device partner"))
    services.listing_submit(actor=admin, listing=listing)
    peer, _ = member_of("peer")
    with translation.override("zh-hans"):  # the member answering works in Chinese
        services.interest_express(actor=peer, listing=listing, data={"cooperation": "joint_rnd", "message": "有实验室"})
    told = Notification.objects.get(user=admin, verb="market.interest_expressed").text
    assert told == "A member answered your listing “SiC power device partner”.", told


def test_interest_accept_reveals_an_anonymous_owner(owner, member_of, django_capture_on_commit_callbacks):
    admin, org = owner
    listing = services.listing_create(actor=admin, organization=org, data=need(anonymous=True))
    services.listing_submit(actor=admin, listing=listing)
    peer, peer_org = member_of("peer")
    assert not selectors.owner_revealed(peer, listing)
    with django_capture_on_commit_callbacks(execute=True):
        interest = services.interest_express(
            actor=peer,
            listing=listing,
            data={"cooperation": "joint_rnd", "message": "我们有 SiC 可靠性实验室", "introduction": "苏州封测企业"},
        )
    assert Notification.objects.filter(user=admin, verb="market.interest_expressed").exists()
    assert len(mail.outbox) == 1
    with pytest.raises(Conflict):
        services.interest_express(actor=peer, listing=listing, data={"cooperation": "supply", "message": "again"})
    with pytest.raises(Forbidden):
        services.interest_accept(actor=peer, interest=interest)
    services.interest_advance(actor=admin, interest=interest, status="contacted")
    assert [i.status for i in selectors.interest_board(actor=admin, listing=listing)] == ["contacted"]
    with pytest.raises(NotFound):
        selectors.interest_board(actor=peer, listing=listing)
    services.interest_accept(actor=admin, interest=interest)
    assert selectors.owner_revealed(peer, listing)
    assert Notification.objects.filter(user=peer, verb="market.interest_accepted").exists()
    with pytest.raises(ValidationFailed):
        services.interest_decline(actor=admin, interest=interest, reason="late")
    # closed once agreed, the listing stays readable to the partner it was agreed with, not to others
    services.listing_close(actor=admin, listing=listing, outcome="fulfilled", note="已签约")
    assert selectors.listing_get(actor=peer, pk=listing.pk).status == "closed"
    stranger, _ = member_of("stranger")
    with pytest.raises(NotFound):
        selectors.listing_get(actor=stranger, pk=listing.pk)
    # a declined answer still lets its sender read what it answered (the notice links there), owner unnamed
    from agglo.market.models import Interest

    Interest.objects.filter(pk=interest.pk).update(status="declined")
    assert selectors.listing_get(actor=peer, pk=listing.pk).status == "closed"
    assert not selectors.owner_revealed(peer, listing)


def test_interest_rules(owner, member_of, english):
    admin, org = owner
    listing = services.listing_create(actor=admin, organization=org, data=need(region_rule="only", regions=["320000"]))
    peer, _ = member_of("peer")  # in Shenzhen, Guangdong
    with pytest.raises(ValidationFailed) as exc:
        services.interest_express(actor=peer, listing=listing, data={"cooperation": "supply", "message": "x"})
    assert exc.value.errors == {"listing": ["This listing no longer takes responses."]}
    services.listing_submit(actor=admin, listing=listing)
    with pytest.raises(ValidationFailed) as exc:
        services.interest_express(actor=peer, listing=listing, data={"cooperation": "supply", "message": "x"})
    assert exc.value.errors == {"organization": ["The listing does not take counterparts from your region."]}
    jiangsu, _ = member_of("suzhou", region="320500", uscc=make_uscc("320500", "MA1CCCCC1"))
    with pytest.raises(ValidationFailed) as exc:
        services.interest_express(actor=jiangsu, listing=listing, data={"cooperation": "barter", "message": ""})
    assert set(exc.value.errors) == {"cooperation", "message"}
    with pytest.raises(ValidationFailed):
        services.interest_express(actor=admin, listing=listing, data={"cooperation": "supply", "message": "self"})
    interest = services.interest_express(
        actor=jiangsu, listing=listing, data={"cooperation": "supply", "message": "可供货"}
    )
    with pytest.raises(ValidationFailed) as exc:
        services.interest_decline(actor=admin, interest=interest, reason=" ")
    assert exc.value.errors == {"reason": ["Give a reason."]}
    services.interest_decline(actor=admin, interest=interest, reason="规格不符")
    assert [i.status for i in selectors.my_interests(actor=jiangsu)] == ["declined"]


def test_decisions_read_the_stored_rows_not_the_callers_copies(owner, member_of, english):
    # Two requests at once each hold a copy read before the other's write (review 53 R4): each service reads
    # the rows again under their locks, so the second decision sees the first.
    from agglo.ledger.models import LogEntry
    from agglo.market.models import Interest, Listing

    admin, org = owner
    listing = services.listing_submit(
        actor=admin, listing=services.listing_create(actor=admin, organization=org, data=need())
    )
    peer, _ = member_of("peer")
    interest = services.interest_express(
        actor=peer, listing=listing, data={"cooperation": "supply", "message": "可供货"}
    )
    first, second = Interest.objects.get(pk=interest.pk), Interest.objects.get(pk=interest.pk)
    services.interest_accept(actor=admin, interest=first)
    with pytest.raises(ValidationFailed) as exc:
        services.interest_accept(actor=admin, interest=second)
    assert exc.value.errors == {"status": ["This response was already decided."]}
    with pytest.raises(ValidationFailed):
        services.interest_decline(actor=admin, interest=Interest.objects.get(pk=interest.pk), reason="晚了")
    assert LogEntry.objects.filter(type="market.interest_accepted").count() == 1
    # an answer sent while the listing closes: refused, not left open on a closed listing
    stale, stale_too = Listing.objects.get(pk=listing.pk), Listing.objects.get(pk=listing.pk)
    services.listing_close(actor=admin, listing=Listing.objects.get(pk=listing.pk), outcome="fulfilled")
    late, _ = member_of("late", uscc=make_uscc("320500", "MA1DDDDD1"))
    with pytest.raises(ValidationFailed) as exc:
        services.interest_express(actor=late, listing=stale, data={"cooperation": "supply", "message": "还来得及吗"})
    assert exc.value.errors == {"listing": ["This listing no longer takes responses."]}
    # and a renewal on a copy from before the close does not publish it again
    with pytest.raises(ValidationFailed):
        services.listing_renew(actor=admin, listing=stale_too)
    assert Listing.objects.get(pk=listing.pk).status == "closed"


def test_a_confirmed_case_partner_sees_partners_only_listings(owner, member_of):
    from agglo.profiles.services import case_create, participant_add, participant_confirm

    admin, org = owner
    peer, peer_org = member_of("peer")
    listing = services.listing_create(actor=admin, organization=org, data=need(visibility="partners"))
    services.listing_submit(actor=admin, listing=listing)
    assert listing.pk not in {item.pk for item in selectors.listing_list(actor=peer)}
    case = case_create(
        actor=admin, organization=org, data={"title": "联合研发", "kind": "joint_rnd", "started_on": "2025-01-01"}
    )
    participant = participant_add(
        actor=admin, case=case, data={"organization": peer_org.pk, "role": "partner", "input_kind": "staff"}
    )
    participant_confirm(actor=peer, participant=participant)
    assert listing.pk in {item.pk for item in selectors.listing_list(actor=peer)}


def test_a_refused_interest_comes_back_on_the_page_as_typed_with_the_reason(owner, member_of, client):
    admin, org = owner
    listing = services.listing_create(actor=admin, organization=org, data=need(region_rule="only", regions=["320000"]))
    services.listing_submit(actor=admin, listing=listing)
    peer, _ = member_of("peer")  # in Shenzhen, Guangdong: the listing takes Jiangsu only
    client.force_login(peer)
    r = client.post(f"/market/{listing.pk}/express/", {"cooperation": "supply", "message": "我们有产线"})
    form = r.content.decode().split('id="interest-form"')[1].split("</form>")[0]
    assert r.status_code == 400 and "我们有产线</textarea>" in form
    assert "机构：" in form and "organization:" not in form  # the reason, named as the reader sees it
