"""Statement marks under concurrency, on PostgreSQL (row locks). The interleaving is forced with events."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from agglo.profiles import services
from agglo.profiles.models import FinancialStatement, StatementEvidence
from tests.conftest import upload
from tests.profiles.conftest import statement

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_marking_audited_while_the_last_file_is_removed_leaves_no_mark_without_a_file(org_admin):
    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    (evidence,) = services.evidence_add(actor=admin, statement=fact, files=[upload("audit.pdf")])
    removed, verifying = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def remove() -> None:
        try:
            with transaction.atomic():
                services.evidence_remove(actor=admin, evidence=StatementEvidence.objects.get(pk=evidence.pk))
                removed.set()
                verifying.wait(10)
                time.sleep(0.5)  # the other request has checked for files and now waits on the row
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    def verify() -> None:
        try:
            removed.wait(10)
            verifying.set()
            services.fact_verify(actor=admin, fact=FinancialStatement.objects.get(pk=fact.pk), source="audited")
        except BaseException as exc:  # noqa: BLE001 - refusing ("attach the report first") is the right outcome
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=remove), threading.Thread(target=verify)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    fact.refresh_from_db()
    files = StatementEvidence.objects.filter(statement=fact).count()
    assert not (fact.source == "audited" and files == 0), (fact.source, files, errors)
