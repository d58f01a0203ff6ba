"""Streamed exports as deployed (review 92): the command leaves its caller's connection open and a good file in
place when it fails; a download read after its view returned holds every row and leaves no cursor behind."""

from __future__ import annotations

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import connection
from django.test.client import RequestFactory

from agglo.access.models import DailyQuota
from agglo.registry.models import Organization
from tests.registry.test_api import bearer


@pytest.mark.django_db
def test_export_data_leaves_the_database_connection_usable(org_admin, tmp_path):
    """`export_data` ends with `response.close()`, which sends `request_finished`, whose receiver
    `close_old_connections` drops a connection not in autocommit: the command closes the caller's connection and
    its open transaction (a test's, or any code calling the command inside `atomic`). SQLite's in-memory test
    database ignores close(), so only PostgreSQL (CI) shows it: this is the existing
    tests/profiles/test_import_damage.py::test_export_data_checks_its_output_before_it_counts_an_export failing
    with "the connection is closed" on PostgreSQL."""
    admin, org = org_admin
    call_command("export_data", "financials", "--as", admin.username, "--own", "-o", str(tmp_path / "own.csv"))
    assert not DailyQuota.objects.exists()  # on PostgreSQL: OperationalError, the connection is closed


@pytest.mark.django_db
def test_a_failed_export_destroys_the_file_it_was_to_replace(org_admin, tmp_path, monkeypatch):
    """The output is opened (truncated) before the first row is read: a failure while reading (the database gone,
    a statement timeout) leaves yesterday's good file cut short, and the error comes as a traceback. Before, the
    body was whole before the file was touched."""
    from agglo.profiles.selectors import exports

    admin, org = org_admin
    out = tmp_path / "daily.csv"
    out.write_bytes(b"yesterday's complete export\n")
    real = exports._facts

    def failing(actor, name, own):
        table = real(actor, name, own)

        def rows():
            yield from []
            raise RuntimeError("server closed the connection unexpectedly")

        table.rows = rows()
        return table

    monkeypatch.setattr(exports, "_facts", failing)
    with pytest.raises(Exception):  # noqa: B017
        call_command("export_data", "financials", "--as", admin.username, "--own", "-o", str(out))
    assert out.read_bytes() == b"yesterday's complete export\n"


def _orgs(n: int) -> None:
    from agglo.registry.models import Region

    region = Region.objects.get(code="440300")
    area = region if region.level != Region.Level.PREFECTURE else region.parent
    Organization.objects.bulk_create(
        Organization(name_zh=f"批量{i}号公司", kind="tech_sme", region=region, area=area, status="member")
        for i in range(n)
    )


def _environ(path: str, query: str, auth: dict) -> dict:
    return RequestFactory()._base_environ(PATH_INFO=path, QUERY_STRING=query, REQUEST_METHOD="GET", **auth)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_download_read_after_the_view_returned_holds_every_row_and_leaves_no_cursor(ref, operator, fmt):
    """As gunicorn serves it: the view returns, the rows are read as the body is sent (outside any transaction,
    by a server-side cursor on PostgreSQL), the client goes away half-way, the server closes the response."""
    _orgs(4_500)  # more than two of the selector's 2,000-row fetches
    auth = bearer(operator)
    handler = WSGIHandler()
    started: list = []
    body = handler(_environ("/api/v1/exports/organizations", f"format={fmt}", auth), lambda s, h: started.append(s))
    assert started == ["200 OK"]
    got = b"".join(body)
    body.close()
    assert got.count("批量".encode()) == 4_500
    # the client goes away after the first chunks
    body = handler(_environ("/api/v1/exports/organizations", f"format={fmt}", auth), lambda s, h: None)
    stream = iter(body)
    next(stream), next(stream)
    body.close()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_cursors")
            assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM registry_organization")
        assert cursor.fetchone()[0] >= 4_500
