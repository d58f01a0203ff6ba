"""Market pages: posting with field errors, browsing, the listing page for owners and others, the board."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from agglo.access.models import Membership
from agglo.market import services
from agglo.market.models import Interest, Listing
from agglo.profiles.models import Case
from tests.conftest import user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_org):
    def member(name, org_name, region="440300"):
        org = make_org(name_zh=org_name, region=region)
        u = user(name)
        Membership.objects.create(user=u, organization=org, role=Membership.Role.ADMIN)
        c = Client()
        c.force_login(u)
        c.cookies["django_language"] = "en"
        return u, org, c

    return {
        "owner": member("owner", "深圳需求方科技有限公司"),
        "other": member("other", "苏州供给方制造有限公司", "320500"),
        "third": member("third", "北京第三方研究院", "110000"),
    }


def post_need(client, **over):
    data = {
        "side": "need",
        "kind": "technology",
        "title_zh": "寻求碳化硅功率器件流片合作",
        "description_zh": "1200V 碳化硅 MOSFET",
        "terms": ["sic-power"],
        "region_rule": "anywhere",
        "visibility": "members",
        "publish": "1",
    }
    data.update(over)
    return client.post("/market/new/", data)


def test_post_shows_each_bad_field_and_saves_nothing(people, english):
    _u, _org, c = people["owner"]
    response = post_need(
        c, title_zh="", kind="service", amount_min="5", amount_max="1", region_rule="only", deadline="2001-01-01"
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Name at least one province or country." in text
    assert text.count('class="errorlist') >= 5  # title, type, amounts, regions, deadline: each beside its field
    assert Listing.objects.count() == 0
    assert post_need(c, terms=["juggling"]).status_code == 400  # not a catalogue term: the form says so
    assert Listing.objects.count() == 0


def test_post_publish_browse_and_answer(people, english):
    owner, org, c = people["owner"]
    response = post_need(c)
    listing = Listing.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/market/{listing.pk}/"
    assert listing.status == "published" and listing.organization == org
    page = c.get(f"/market/{listing.pk}/").content.decode()
    assert '<span class="tag">Silicon carbide power devices</span>' in page  # the catalogue's name, not its code
    assert 'id="board"' in page and "matching/listings" in page and 'id="interest-form"' not in page

    _u2, other_org, c2 = people["other"]
    browse = c2.get("/market/?q=碳化硅&side=need").content.decode()
    assert "寻求碳化硅功率器件流片合作" in browse
    assert "寻求碳化硅功率器件流片合作" not in c2.get("/market/?q=光伏").content.decode()
    detail = c2.get(f"/market/{listing.pk}/").content.decode()
    assert 'id="interest-form"' in detail and 'id="board"' not in detail
    # An answer without a message is refused with the field named; then sent.
    r = c2.post(f"/market/{listing.pk}/express/", {"cooperation": "supply", "message": "", "missing": "还缺流片窗口"})
    assert not Interest.objects.exists()
    form = r.content.decode().split('id="interest-form"')[1].split("</form>")[0]  # back as typed, field named
    assert r.status_code == 400 and "还缺流片窗口</textarea>" in form and 'class="errorlist"' in form
    c2.post(f"/market/{listing.pk}/express/", {"cooperation": "supply", "message": "可提供 6 英寸碳化硅工艺"})
    interest = Interest.objects.get()
    assert interest.organization == other_org
    assert "my-interest" in c2.get(f"/market/{listing.pk}/").content.decode()
    # The owner sees it on the board and in its notifications.
    assert "可提供 6 英寸碳化硅工艺" in c.get(f"/market/{listing.pk}/").content.decode()
    opened = re.search(r'href="(/notifications/\d+/)"', c.get("/notifications/").content.decode())
    assert opened and c.get(opened.group(1))["Location"] == f"/market/{listing.pk}/"
    # Another member cannot move it.
    _u3, _o3, c3 = people["third"]
    assert c3.post(f"/market/interests/{interest.pk}/accept/").status_code == 404
    # Declining needs a reason; accepting opens a case draft with the partner to confirm.
    c.post(f"/market/interests/{interest.pk}/decline/", {"reason": ""})
    interest.refresh_from_db()
    assert interest.status == "new"
    c.post(f"/market/interests/{interest.pk}/contacted/")
    c.post(f"/market/interests/{interest.pk}/accept/")
    interest.refresh_from_db()
    assert interest.status == "accepted"
    response = c.post(f"/market/interests/{interest.pk}/case/")
    case = Case.objects.get()
    # to the case's form, to complete what was drafted from the listing
    assert response.status_code == 302 and case.organization == org
    assert response["Location"] == f"/organizations/{org.pk}/cases/{case.pk}/"
    assert c.get(response["Location"]).status_code == 200
    confirmed = {p.organization_id: p.confirmed_at is not None for p in case.participants.all()}
    assert confirmed == {org.pk: True, other_org.pk: False}  # the partner confirms its own part


def test_hidden_and_foreign_listings(people):
    owner, org, c = people["owner"]
    draft = services.listing_create(
        actor=owner, organization=org, data={"side": "offer", "kind": "technology", "title_zh": "草稿"}
    )
    _u2, _o2, c2 = people["other"]
    assert c2.get(f"/market/{draft.pk}/").status_code == 404
    assert c2.get(f"/market/{draft.pk}/edit/").status_code == 404
    assert c2.post(f"/market/{draft.pk}/submit/").status_code == 404
    assert Client().get(f"/market/{draft.pk}/").status_code == 404
    assert c.get(f"/market/{draft.pk}/edit/").status_code == 200
    assert c.get("/market/mine/").status_code == 200 and "草稿" in c.get("/market/mine/").content.decode()
    assert Client().get("/market/new/").status_code == 302  # to the login page
    assert c2.get(f"/matching/listings/{draft.pk}/panel/").status_code == 404


def test_operators_review_listings_on_pages(people, operator, settings, english):
    settings.AGGLO_MARKET_REVIEW = True
    _u, _org, c = people["owner"]
    post_need(c)
    listing = Listing.objects.get()
    assert listing.status == "review"
    op = Client()
    op.force_login(operator)
    op.cookies["django_language"] = "en"
    assert listing.title in op.get("/market/review/").content.decode()
    assert c.get("/market/review/").status_code == 403
    assert 'id="review-actions"' in op.get(f"/market/{listing.pk}/").content.decode()
    op.post(f"/market/{listing.pk}/send_back/", {"note": ""})  # a note is required to send back
    listing.refresh_from_db()
    assert listing.status == "review"
    op.post(f"/market/{listing.pk}/send_back/", {"note": "请补充英文标题"})
    listing.refresh_from_db()
    assert listing.status == "draft" and listing.review_note == "请补充英文标题"
    c.post(f"/market/{listing.pk}/submit/")
    op.post(f"/market/{listing.pk}/approve/")
    listing.refresh_from_db()
    assert listing.status == "published"


def test_the_history_names_a_listings_fields_and_choices_as_the_forms_do(people, english):
    owner, org, c = people["owner"]
    post_need(c)
    c.cookies["django_language"] = "en"
    history = c.get(f"/organizations/{org.pk}/tab/history/").content.decode()
    row = history.split('id="history"')[1]
    # the listing's side and kind by their labels, not their codes or the model's field names
    assert "Need" in row and ">need<" not in row and "side:" not in row
    assert "title_zh" not in row and "region_rule" not in row


def test_only_those_who_may_post_are_offered_the_button(people, english):
    owner, org, c = people["owner"]
    plain = user("plain-member")
    Membership.objects.create(user=plain, organization=org, role=Membership.Role.MEMBER)
    assert 'href="/market/new/"' in c.get("/market/").content.decode()
    c = Client()
    c.force_login(plain)  # a member who is no admin reads the market and its own organization's listings
    browse = c.get("/market/").content.decode()
    assert 'href="/market/new/"' not in browse and 'href="/market/mine/"' in browse
    assert 'href="/market/new/"' not in c.get("/market/mine/").content.decode()
    assert c.get("/market/new/").status_code == 403


def test_the_responses_page_apart_and_an_answer_comes_back_to_its_page(people, english, monkeypatch):
    """Review 49 a11y F7: a popular listing showed every response, with its forms, on one page."""
    from agglo.market import views

    monkeypatch.setattr(views, "BOARD_PAGE", 1)
    _owner, _org, c = people["owner"]
    post_need(c)
    listing = Listing.objects.get()
    for name in ("other", "third"):
        _u, _o, client = people[name]
        client.post(f"/market/{listing.pk}/express/", {"cooperation": "supply", "message": f"来自 {name}"})
    shown = []
    for number in (1, 2):
        page = c.get(f"/market/{listing.pk}/?responses={number}").content.decode()
        board = page.split('id="board"')[1].split("</table>")[0]
        shown += [i.pk for i in Interest.objects.all() if f'id="interest-{i.pk}"' in board]
        assert f'name="responses" value="{number}"' in board
        assert 'id="board-pages"' in page and f"Page {number} of 2" in page
    assert sorted(shown) == sorted(Interest.objects.values_list("pk", flat=True))
    second = shown[1]
    r = c.post(f"/market/interests/{second}/contacted/", {"responses": "2"})
    assert r.status_code == 302 and r["Location"] == f"/market/{listing.pk}/?responses=2#interest-{second}"
