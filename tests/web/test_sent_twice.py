"""A change sent twice acts once (`common.idempotency`): a page's form sent again exactly as drawn gets the first
send's redirect; an API request sent again under its Idempotency-Key gets the first answer. Failures are not kept,
each user's sends are their own, and what is kept is dropped after a day."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone

from agglo.access import policy
from agglo.access.models import ApiToken, Membership
from agglo.common import idempotency
from agglo.common.models import SentRequest
from agglo.factory.models import Order
from agglo.market.models import Listing
from agglo.registry.models import Organization
from agglo.web.management.commands import housekeeping
from tests.factory.conftest import cluster  # noqa: F401 - a fixture
from tests.factory.test_pages import form_post
from tests.factory.test_races import together
from tests.market.test_api import two_firms  # noqa: F401 - a fixture
from tests.registry.test_api import bearer, problem

pytestmark = pytest.mark.django_db

NEW_ORDER = "/factory/orders/new/"


def browser(user: Any) -> Client:
    """A client that, like a browser, must send the CSRF token the page drew."""
    c = Client(enforce_csrf_checks=True)
    c.force_login(user)
    c.cookies["django_language"] = "en"
    return c


def drawn(c: Client, path: str) -> str:
    """The masked CSRF token of the form on the page, as a browser would send it back."""
    page = c.get(path).content.decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, page[:500]
    return found[1]


def test_an_order_form_sent_twice_makes_one_order(cluster: dict[str, Any]) -> None:  # noqa: F811
    c = browser(cluster["people"]["buyer"])
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, draft="1", csrfmiddlewaretoken=drawn(c, NEW_ORDER))
    first = c.post(NEW_ORDER, data)
    assert first.status_code == 302 and Order.objects.count() == 1
    again = c.post(NEW_ORDER, data)  # a double click, or a reload that resends the form
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert Order.objects.count() == 1
    assert "This form had already been sent; it was acted on once." in c.get(again["Location"]).content.decode()
    # the same form drawn again is a new request, asked about first (below)
    data["csrfmiddlewaretoken"] = drawn(c, NEW_ORDER)
    assert c.post(NEW_ORDER, data).status_code == 409 and Order.objects.count() == 1


def test_a_form_with_errors_keeps_nothing_and_may_be_sent_again_fixed(cluster: dict[str, Any]) -> None:  # noqa: F811
    c = browser(cluster["people"]["buyer"])
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, draft="1", csrfmiddlewaretoken=drawn(c, NEW_ORDER))
    data["quantity"] = "-3"
    assert c.post(NEW_ORDER, data).status_code == 400
    assert c.post(NEW_ORDER, data).status_code == 400  # the same mistake, refused again, not "already sent"
    assert not SentRequest.objects.exists() and not Order.objects.exists()
    data["quantity"] = "500"
    assert c.post(NEW_ORDER, data).status_code == 302 and Order.objects.count() == 1


def _claimed_by_a_first_send(user: Any, data: dict[str, str], *, minutes_ago: float = 0) -> SentRequest:
    """The claim the first of two sends of `data` holds while it runs (as another worker's request would)."""
    request = RequestFactory().post(NEW_ORDER, data)
    print_ = idempotency.fingerprint(request)
    row = idempotency.claim(user, idempotency.scoped("page", print_), print_).row
    SentRequest.objects.filter(pk=row.pk).update(started_at=timezone.now() - dt.timedelta(minutes=minutes_ago))
    return row


def test_a_second_send_waits_for_the_first_then_gets_its_answer(cluster: dict[str, Any], settings, english) -> None:  # noqa: F811
    settings.AGGLO_RESEND_WAIT_S = 0.3
    buyer = cluster["people"]["buyer"]
    c = browser(buyer)
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, draft="1", csrfmiddlewaretoken=drawn(c, NEW_ORDER))
    row = _claimed_by_a_first_send(buyer, data)
    waited = c.post(NEW_ORDER, data)  # the first is still running past the wait: asked to wait, nothing done
    assert waited.status_code == 409 and "still being processed" in waited.content.decode()
    assert not Order.objects.exists()
    idempotency.settle(
        row, status=302, location="/factory/orders/77/", standing=policy.standing(buyer)
    )  # the first finishes
    assert c.post(NEW_ORDER, data)["Location"] == "/factory/orders/77/"
    assert not Order.objects.exists()


