"""Traffic control: token buckets per address, user, token and node (429 + Retry-After), and daily
anti-harvesting limits with an alert to operators."""

from __future__ import annotations

import pytest
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from agglo.access import ratelimit
from agglo.access.bucket import Limit, take
from agglo.access.models import DailyQuota, RateBucket
from agglo.access.tokens import api_token_create
from agglo.common.models import Notification
from tests.conftest import user


@given(st.floats(0.1, 100), st.integers(1, 50), st.lists(st.floats(0, 5), min_size=1, max_size=60))
def test_a_bucket_never_allows_more_than_burst_plus_refill(rate, burst, gaps):
    limit = Limit(rate=rate, burst=burst)
    tokens = updated = None
    now, allowed = 0.0, 0
    for gap in gaps:
        now += gap
        decision = take(limit, tokens, updated, now)
        tokens, updated = decision.tokens, now
        allowed += decision.allowed
        assert 0 <= decision.tokens <= burst
        assert decision.allowed or decision.retry_after > 0
    assert allowed <= burst + rate * now + 1e-6


@pytest.mark.django_db
@override_settings(AGGLO_RATE_LIMITS={"ip": [60, 3], "user": [60, 1000], "token": [60, 2], "node": [60, 100]})
def test_over_the_limit_gets_429_with_retry_after(client):
    for _ in range(3):
        assert client.get("/api/v1/ledger/witnesses").status_code == 200
    r = client.get("/api/v1/ledger/witnesses")
    assert r.status_code == 429 and int(r["Retry-After"]) >= 1
    assert r["Content-Type"] == "application/problem+json" and r.json()["type"].endswith(":rate_limited")
    assert client.get("/login/").status_code == 429  # pages too, from the same address
    assert RateBucket.objects.filter(key="ip:127.0.0.1").exists()
    other = client.get("/login/", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


@pytest.mark.django_db
@override_settings(AGGLO_RATE_LIMITS={"ip": [6000, 1000], "user": [6000, 1000], "token": [60, 2], "node": [60, 100]})
def test_tokens_have_their_own_bucket(client):
    u = user("machine")
    _, clear = api_token_create(actor=u, user=u, name="ci")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {clear}"}
    assert [client.get("/api/v1/whoami", **auth).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/v1/whoami").status_code == 200  # anonymous, other bucket


def test_memory_backend_matches_the_database_rules():
    buckets = ratelimit.MemoryBuckets()
    limit = Limit(rate=1, burst=2)
    assert [buckets.take("k", limit, 100.0).allowed for _ in range(3)] == [True, True, False]
    assert buckets.take("k", limit, 101.0).allowed


@pytest.mark.django_db
@override_settings(AGGLO_DAILY_LIMITS={"profile_view": 2, "export": 1})
def test_daily_profile_view_limit_alerts_operators_once(client, member_of, make_org, operator):
    viewer, own = member_of("harvester")
    targets = [make_org() for _ in range(4)]
    client.force_login(viewer)
    client.cookies["django_language"] = "en"
    assert client.get(f"/organizations/{own.pk}/").status_code == 200  # one's own profile is free
    assert [client.get(f"/organizations/{t.pk}/").status_code for t in targets[:2]] == [200, 200]
    r = client.get(f"/organizations/{targets[2].pk}/")
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    assert client.get(f"/api/v1/organizations/{targets[3].pk}").status_code == 429
    assert DailyQuota.objects.get(user=viewer, kind="profile_view").count == 4
    alerts = Notification.objects.filter(user=operator, verb="access.daily_limit_exceeded")
    assert alerts.count() == 1 and "harvester" in alerts.get().text
    client.force_login(operator)
    assert client.get(f"/organizations/{targets[3].pk}/").status_code == 200  # operators are not counted


@pytest.mark.django_db
@override_settings(AGGLO_DAILY_LIMITS={"profile_view": 100, "export": 1})
def test_daily_export_limit(client, member_of):
    viewer, _ = member_of("exporter")
    client.force_login(viewer)
    assert client.get("/api/v1/exports/organizations?format=csv").status_code == 200
    assert client.get("/api/v1/exports/organizations?format=csv").status_code == 429
