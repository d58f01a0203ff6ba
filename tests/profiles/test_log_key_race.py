"""On PostgreSQL: two partners confirm a case at once, before it has a log key: both entries are sealed under the
one key the case keeps (each request used to make its own, and the second overwrote the first)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection, connections, transaction

from agglo.access.models import Membership
from agglo.ledger.entries import sealed
from agglo.ledger.models import LogEntry
from agglo.profiles.models import Case, CaseParticipant
from agglo.profiles.services import cases
from tests.conftest import user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_two_confirmations_at_once_seal_their_entries_under_the_one_key_the_case_keeps(org_admin, make_org):
    lead_admin, lead = org_admin
    case = cases.case_create(
        actor=lead_admin,
        organization=lead,
        data={"title": "联合研发", "kind": "joint_rnd", "started_on": "2025-01-01"},
    )
    admins = []
    for n in range(2):
        org = make_org()
        admin = user(f"r24-partner{n}")
        Membership.objects.create(user=admin, organization=org, role=Membership.Role.ADMIN)
        cases.participant_add(
            actor=lead_admin, case=case, data={"organization": org.pk, "role": "partner", "input_kind": "cash"}
        )
        admins.append((admin, CaseParticipant.objects.get(case=case, organization=org)))
    first_done, second_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                admin, p = admins[0]
                cases.participant_confirm(actor=admin, participant=CaseParticipant.objects.get(pk=p.pk))
                first_done.set()
                second_started.wait(10)
                time.sleep(0.5)  # the second has read the case (no key yet) and waits on its row
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_done.wait(10)
            with transaction.atomic():
                admin, p = admins[1]
                second_started.set()
                cases.participant_confirm(actor=admin, participant=CaseParticipant.objects.get(pk=p.pk))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    key = Case.objects.get(pk=case.pk).text_key
    entries = [json.loads(bytes(e.data)) for e in LogEntry.objects.filter(type="profiles.case_participation_confirmed")]
    checkable = [e["payload"]["case"] == sealed(f"case:{case.pk}", key) for e in entries]
    assert checkable == [True, True], checkable
