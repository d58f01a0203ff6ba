"""The capacity calendar as a file: downloaded, edited, imported back (page, API, CLI); every bad row reported,
nothing half-written, and nobody sets another member's weeks."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook

from agglo.common.models import AuditEvent
from agglo.factory.models import Capability, CapacitySlot
from agglo.factory.services.capacity import reserve
from agglo.factory.weeks import monday
from tests.factory.conftest import cluster, signed_in  # noqa: F401 - a fixture
from tests.registry.test_api import bearer

pytestmark = pytest.mark.django_db

THIS_WEEK = monday(timezone.localdate())


def _browser(who: Any) -> Client:
    c = signed_in(who)
    c.cookies["django_language"] = "en"
    return c


def _week(n: int) -> dt.date:
    return THIS_WEEK + dt.timedelta(weeks=n)


def _csv(
    rows: list[dict[str, Any]], columns: tuple[str, ...] = ("organization_id", "process", "week", "capacity")
) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _upload(c: Client, body: bytes, *, dry_run: bool, name: str = "calendar.csv") -> Any:
    data = {"file": SimpleUploadedFile(name, body)}
    if dry_run:
        data["dry_run"] = "on"
    return c.post("/factory/capacity/file/", data)


def _slot(cap: Capability, week: dt.date) -> CapacitySlot | None:
    return CapacitySlot.objects.filter(capability=cap, week=week).first()


def test_a_downloaded_calendar_imports_back_unchanged_and_an_edit_sets_its_weeks(cluster, english) -> None:  # noqa: F811
    sz, people = cluster["orgs"]["sz"], cluster["people"]
    c = _browser(people["sz"])
    got = c.get("/factory/capacity/file.csv")
    assert got.status_code == 200 and got["Content-Disposition"].startswith('attachment; filename="capacity-')
    rows = _rows(got.content)
    assert {r["process"] for r in rows} == {"cnc", "assembly"} and {r["organization_id"] for r in rows} == {str(sz.pk)}
    assert rows[0]["week"] == THIS_WEEK.isoformat() and rows[0]["capacity"] in ("300", "400")
    assert c.get("/factory/capacity/").content.decode().count("/factory/capacity/file.xlsx?from=") == 1
    # the same file back: nothing changes, nothing is pinned by hand
    same = _upload(c, got.content, dry_run=False)
    assert (
        same.status_code == 200 and f"{len(rows)} rows: 0 changed a week, {len(rows)} did not" in same.content.decode()
    )
    assert not CapacitySlot.objects.filter(by_hand=True).exists()
    # two weeks edited: a dry run tells, writes nothing; the real run sets them as the calendar's form would
    cnc = Capability.objects.get(organization=sz, process="cnc")
    for r in rows:
        if r["process"] == "cnc" and r["week"] in (_week(1).isoformat(), _week(2).isoformat()):
            r["capacity"] = "120" if r["week"] == _week(1).isoformat() else "450"
    edited = _csv(rows, tuple(rows[0]))
    checked = _upload(c, edited, dry_run=True)
    assert "2 would change a week" in checked.content.decode() and _slot(cnc, _week(1)) is None
    done = _upload(c, edited, dry_run=False)
    assert done.status_code == 200 and "2 changed a week" in done.content.decode()
    assert (_slot(cnc, _week(1)).capacity, _slot(cnc, _week(2)).capacity) == (120, 450)
    assert _slot(cnc, _week(1)).by_hand
    events = AuditEvent.objects.filter(event="factory.capacity_set", subject_id=str(cnc.pk))
    assert events.count() == 2 and all(e.payload["file"] == "calendar.csv" for e in events)


def test_every_bad_row_is_named_and_nothing_is_written(cluster, english) -> None:  # noqa: F811
    orgs, people = cluster["orgs"], cluster["people"]
    sz, su = orgs["sz"].pk, orgs["su"].pk
    cnc = Capability.objects.get(organization_id=sz, process="cnc")
    reserve(cnc, _week(3), 200)
    rows = [
        {"organization_id": sz, "process": "cnc", "week": _week(1).isoformat(), "capacity": 100},  # good
        {"organization_id": su, "process": "cnc", "week": _week(1).isoformat(), "capacity": 10},  # not theirs
        {"organization_id": sz, "process": "surface", "week": _week(1).isoformat(), "capacity": 10},  # undeclared
        {"organization_id": sz, "process": "welding", "week": _week(1).isoformat(), "capacity": 10},
        {"organization_id": sz, "process": "cnc", "week": "next monday", "capacity": 10},
        {
            "organization_id": sz,
            "process": "cnc",
            "week": (THIS_WEEK - dt.timedelta(days=1)).isoformat(),
            "capacity": 1,
        },
        {"organization_id": sz, "process": "cnc", "week": _week(2).isoformat(), "capacity": "12.5"},
        {"organization_id": sz, "process": "cnc", "week": _week(3).isoformat(), "capacity": 150},  # below reserved
        {"organization_id": sz, "process": "cnc", "week": (_week(1) + dt.timedelta(days=2)).isoformat(), "capacity": 9},
        {"organization_id": "", "process": "cnc", "week": _week(4).isoformat(), "capacity": 10},
        {"organization_id": str(2**70), "process": "cnc", "week": _week(4).isoformat(), "capacity": 10},
    ]
    r = _upload(_browser(people["sz"]), _csv(rows), dry_run=False)
    assert r.status_code == 400
    page = r.content.decode()
    assert "10 problems — nothing was written" in page
    for said in (
        f"You do not administer organization {su}.",
        f"Organization {sz} has not declared this process",
        "Not a process code of the catalogue",
        "Must be a date written year first, such as 2026-12-31 or 2026/12/31.",
        "Must lie between the current week",
        "Must be a whole number.",
        "Must not be below the 200",
        "Row 2 sets this week of this process already.",
        "This field is required.",
        f"You do not administer organization {2**70}.",
    ):
        assert said in page, said
    assert not CapacitySlot.objects.filter(by_hand=True).exists()


def test_the_columns_are_checked_before_the_rows(cluster, english) -> None:  # noqa: F811
    body = _csv(
        [{"organization_id": 1, "process": "cnc", "capacity": 5, "weeek": "2026-12-14"}],
        ("organization_id", "process", "capacity", "weeek"),
    )
    r = _upload(_browser(cluster["people"]["sz"]), body, dry_run=True)
    page = r.content.decode()
    assert r.status_code == 400 and "Not a column of the calendar file" in page and "must have this column" in page
    assert _upload(_browser(cluster["people"]["sz"]), b"", dry_run=True).status_code == 400


def test_an_xlsx_file_with_date_cells_is_read(cluster, english) -> None:  # noqa: F811
    sz = cluster["orgs"]["sz"]
    book = Workbook()
    sheet = book.active
    sheet.append(["organization_id", "process", "week", "capacity"])
    sheet.append([sz.pk, "assembly", dt.datetime.combine(_week(2) + dt.timedelta(days=4), dt.time()), 55])
    out = io.BytesIO()
    book.save(out)
    r = _upload(_browser(cluster["people"]["sz"]), out.getvalue(), dry_run=False, name="weeks.xlsx")
    assert r.status_code == 200, r.content.decode()[-2000:]
    assert _slot(Capability.objects.get(organization=sz, process="assembly"), _week(2)).capacity == 55


def test_only_a_factorys_admin_or_an_operator_imports_and_each_downloads_their_own(cluster, english) -> None:  # noqa: F811
    orgs, people = cluster["orgs"], cluster["people"]
    row = {"organization_id": orgs["su"].pk, "process": "surface", "week": _week(1).isoformat(), "capacity": 77}
    # the buyer administers a firm with no capability: it may import, but not another's weeks
    r = _upload(_browser(people["buyer"]), _csv([row]), dry_run=False)
    assert r.status_code == 400 and f"You do not administer organization {orgs['su'].pk}." in r.content.decode()
    assert orgs["su"].pk not in {
        int(x["organization_id"]) for x in _rows(_browser(people["sz"]).get("/factory/capacity/file.csv").content)
    }
    assert _rows(_browser(people["buyer"]).get("/factory/capacity/file.csv").content) == []
    # an operator may set any member's weeks
    r = _upload(_browser(cluster["operator"]), _csv([row]), dry_run=False)
    assert r.status_code == 200
    assert _slot(Capability.objects.get(organization=orgs["su"], process="surface"), _week(1)).capacity == 77
    assert _browser(people["sz"]).get("/factory/capacity/file.pdf").status_code == 404


def test_the_api_downloads_and_imports_the_same_file(cluster, english) -> None:  # noqa: F811
    sz, people = cluster["orgs"]["sz"], cluster["people"]
    c, auth = Client(), bearer(people["sz"])
    got = c.get("/api/v1/factory/capacity/file?format=csv", **auth)
    assert got.status_code == 200 and got["Content-Type"].startswith("text/csv")
    xlsx = c.get(f"/api/v1/factory/capacity/file?format=xlsx&from={_week(5).isoformat()}", **auth)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert c.get("/api/v1/factory/capacity/file?format=pdf", **auth).status_code == 422
    assert c.get("/api/v1/factory/capacity/file?from=soon", **auth).status_code == 422
    rows = _rows(got.content)
    rows[0]["capacity"] = "-5"
    bad = c.post(
        "/api/v1/factory/capacity/file", {"file": SimpleUploadedFile("c.csv", _csv(rows, tuple(rows[0])))}, **auth
    )
    assert bad.status_code == 422 and bad.json()["errors"][0] | {"message": ""} == {
        "row": 2,
        "column": "capacity",
        "rule": "out_of_range",
        "message": "",
    }
    rows[0]["capacity"] = "5"
    good = c.post(
        "/api/v1/factory/capacity/file?dry_run=false",
        {"file": SimpleUploadedFile("c.csv", _csv(rows, tuple(rows[0])))},
        **auth,
    )
    assert good.status_code == 200 and good.json()["applied"] and good.json()["changed"] == 1
    cap = Capability.objects.get(organization=sz, process=rows[0]["process"])
    assert _slot(cap, dt.date.fromisoformat(rows[0]["week"])).capacity == 5


def test_the_command_exports_and_imports(cluster, tmp_path, english) -> None:  # noqa: F811
    sz = cluster["orgs"]["sz"]
    path = tmp_path / "calendar.csv"
    call_command("capacity_file", "export", "--as", "sz-admin", "-o", str(path))
    rows = _rows(path.read_bytes())
    rows[1]["capacity"] = "42"
    path.write_bytes(_csv(rows, tuple(rows[0])))
    out = io.StringIO()
    call_command("capacity_file", "import", str(path), "--as", "sz-admin", "--dry-run", stdout=out)
    assert "checked, nothing written" in out.getvalue() and not CapacitySlot.objects.filter(by_hand=True).exists()
    call_command("capacity_file", "import", str(path), "--as", "sz-admin", stdout=io.StringIO())
    cap = Capability.objects.get(organization=sz, process=rows[1]["process"])
    assert _slot(cap, dt.date.fromisoformat(rows[1]["week"])).capacity == 42
    with pytest.raises(CommandError, match="--from: Must be a date"):
        call_command("capacity_file", "export", "--as", "sz-admin", "--from", "soon")
    # weeks past the calendar's pages are refused, as the API refuses them, not silently moved (data review 58 L5)
    with pytest.raises(CommandError, match="--from: A page of weeks starts between"):
        call_command("capacity_file", "export", "--as", "sz-admin", "--from", "2099-01-05")
    admin = Client()
    admin.force_login(cluster["people"]["sz"])
    assert admin.get("/factory/capacity/file.csv?from=2099-01-05").status_code == 404
    assert admin.get("/factory/capacity/file.csv").status_code == 200
    with pytest.raises(CommandError, match="no active user"):
        call_command("capacity_file", "export", "--as", "nobody")
    # an output that cannot be written is said in words, before any work (data review 58 M3)
    with pytest.raises(CommandError, match="is a folder"):
        call_command("capacity_file", "export", "--as", "sz-admin", "-o", str(tmp_path))
    with pytest.raises(CommandError, match="no folder"):
        call_command("capacity_file", "export", "--as", "sz-admin", "-o", str(tmp_path / "missing" / "c.csv"))
    rows[1]["capacity"] = "many"
    path.write_bytes(_csv(rows, tuple(rows[0])))
    with pytest.raises(CommandError, match="1 problem; nothing was written"):
        call_command("capacity_file", "import", str(path), "--as", "sz-admin", stdout=io.StringIO())


def test_a_csv_saved_again_by_a_spreadsheet_reads_as_it_was_written(cluster, english) -> None:  # noqa: F811
    """Recheck 46 F2: Excel and WPS write dates back as 2026/12/7 (or with a time) and numbers as 12.0."""
    sz = cluster["orgs"]["sz"]
    cnc = Capability.objects.get(organization=sz, process="cnc")
    w1, w2, w3 = _week(1), _week(2), _week(3)
    rows = [
        {"organization_id": sz.pk, "process": "cnc", "week": f"{w1.year}/{w1.month}/{w1.day}", "capacity": "101"},
        {"organization_id": sz.pk, "process": "cnc", "week": f"{w2.isoformat()} 00:00:00", "capacity": "102.0"},
        {"organization_id": sz.pk, "process": "cnc", "week": f"{w3.isoformat()}T00:00", "capacity": "103"},
    ]
    r = _upload(_browser(cluster["people"]["sz"]), _csv(rows), dry_run=False)
    assert r.status_code == 200, r.content.decode()[-1500:]
    assert [_slot(cnc, w).capacity for w in (w1, w2, w3)] == [101, 102, 103]
    # day first or month first reads either way: refused, saying how to write it
    ambiguous = [{**rows[0], "week": f"{w1.day:02d}/{w1.month:02d}/{w1.year}"}]
    said = _upload(_browser(cluster["people"]["sz"]), _csv(ambiguous), dry_run=True).content.decode()
    assert "Must be a date written year first" in said


def test_an_export_taken_last_week_imports_back_unchanged(cluster, english) -> None:  # noqa: F811
    """Recheck 46 F7: a past week's row refused the whole file, though it changed nothing."""
    sz = cluster["orgs"]["sz"]
    past = (THIS_WEEK - dt.timedelta(weeks=1)).isoformat()
    same = {"organization_id": sz.pk, "process": "cnc", "week": past, "capacity": 300}
    r = _upload(_browser(cluster["people"]["sz"]), _csv([same]), dry_run=False)
    assert r.status_code == 200 and "1 row: 0 changed a week, 1 did not." in r.content.decode()
    changed = _upload(_browser(cluster["people"]["sz"]), _csv([{**same, "capacity": 10}]), dry_run=False)
    assert changed.status_code == 400 and "Must lie between the current week" in changed.content.decode()


