"""A case on the public log: who took part, with what, and how they rated each other go in sealed under the case's
key, since a case may be private and a short input is easy to guess from a plain digest. The key is shown to the
case's lead and participants only."""

from __future__ import annotations

import pytest

from agglo.ledger import entries
from agglo.ledger.models import LogEntry
from agglo.profiles import services
from tests.profiles.test_api_and_pages import login

pytestmark = pytest.mark.django_db


def test_a_private_cases_entries_are_sealed_and_its_key_is_the_participants(org_admin, member_of):
    admin, org = org_admin
    peer, peer_org = member_of("case-peer")
    stranger, _stranger_org = member_of("case-stranger")
    case = services.case_create(
        actor=admin,
        organization=org,
        data={"title": "保密中试合作", "kind": "joint_rnd", "started_on": "2025-03-01", "visibility": "private"},
    )
    participant = services.participant_add(
        actor=admin,
        case=case,
        data={"organization": peer_org.pk, "role": "partner", "input_kind": "cash", "input_amount": "1000000"},
    )
    services.participant_confirm(actor=peer, participant=participant)
    services.case_rate(actor=peer, case=case, data={"rated": org.pk, "score": 5})
    case.refresh_from_db()
    key = case.text_key
    assert len(key) == 32
    confirmed = entries.decode(bytes(LogEntry.objects.get(type="profiles.case_participation_confirmed").data))
    assert confirmed["actor"] == entries.sealed_ref("party", f"org:{peer_org.pk}", key)
    assert confirmed["subject"] == entries.sealed_ref("profiles.case", f"profiles.case:{case.pk}", key)
    facts = {"case": case.pk, "lead": org.pk, "organization": peer_org.pk, "role": "partner"}
    assert {k: confirmed["payload"][k] for k in facts} == entries.sealed_facts(facts, key)
    assert confirmed["payload"]["input"].startswith("hmac-sha256:")  # no plain digest of the input to guess at
    rated = entries.decode(bytes(LogEntry.objects.get(type="profiles.case_rated").data))
    score = {"case": case.pk, "rater": peer_org.pk, "rated": org.pk, "score": 5}
    assert rated["payload"] == entries.sealed_facts(score, key)
    # the lead and the partner read the key on the API and the cases tab; nobody else does
    for who, owner in ((admin, org), (peer, peer_org)):
        c = login(who)
        assert c.get(f"/api/v1/cases/{case.pk}").json()["text_key"] == key
        assert key in c.get(f"/organizations/{owner.pk}/tab/cases/").content.decode()
    c = login(stranger)
    assert c.get(f"/api/v1/cases/{case.pk}").status_code == 404  # private: not even the case
    services.case_update(actor=admin, case=case, data={"visibility": "public"})
    assert c.get(f"/api/v1/cases/{case.pk}").json()["text_key"] == ""
    assert key not in c.get(f"/organizations/{org.pk}/tab/cases/").content.decode()


def partner_of_a_case(org_admin, member_of):
    """(the lead's admin, the partner's admin, the partner's participation, not yet confirmed)."""
    admin, org = org_admin
    peer, peer_org = member_of("case-peer")
    case = services.case_create(
        actor=admin, organization=org, data={"title": "中试合作", "kind": "joint_rnd", "started_on": "2025-03-01"}
    )
    participant = services.participant_add(
        actor=admin,
        case=case,
        data={"organization": peer_org.pk, "role": "partner", "input_kind": "staff", "input_note": "两名工程师"},
    )
    return admin, peer, participant


def test_a_confirmation_and_a_change_of_input_read_the_stored_participant(org_admin, member_of):
    # Sent at once, each request holds a copy read before the other's write (review 53 R5).
    from agglo.profiles.models import CaseParticipant

    admin, peer, participant = partner_of_a_case(org_admin, member_of)
    first, second = (CaseParticipant.objects.get(pk=participant.pk) for _ in range(2))
    services.participant_confirm(actor=peer, participant=first)
    services.participant_confirm(actor=peer, participant=second)  # twice: one confirmation on the log
    assert LogEntry.objects.filter(type="profiles.case_participation_confirmed").count() == 1
    # the lead changes the input on a copy from before the confirmation: the confirmation is reopened
    lead_copy = CaseParticipant.objects.get(pk=participant.pk)
    lead_copy.confirmed_at = None  # as read before the partner confirmed
    services.participant_update_input(actor=admin, participant=lead_copy, data={"input_note": "十名工程师和实验室"})
    stored = CaseParticipant.objects.get(pk=participant.pk)
    assert stored.input_note == "十名工程师和实验室" and stored.confirmed_at is None


def test_a_confirmation_names_the_input_it_read(org_admin, member_of, english):
    # recheck 54: a confirmation sent from a page showing the old input confirmed the lead's new one
    from agglo.common.errors import Conflict
    from agglo.profiles.models import CaseParticipant

    admin, peer, participant = partner_of_a_case(org_admin, member_of)
    read = participant.input_seen
    services.participant_update_input(actor=admin, participant=participant, data={"input_note": "十名工程师"})
    with pytest.raises(Conflict):
        services.participant_confirm(actor=peer, participant=participant, seen=read)
    assert CaseParticipant.objects.get(pk=participant.pk).confirmed_at is None
    fresh = CaseParticipant.objects.get(pk=participant.pk)
    services.participant_confirm(actor=peer, participant=fresh, seen=fresh.input_seen)
    assert CaseParticipant.objects.get(pk=participant.pk).confirmed_at is not None