def test_a_send_abandoned_by_a_dead_worker_is_taken_over(cluster: dict[str, Any], settings) -> None:  # noqa: F811
    settings.AGGLO_RESEND_WAIT_S = 0
    buyer = cluster["people"]["buyer"]
    c = browser(buyer)
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, draft="1", csrfmiddlewaretoken=drawn(c, NEW_ORDER))
    _claimed_by_a_first_send(buyer, data, minutes_ago=settings.AGGLO_RESEND_STALE_S / 60 - 1)
    assert c.post(NEW_ORDER, data).status_code == 409 and not Order.objects.exists()  # still running, perhaps
    SentRequest.objects.update(started_at=timezone.now() - dt.timedelta(seconds=settings.AGGLO_RESEND_STALE_S + 1))
    assert c.post(NEW_ORDER, data).status_code == 302 and Order.objects.count() == 1


def test_one_users_send_is_never_anothers_answer(cluster: dict[str, Any], settings) -> None:  # noqa: F811
    settings.AGGLO_RESEND_WAIT_S = 0
    buyer, factory = cluster["people"]["buyer"], cluster["people"]["sz"]
    c = browser(buyer)
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, draft="1", csrfmiddlewaretoken=drawn(c, NEW_ORDER))
    row = _claimed_by_a_first_send(factory, data)  # the same body, claimed under another user
    idempotency.settle(row, status=302, location="/factory/orders/999/", standing=policy.standing(factory))
    r = c.post(NEW_ORDER, data)
    assert r.status_code == 302 and r["Location"] != "/factory/orders/999/" and Order.objects.count() == 1


def _listing(title: str = "寻找 SMT 贴片代工产能") -> dict[str, Any]:
    return {"side": "need", "kind": "capacity", "title_zh": title, "segments": ["ic-packaging"]}