def test_a_file_lowering_several_weeks_tells_each_buyer_once(cluster) -> None:  # noqa: F811
    """Recheck 46 F3: one notice (and e-mail) per lowered week."""
    from agglo.common.models import Notification
    from agglo.factory.models import Allocation
    from agglo.factory.services import orders
    from tests.factory.conftest import order_data

    buyer = cluster["people"]["buyer"]
    order = orders.order_plan(
        actor=buyer, order=orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk))
    )
    offered = list(order.allocations.filter(status=Allocation.Status.OFFERED).select_related("capability"))
    cap = offered[0].capability
    weeks = sorted({a.week for a in offered if a.capability_id == cap.pk})
    rows = [
        {"organization_id": cap.organization_id, "process": cap.process_id, "week": w, "capacity": 0} for w in weeks
    ]
    admin = cluster["people"][next(k for k, o in cluster["orgs"].items() if o.pk == cap.organization_id)]
    before = Notification.objects.filter(user=buyer).count()
    r = _upload(_browser(admin), _csv(rows), dry_run=False)
    assert r.status_code == 200, r.content.decode()[-1500:]
    told = Notification.objects.filter(user=buyer).order_by("-pk")[
        : Notification.objects.filter(user=buyer).count() - before
    ]
    assert len(told) == 1 and all(w.isoformat() in told[0].text for w in weeks)


