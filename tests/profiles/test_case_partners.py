"""A partner named in a case hears of it and finds it on its own cases tab, where it confirms its part."""

from __future__ import annotations

import pytest

from agglo.common.models import Notification
from agglo.profiles import services
from tests.profiles.test_api_and_pages import login

pytestmark = pytest.mark.django_db


def test_a_partner_added_by_hand_is_told_and_confirms_from_its_own_page(org_admin, member_of):
    admin, org = org_admin
    peer, peer_org = member_of("named-peer")
    case = services.case_create(
        actor=admin, organization=org, data={"title": "共建测试平台", "kind": "alliance", "started_on": "2025-03-01"}
    )
    services.participant_add(
        actor=admin, case=case, data={"organization": peer_org.pk, "role": "partner", "input_kind": "equipment"}
    )
    told = Notification.objects.get(user=peer, verb="profiles.participant_added")
    assert told.link == f"/organizations/{peer_org.pk}/tab/cases/"
    c = login(peer)
    own = c.get(told.link).content.decode()
    assert f'id="case-{case.pk}"' in own and 'name="participant"' in own  # waiting for its confirmation
    participant = case.participants.get(organization=peer_org)
    c.post(f"/organizations/{peer_org.pk}/cases/{case.pk}/confirm/", {"participant": participant.pk})
    participant.refresh_from_db()
    assert participant.confirmed_at is not None
    # an outsider's view of the partner's tab lists only what the partner confirmed, as before
    stranger, _org = member_of("case-onlooker")
    assert f'id="case-{case.pk}"' in login(stranger).get(f"/organizations/{peer_org.pk}/tab/cases/").content.decode()
