"""A click is a ranking signal only on a result the matching showed the member's organization, and only when
posted: a link followed from elsewhere, or a GET of the old click address, records nothing (review 28, F6)."""

from __future__ import annotations

import pytest
from django.test import Client

from agglo.matching.models import MatchEvent
from tests.matching.test_matching import cluster, market_  # noqa: F401  (fixtures)

# Documents are refreshed after commit, as in production: each test commits for real.
pytestmark = pytest.mark.django_db(transaction=True)


def _shown(client: Client, need) -> list[dict]:
    body = client.get(f"/api/v1/matching/listings/{need.pk}/matches?target=offers&limit=5").json()
    assert body
    return body


def test_a_get_of_the_click_address_goes_to_the_result_and_records_nothing(cluster, market_):  # noqa: F811
    offers, need = market_
    admin, _ = cluster["seeker"]
    client = Client()
    client.force_login(admin)
    _shown(client, need)
    r = client.get("/matching/open/", {"q": need.pk, "item": offers["fab"].pk, "rank": 2})
    assert r.status_code == 302 and r["Location"] == f"/market/{offers['fab'].pk}/"
    assert not MatchEvent.objects.filter(kind="click").exists()
    # the page's own report is a POST (with the CSRF token a page holds)
    r = client.post("/matching/open/", {"q": need.pk, "item": offers["fab"].pk, "rank": 2})
    assert r.status_code == 204
    click = MatchEvent.objects.get(kind="click")
    assert (click.item_key, click.query_key, click.rank) == (offers["fab"].pk, need.pk, 2)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin)
    assert strict.post("/matching/open/", {"q": need.pk, "item": offers["fab"].pk}).status_code == 403


def test_only_results_shown_to_the_organization_count(cluster, market_):  # noqa: F811
    offers, need = market_
    admin, _ = cluster["seeker"]
    client = Client()
    client.force_login(admin)
    # nothing shown yet: a click on a real listing, and on one that does not exist, are refused and not kept
    for item in (offers["fab"].pk, 999_999):
        r = client.post("/api/v1/matching/clicks", {"item": item, "query": need.pk}, content_type="application/json")
        assert r.status_code == 422 and "item" in r.json()["errors"]
    assert client.post("/matching/open/", {"q": need.pk, "item": offers["fab"].pk}).status_code == 204
    assert not MatchEvent.objects.filter(kind="click").exists()
    shown = _shown(client, need)
    item = shown[0]["key"] if "key" in shown[0] else shown[0]["listing"]["id"]
    r = client.post("/api/v1/matching/clicks", {"item": item, "query": need.pk}, content_type="application/json")
    assert r.status_code == 204
    # shown for this query, not for another
    r = client.post("/api/v1/matching/clicks", {"item": item, "query": need.pk + 1}, content_type="application/json")
    assert r.status_code == 422
    assert MatchEvent.objects.filter(kind="click").count() == 1


def test_a_posted_click_with_bad_numbers_is_refused_and_keeps_nothing(cluster, market_):  # noqa: F811
    _, need = market_
    admin, _ = cluster["seeker"]
    client = Client()
    client.force_login(admin)
    _shown(client, need)
    for sent in ({"item": "abc"}, {"item": "1", "q": "x"}, {"item": str(2**40)}, {}):
        assert client.post("/matching/open/", sent).status_code == 404, sent
    assert not MatchEvent.objects.filter(kind="click").exists()