def test_a_file_of_bad_rows_answers_with_the_first_thousand(cluster, english) -> None:  # noqa: F811
    """Recheck 46 F4: every error of a large bad file came back, an answer many times the file's size."""
    rows = [{"organization_id": "x", "process": "y", "week": "z", "capacity": "w"}] * 2000
    c, auth = Client(), bearer(cluster["people"]["sz"])
    r = c.post(
        "/api/v1/factory/capacity/file?dry_run=true", {"file": SimpleUploadedFile("bad.csv", _csv(rows))}, **auth
    )
    body = r.json()
    assert r.status_code == 200 and len(body["errors"]) == 1000 and body["errors_total"] == 8000
    page = _upload(_browser(cluster["people"]["sz"]), _csv(rows), dry_run=True).content.decode()
    assert "8000 problems" in page and "The first 500 are listed" in page


def test_dry_run_as_a_form_field_is_a_dry_run(cluster, english) -> None:  # noqa: F811
    """Recheck 46 F1: `curl -F dry_run=true` was ignored and the file was written."""
    sz = cluster["orgs"]["sz"]
    row = {"organization_id": sz.pk, "process": "cnc", "week": _week(1).isoformat(), "capacity": 7}
    c, auth = Client(), bearer(cluster["people"]["sz"])
    r = c.post(
        "/api/v1/factory/capacity/file", {"file": SimpleUploadedFile("c.csv", _csv([row])), "dry_run": "true"}, **auth
    )
    assert r.status_code == 200 and r.json()["dry_run"] and not r.json()["applied"]
    assert not CapacitySlot.objects.filter(by_hand=True).exists()
    bad = c.post(
        "/api/v1/factory/capacity/file", {"file": SimpleUploadedFile("c.csv", _csv([row])), "dry_run": "maybe"}, **auth
    )
    assert bad.status_code == 422 and "dry_run" in bad.json()["errors"]