def test_an_api_retry_under_its_key_gets_the_first_answer(two_firms, english) -> None:  # noqa: F811
    owner, owner_org, _other, _ = two_firms
    c, auth = Client(), {**bearer(owner), "HTTP_ACCEPT_LANGUAGE": "en"}
    path = f"/api/v1/organizations/{owner_org.pk}/listings"
    key = {"HTTP_IDEMPOTENCY_KEY": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'}
    first = c.post(path, _listing(), content_type="application/json", **auth, **key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    again = c.post(path, _listing(), content_type="application/json", **auth, **key)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and Listing.objects.count() == 1
    # the bare token is the same key
    bare = {"HTTP_IDEMPOTENCY_KEY": "8e03978e-40d5-43e8-bc93-6894a57f9324"}
    assert c.post(path, _listing(), content_type="application/json", **auth, **bare).json() == first.json()
    # without a key, or under a new one, each request acts
    assert c.post(path, _listing(), content_type="application/json", **auth).status_code == 201
    fresh = {"HTTP_IDEMPOTENCY_KEY": "another"}
    assert c.post(path, _listing(), content_type="application/json", **auth, **fresh).status_code == 201
    assert Listing.objects.count() == 3


def test_a_retry_after_the_senders_access_changed_gets_no_answer(two_firms, english) -> None:  # noqa: F811
    """A kept answer is not given to a sender whose rights were cut since: it may hold what they may no longer see,
    and running the request again could act twice."""
    owner, owner_org, _other, _ = two_firms
    c, auth = Client(), {**bearer(owner), "HTTP_ACCEPT_LANGUAGE": "en"}
    path = f"/api/v1/organizations/{owner_org.pk}/listings"
    key = {"HTTP_IDEMPOTENCY_KEY": "after-the-change"}
    assert c.post(path, _listing(), content_type="application/json", **auth, **key).status_code == 201
    Membership.objects.filter(user=owner).update(role="member")
    body = problem(c.post(path, _listing(), content_type="application/json", **auth, **key), 409)
    assert body["type"] == "urn:agglo:problem:idempotency_access_changed" and "not given again" in body["detail"]
    assert Listing.objects.count() == 1
    # an answer kept before rights were noted is given again, as before the upgrade
    SentRequest.objects.update(standing="")
    legacy = c.post(path, _listing(), content_type="application/json", **auth, **key)
    assert legacy.status_code == 201 and legacy["Idempotent-Replayed"] == "true"
    # the rights restored, the first answer is given again
    Membership.objects.filter(user=owner).update(role="admin")
    again = c.post(path, _listing(), content_type="application/json", **auth, **key)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true" and Listing.objects.count() == 1


def test_a_request_that_changed_its_senders_own_access_is_replayed(two_firms, english) -> None:  # noqa: F811
    owner, owner_org, _other, _ = two_firms
    c, auth = Client(), {**bearer(owner), "HTTP_ACCEPT_LANGUAGE": "en", "HTTP_IDEMPOTENCY_KEY": "leave"}
    path = f"/api/v1/organizations/{owner_org.pk}/status"
    first = c.post(path, {"status": "withdrawn"}, content_type="application/json", **auth)
    assert first.status_code == 200 and first.json()["status"] == "withdrawn"
    again = c.post(path, {"status": "withdrawn"}, content_type="application/json", **auth)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"


def test_a_form_resent_after_the_senders_access_changed_is_not_replayed(cluster: dict[str, Any], english) -> None:  # noqa: F811
    buyer = cluster["people"]["buyer"]
    c = browser(buyer)
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, draft="1", csrfmiddlewaretoken=drawn(c, NEW_ORDER))
    assert c.post(NEW_ORDER, data).status_code == 302
    Organization.objects.filter(pk=cluster["orgs"]["buyer"].pk).update(status="suspended")
    again = c.post(NEW_ORDER, data)
    assert again.status_code == 409 and "Your access changed after this form was first sent" in again.content.decode()
    assert Order.objects.count() == 1


def test_a_key_names_one_request(two_firms, english) -> None:  # noqa: F811
    owner, owner_org, _other, _ = two_firms
    c, auth = Client(), {**bearer(owner), "HTTP_ACCEPT_LANGUAGE": "en"}
    path = f"/api/v1/organizations/{owner_org.pk}/listings"
    key = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
    listing_id = c.post(path, _listing(), content_type="application/json", **auth, **key).json()["id"]
    other_body = problem(c.post(path, _listing("寻找注塑产能"), content_type="application/json", **auth, **key), 422)
    assert list(other_body["errors"]) == ["Idempotency-Key"]
    assert other_body["title"] == "This Idempotency-Key was used for another request."
    other_path = c.patch(
        f"/api/v1/listings/{listing_id}", {"title_zh": "改"}, content_type="application/json", **auth, **key
    )
    problem(other_path, 422)
    assert Listing.objects.count() == 1 and Listing.objects.get().title_zh == "寻找 SMT 贴片代工产能"


def test_a_failed_request_keeps_nothing_so_the_fixed_one_may_use_its_key(two_firms, english) -> None:  # noqa: F811
    owner, owner_org, _other, _ = two_firms
    c, auth = Client(), {**bearer(owner), "HTTP_ACCEPT_LANGUAGE": "en"}
    path = f"/api/v1/organizations/{owner_org.pk}/listings"
    key = {"HTTP_IDEMPOTENCY_KEY": "k-2"}
    problem(c.post(path, _listing(""), content_type="application/json", **auth, **key), 422)
    assert not SentRequest.objects.exists()
    assert c.post(path, _listing(), content_type="application/json", **auth, **key).status_code == 201


def test_a_bad_or_busy_key_is_refused(two_firms, english) -> None:  # noqa: F811
    owner, owner_org, other, _ = two_firms
    c, auth = Client(), {**bearer(owner), "HTTP_ACCEPT_LANGUAGE": "en"}
    path = f"/api/v1/organizations/{owner_org.pk}/listings"
    for bad in ("", '""', "x" * 256, "naïve", "tab\there"):
        body = problem(c.post(path, _listing(), content_type="application/json", HTTP_IDEMPOTENCY_KEY=bad, **auth), 400)
        assert list(body["errors"]) == ["Idempotency-Key"], bad
    request = RequestFactory().post(path, _listing(), content_type="application/json")
    idempotency.claim(owner, idempotency.scoped("api", "k-3"), idempotency.fingerprint(request))
    answer = c.post(path, _listing(), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-3", **auth)
    busy = problem(answer, 409)
    assert busy["type"] == "urn:agglo:problem:idempotency_key_busy" and answer["Retry-After"] == "1"
    assert not Listing.objects.exists()
    # the same key is another user's own: not busy for them, and no one sees the other's answer
    theirs = bearer(other)
    other_org_path = f"/api/v1/organizations/{two_firms[3].pk}/listings"
    assert (
        c.post(
            other_org_path, _listing(), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-3", **theirs
        ).status_code
        == 201
    )


def test_kept_answers_are_dropped_after_a_day(two_firms) -> None:  # noqa: F811
    owner, owner_org, _other, _ = two_firms
    c, auth = Client(), {**bearer(owner), "HTTP_ACCEPT_LANGUAGE": "en"}
    path = f"/api/v1/organizations/{owner_org.pk}/listings"
    c.post(path, _listing(), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-4", **auth)
    assert ("expire_sent_requests",) in dict(housekeeping.JOBS)
    call_command("expire_sent_requests")
    assert SentRequest.objects.count() == 1  # still fresh
    SentRequest.objects.update(started_at=timezone.now() - idempotency.KEEP - dt.timedelta(minutes=1))
    call_command("expire_sent_requests")
    assert not SentRequest.objects.exists()
    again = c.post(path, _listing(), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-4", **auth)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again and Listing.objects.count() == 2


def test_the_schema_offers_the_header_on_every_change() -> None:
    from agglo.api import api

    paths = api.get_openapi_schema()["paths"]
    for methods in paths.values():
        for method, operation in methods.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            assert ("Idempotency-Key" in names) == (method in ("post", "patch")), (method, operation["operationId"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="requests at the same moment need PostgreSQL")
@pytest.mark.parametrize("attempt", range(3))
def test_the_same_send_twice_at_the_same_moment_acts_once(two_firms, cluster, attempt: int) -> None:  # noqa: F811
    """Two workers get the same request at once, on a real PostgreSQL server: the database's unique claim lets one
    act; the page's second send waits for its answer, the API's second is told to wait (or replayed)."""
    owner, owner_org, _other, _ = two_firms
    path = f"/api/v1/organizations/{owner_org.pk}/listings"
    auth = bearer(owner)
    answers: list[Any] = []

    def api() -> None:
        answers.append(
            Client().post(path, _listing(), content_type="application/json", HTTP_IDEMPOTENCY_KEY="same", **auth)
        )

    together(api, api)
    assert sorted(a.status_code for a in answers) in ([201, 201], [201, 409])
    assert Listing.objects.count() == 1

    buyer = cluster["people"]["buyer"]
    tabs = [browser(buyer), browser(buyer)]  # the same browser's two requests: its cookie, the same form
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, draft="1", csrfmiddlewaretoken=drawn(tabs[0], NEW_ORDER))
    tabs[1].cookies["csrftoken"] = tabs[0].cookies["csrftoken"].value
    pages: list[Any] = []
    together(*[lambda tab=tab: pages.append(tab.post(NEW_ORDER, data)) for tab in tabs])
    assert [p.status_code for p in pages] == [302, 302] and pages[0]["Location"] == pages[1]["Location"]
    assert Order.objects.count() == 1


def test_a_token_issued_under_a_key_is_neither_kept_nor_given_twice(two_firms, english) -> None:  # noqa: F811
    """Review 38: the answer held the clear token, kept in the table for a day and replayed."""
    owner, *_ = two_firms
    c, auth = Client(), {**bearer(owner), "HTTP_ACCEPT_LANGUAGE": "en"}
    first = c.post("/api/v1/tokens", {"name": "erp"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="t", **auth)
    assert first.status_code == 201 and first.json()["token"].startswith("agg_")
    again = problem(
        c.post("/api/v1/tokens", {"name": "erp"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="t", **auth),
        409,
    )
    assert again["type"] == "urn:agglo:problem:idempotency_key_done" and "token" not in again
    assert ApiToken.objects.filter(name="erp").count() == 1
    row = SentRequest.objects.get()
    assert row.done and row.withheld and bytes(row.body) == b"" and row.status == 201


def test_a_node_token_form_sent_twice_issues_one_token_and_says_so(org_admin, english) -> None:
    from agglo.access import nodes
    from tests.access.test_matrix import _public_key

    admin, org = org_admin
    node = nodes.node_register(actor=admin, organization_id=org.pk, name="erp", public_key=_public_key()).node
    c = browser(admin)
    data = {"name": "t", "scope": "read", "days": "30", "csrfmiddlewaretoken": drawn(c, "/account/nodes/")}
    first = c.post(f"/account/nodes/{node.pk}/token/", data)
    assert first.status_code == 302 and "it is not shown again" in c.get(first["Location"]).content.decode()
    again = c.post(f"/account/nodes/{node.pk}/token/", data)  # its answer lost: the same form once more
    page = c.get(again["Location"]).content.decode()
    assert again["Location"] == "/"  # no address kept; without a Referer, home
    assert node.tokens.count() == 1 and "acted on once" in page and "shown only once" in page
    assert "Copy the token now" not in page
    assert not any("agg_" in text for row in SentRequest.objects.all() for _level, text in row.notes)


def test_a_refusal_a_page_answers_with_a_redirect_is_not_kept(org_admin, english) -> None:
    """Review 38: many pages refuse with an error message and a redirect; the same form sent again was told
    "acted on once" although nothing was done."""
    admin, org = org_admin
    c = browser(admin)
    data = {"pos-segment": "no-such-segment", "pos-role": "serves"}
    data["csrfmiddlewaretoken"] = drawn(c, f"/organizations/{org.pk}/edit/")
    for _send in range(2):
        r = c.post(f"/organizations/{org.pk}/positions/", data)
        page = c.get(r["Location"]).content.decode()
        assert "not one of the available choices" in page and "acted on once" not in page
    assert not SentRequest.objects.exists() and not org.positions.exists()


def test_a_replay_passes_the_csrf_check_first(cluster: dict[str, Any]) -> None:  # noqa: F811
    c = browser(cluster["people"]["buyer"])
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, draft="1", csrfmiddlewaretoken=drawn(c, NEW_ORDER))
    assert c.post(NEW_ORDER, data).status_code == 302
    c.cookies.pop("csrftoken")
    assert c.post(NEW_ORDER, data).status_code == 403  # refused as the site refuses it, not answered from the claim


@pytest.mark.django_db(transaction=True)  # the user's key is checked at commit, as in a request
def test_a_claim_for_a_user_deleted_meanwhile_gives_up() -> None:
    """Review 38: the insert failed for a user no longer there, and the claim retried for ever."""
    from tests.conftest import user

    gone = user("gone")
    type(gone).objects.filter(pk=gone.pk).delete()
    assert idempotency.claim(gone, "k" * 64, "f" * 64) == idempotency.Claim("new", None)


def test_a_body_counts_by_its_bytes(two_firms, english) -> None:  # noqa: F811
    """Review 38: a JSON body labelled as a form was fingerprinted by its decoded pairs: `%41` and `A` matched."""
    owner, *_ = two_firms
    c, auth, form = Client(), bearer(owner), "application/x-www-form-urlencoded"
    c.post("/api/v1/tokens", b'{"name": "%41"}', content_type=form, HTTP_IDEMPOTENCY_KEY="fp", **auth)
    other = c.post("/api/v1/tokens", b'{"name": "A"}', content_type=form, HTTP_IDEMPOTENCY_KEY="fp", **auth)
    assert other.status_code == 422 and other.json()["type"] == "urn:agglo:problem:idempotency_key_reused"


def test_an_answer_not_kept_whole_is_not_kept(make_org) -> None:
    from tests.conftest import user

    who = user("long")
    row = idempotency.claim(who, "k" * 64, "f" * 64).row
    idempotency.settle(row, status=302, location="/x/" + "a" * idempotency.LOCATION_MAX, standing="")
    assert not SentRequest.objects.exists()  # released: sent again, it acts again rather than replay a cut address


def test_null_in_an_order_change_leaves_each_term_as_it_is(cluster: dict[str, Any]) -> None:  # noqa: F811
    """Review 38: `max_suppliers: null` was refused although published, and `late_penalty: null` set it to 0."""
    from tests.factory.conftest import signed_in
    from tests.factory.test_plan_flow import planned

    order = planned(cluster, budget="900000")
    before = (order.budget, order.max_share, order.max_suppliers, order.late_penalty)
    buyer = signed_in(cluster["people"]["buyer"])
    for field in ("budget", "max_share", "max_suppliers", "late_penalty"):
        r = buyer.patch(f"/api/v1/factory/orders/{order.pk}", {field: None}, content_type="application/json")
        assert r.status_code == 200, (field, r.content)
        order.refresh_from_db()
        assert (order.budget, order.max_share, order.max_suppliers, order.late_penalty) == before, field
    r = buyer.patch(f"/api/v1/factory/orders/{order.pk}", {"budget": ""}, content_type="application/json")
    order.refresh_from_db()
    assert r.status_code == 200 and order.budget is None  # "" empties it


def test_an_order_saved_but_not_planned_is_not_saved_again(cluster: dict[str, Any]) -> None:  # noqa: F811
    """Browser review 39: "saved, but no plan fits" was a warning, read as a refusal, so the same form sent again
    made a second order."""
    c = browser(cluster["people"]["buyer"])
    huge = {f"op-{n}-quantity": "9000000" for n in (1, 2, 3)}
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, quantity="9000000", **huge)
    data["csrfmiddlewaretoken"] = drawn(c, NEW_ORDER)
    first = c.post(NEW_ORDER, data)
    assert first.status_code == 302 and Order.objects.get().status == "infeasible"
    again = c.post(NEW_ORDER, data)
    assert again["Location"] == first["Location"] and Order.objects.count() == 1


def test_a_replay_shows_what_the_first_send_said(cluster: dict[str, Any]) -> None:  # noqa: F811
    """Browser review 39: the first answer's messages may never have reached the browser; the replay shows them."""
    c = browser(cluster["people"]["buyer"])
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, draft="1", csrfmiddlewaretoken=drawn(c, NEW_ORDER))
    c.post(NEW_ORDER, data)
    c.cookies.pop("messages", None)  # the first answer, and the message it set, were lost
    page = c.get(c.post(NEW_ORDER, data)["Location"]).content.decode()
    assert "Order saved as a draft" in page and "acted on once" in page


def test_a_replay_does_not_repeat_what_the_browser_still_holds(cluster: dict[str, Any]) -> None:  # noqa: F811
    """Re-check 40: when the first answer's messages did reach the browser, the replay adds only its own word."""
    c = browser(cluster["people"]["buyer"])
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, draft="1", csrfmiddlewaretoken=drawn(c, NEW_ORDER))
    c.post(NEW_ORDER, data)  # its answer set the messages cookie, which the client keeps
    page = c.get(c.post(NEW_ORDER, data)["Location"]).content.decode()
    assert page.count("Order saved as a draft") == 1 and "acted on once" in page


def test_a_logged_in_applicants_tracking_address_is_not_kept(make_org, english) -> None:
    """Browser review 39: the status page's address (the tracking token) was kept for a day."""
    from agglo.registry.models import Admission
    from tests.conftest import PDF, make_uscc, user

    who = user("applicant")
    c = browser(who)
    data = {
        "name_zh": "成都蓉芯半导体有限公司",
        "kind": "tech_sme",
        "region": "510100",
        "uscc": make_uscc("510100", "MA6CCCC01"),
        "contact_name": "李强",
        "contact_email": "li@rx.example",
        "password": "Rongxin-pass-2026",
        "password_again": "Rongxin-pass-2026",
        "csrfmiddlewaretoken": drawn(c, "/apply/"),
    }
    from django.core.files.uploadedfile import SimpleUploadedFile

    first = c.post("/apply/", {**data, "documents": SimpleUploadedFile("licence.pdf", PDF, "application/pdf")})
    assert first.status_code == 302, first.content.decode()[:2000]
    token = Admission.objects.get().tracking_token
    assert token in first["Location"]
    row = SentRequest.objects.get()
    assert row.withheld and token not in row.location and not row.notes
    again = c.post(
        "/apply/",
        {**data, "documents": SimpleUploadedFile("licence.pdf", PDF, "application/pdf")},
        HTTP_REFERER="http://testserver/apply/",
    )
    assert again["Location"] == "http://testserver/apply/" and Admission.objects.count() == 1


def test_the_same_order_from_a_form_drawn_again_is_asked_about_first(cluster: dict[str, Any], english) -> None:  # noqa: F811
    """Going back to a sent form may draw it again with the fields refilled: a new drawing, but the same order. A
    page that creates something asks before it makes a second one."""
    c = browser(cluster["people"]["buyer"])
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, draft="1", csrfmiddlewaretoken=drawn(c, NEW_ORDER))
    first = c.post(NEW_ORDER, data)
    data["csrfmiddlewaretoken"] = drawn(c, NEW_ORDER)  # back: the form drawn again, the browser refills it
    asked = c.post(NEW_ORDER, data)
    page = asked.content.decode()
    assert asked.status_code == 409 and "You sent this same form, with the same content" in page
    assert f'href="{first["Location"]}"' in page and Order.objects.count() == 1
    # "send it again", from the question's own form: every field as sent, a new token, and the answer
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    assert fields.pop("resend") == "1" and fields.pop("csrfmiddlewaretoken")
    assert fields == {k: str(v) for k, v in data.items() if k != "csrfmiddlewaretoken"}
    again = c.post(NEW_ORDER, {**data, "resend": "1", "csrfmiddlewaretoken": drawn(c, NEW_ORDER)})
    assert again.status_code == 302 and again["Location"] != first["Location"] and Order.objects.count() == 2
    # other content is not asked about
    other = {**data, "product": "另一个产品", "csrfmiddlewaretoken": drawn(c, NEW_ORDER)}
    assert c.post(NEW_ORDER, other).status_code == 302 and Order.objects.count() == 3
    # nor is the same content long after
    SentRequest.objects.update(started_at=timezone.now() - idempotency.REPEAT_WINDOW - dt.timedelta(minutes=1))
    data["csrfmiddlewaretoken"] = drawn(c, NEW_ORDER)
    assert c.post(NEW_ORDER, data).status_code == 302 and Order.objects.count() == 4


def test_a_refilled_form_sent_while_the_first_runs_is_asked_about_too(cluster: dict[str, Any], settings) -> None:  # noqa: F811
    """Recheck 40: the content was kept only once the first send finished, so a refilled form sent while it ran
    (planning takes seconds) made a second order; and "save as draft", then "save and plan", was not asked about."""
    from agglo.web.resent_forms import BUTTONS, RESEND, TOKEN

    settings.AGGLO_RESEND_WAIT_S = 0.3
    buyer = cluster["people"]["buyer"]
    c = browser(buyer)
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, draft="1")
    first = idempotency.claim(buyer, "f" * 64, "f" * 64).row  # another worker's first send, still running
    content = idempotency.content_print(RequestFactory().post(NEW_ORDER, data), (TOKEN, RESEND, *BUTTONS))
    idempotency.content_claimed(first, content)
    refilled = {k: v for k, v in data.items() if k != "draft"}  # and "save and plan" pressed this time
    waited = c.post(NEW_ORDER, {**refilled, "csrfmiddlewaretoken": drawn(c, NEW_ORDER)})
    assert waited.status_code == 409 and "still being processed" in waited.content.decode()
    assert not Order.objects.exists()
    idempotency.settle(first, status=302, location="/factory/orders/77/", standing=policy.standing(buyer))
    asked = c.post(NEW_ORDER, {**refilled, "csrfmiddlewaretoken": drawn(c, NEW_ORDER)})
    assert asked.status_code == 409 and 'href="/factory/orders/77/"' in asked.content.decode()
    assert not Order.objects.exists()


def test_the_browsers_icon_request_leaves_the_messages_for_the_next_page(cluster: dict[str, Any]) -> None:  # noqa: F811
    """A browser's own error page (the answer lost) asks for /favicon.ico; a 404 page there showed, and used up,
    the messages a replay left for the next page (CI run 81)."""
    c = browser(cluster["people"]["buyer"])
    data = form_post(buyer=cluster["orgs"]["buyer"].pk, draft="1", csrfmiddlewaretoken=drawn(c, NEW_ORDER))
    sent = c.post(NEW_ORDER, data)
    icon = c.get("/favicon.ico")
    assert icon.status_code == 301 and icon["Location"].endswith(".svg")
    assert "Order saved as a draft" in c.get(sent["Location"]).content.decode()
