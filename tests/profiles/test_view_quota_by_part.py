"""Every read of another member's profile data counts against the reader's daily limit of profile views, whichever
part it asks for: the fact lists, one fact, indicators, history and cases (review 28, F3). An organization counts
once a day, whichever and however many of its parts are read (crawl review 41, F2). One's own are free."""

from __future__ import annotations

import pytest
from django.test import override_settings

from agglo.access.models import DailyQuota
from agglo.profiles import services
from agglo.profiles.models import IPAsset

pytestmark = pytest.mark.django_db

# positions and relations are parts of the profile too (recheck 42, R3)
PARTS = ("ip", "capabilities", "ratings", "financials", "indicators", "history", "cases", "positions", "relations")


@pytest.mark.parametrize("part", PARTS)
def test_each_part_of_another_members_profile_counts(client, member_of, make_org, part):
    viewer, _ = member_of("reader")
    target = make_org()
    client.force_login(viewer)
    others = [make_org(), make_org()]
    with override_settings(AGGLO_DAILY_LIMITS={"profile_view": 2, "export": 20}):
        again = [client.get(f"/api/v1/organizations/{target.pk}/{part}").status_code for _ in range(3)]
        answers = [client.get(f"/api/v1/organizations/{o.pk}/{part}").status_code for o in others]
    # a part the owner keeps from this reader is refused (403) but still counts, as it did before
    assert 429 not in again and len(set(again)) == 1 and answers[0] == again[0] and answers[1] == 429
    assert DailyQuota.objects.get(user=viewer, kind="profile_view").count == 2  # what was served


def test_one_fact_and_one_case_count_and_ones_own_are_free(client, member_of, org_admin, make_org):
    admin, org = org_admin
    ip = {"kind": "invention_patent", "number": "ZL201710601862.3", "title": "一种芯片封装方法", "status": "pending"}
    services.fact_create(actor=admin, organization=org, kind="ip", data=ip)
    case = services.case_create(
        actor=admin, organization=org, data={"title": "联合研发", "kind": "joint_rnd", "started_on": "2024-01-01"}
    )
    fact = IPAsset.objects.get(organization=org)
    client.force_login(admin)
    with override_settings(AGGLO_DAILY_LIMITS={"profile_view": 1, "export": 20}):
        for _ in range(3):  # the owner reads its own as often as it likes
            assert client.get(f"/api/v1/ip/{fact.pk}").status_code == 200
            assert client.get(f"/api/v1/cases/{case.pk}").status_code == 200
            assert client.get(f"/api/v1/organizations/{org.pk}/history").status_code == 200
        assert not DailyQuota.objects.filter(user=admin).exists()
        peer, _ = member_of("peer")
        client.force_login(peer)
        assert client.get(f"/api/v1/ip/{fact.pk}").status_code == 200
        assert client.get(f"/api/v1/cases/{case.pk}").status_code == 200  # the same organization, counted once
        assert client.get(f"/api/v1/organizations/{make_org().pk}/history").status_code == 429
