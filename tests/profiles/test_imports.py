"""Bulk import and export: every bad row reported, all or nothing, idempotent, restricted to what one may see."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from agglo.access.models import AccessLogEntry
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.models import AuditEvent
from agglo.profiles import selectors, services
from agglo.profiles.models import FinancialStatement, ImportRun, IPAsset, OrganizationCapability
from agglo.profiles.tabular import read_table, write_csv, write_xlsx
from agglo.registry.models import Organization
from tests.conftest import make_uscc, streamed

pytestmark = pytest.mark.django_db

HEADER = ("uscc", "year", "revenue", "total_assets", "total_liabilities", "equity", "rd_expense", "headcount")


def rows(code, years=(2022, 2023, 2024)):
    return [(code, y, 10_000_000 + y, 20_000_000, 8_000_000, 12_000_000, 900_000, 60) for y in years]


def test_dry_run_reports_every_bad_row_and_writes_nothing(org_admin, english):
    admin, org = org_admin
    body = write_csv(
        HEADER,
        [
            *rows(org.uscc, (2023,)),
            (org.uscc, 2024, -5, 20_000_000, 8_000_000, 12_000_000, "", ""),  # negative revenue
            (org.uscc, 2022, 1, 20_000_000, 8_000_000, 1, "", ""),  # assets != liabilities + equity
            (org.uscc, "twenty", 1, 1, 0, 1, "", ""),  # not a year
            (make_uscc("440300", "MA9YYYYY9"), 2024, 1, 1, 0, 1, "", ""),  # not the importer's organization
            *rows(org.uscc, (2023,)),  # same key as row 2
            (org.uscc[:17] + ("0" if org.uscc[17] != "0" else "1"), 2021, 1, 1, 0, 1, "", ""),  # a typo in the code
            ("", 2021, 1, 1, 0, 1, "", ""),  # no code
        ],
    )
    result = services.import_file(actor=admin, kind="financials", body=body, filename="f.csv", dry_run=True)
    found = [(e.row, e.column, e.rule) for e in result.errors]
    assert found == [
        (3, "revenue", "min"),
        (4, "total_assets", "balance"),
        (5, "year", "not_an_integer"),
        (6, "uscc", "not_yours"),
        (7, "year", "duplicate_in_file"),
        (8, "uscc", "check_digit"),  # the code's own flaw, not "not yours"
        (9, "uscc", "uscc_missing"),
    ]
    assert result.errors[5].message.startswith("The check character does not match the number: expected ")
    assert result.errors[0].message == "Must be at least 0."
    assert not result.applied and not FinancialStatement.objects.exists() and not ImportRun.objects.exists()
    # The same file for real: refused whole, nothing written, the refusal recorded.
    result = services.import_file(actor=admin, kind="financials", body=body, filename="f.csv", dry_run=False)
    assert not result.applied and len(result.errors) == 7
    assert not FinancialStatement.objects.exists() and not AuditEvent.objects.filter(group="financials").exists()
    assert ImportRun.objects.get().status == "refused"


def test_real_import_is_idempotent_and_recorded_in_history(org_admin):
    admin, org = org_admin
    body = write_csv(HEADER, rows(org.uscc))
    first = services.import_file(actor=admin, kind="financials", body=body, filename="f.csv", dry_run=False)
    assert (first.applied, first.created, first.updated, first.unchanged) == (True, 3, 0, 0)
    assert FinancialStatement.objects.filter(organization=org).count() == 3
    assert FinancialStatement.objects.first().source == "self_declared"  # the owner's own file
    assert AuditEvent.objects.filter(event="profiles.financials_imported", organization_id=org.pk).count() == 3
    again = services.import_file(actor=admin, kind="financials", body=body, filename="f.csv", dry_run=False)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert AuditEvent.objects.filter(event="profiles.financials_imported").count() == 3
    changed = write_csv(HEADER, [(*rows(org.uscc, (2024,))[0][:2], 99_000_000, *rows(org.uscc, (2024,))[0][3:])])
    third = services.import_file(actor=admin, kind="financials", body=changed, filename="g.csv", dry_run=False)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 0)
    event = AuditEvent.objects.filter(event="profiles.financials_imported").order_by("-id").first()
    assert event.payload["after"]["revenue"] == "99000000.00"
    assert event.payload["before"]["revenue"] == "10002024.00"


def test_xlsx_and_operator_imports(make_org, operator):
    a = make_org()
    b = make_org()
    body = write_xlsx(HEADER, rows(a.uscc, (2024,)) + rows(b.uscc, (2023, 2024)), "fin")
    result = services.import_file(
        actor=operator,
        kind="financials",
        body=body,
        filename="bank.xlsx",
        dry_run=False,
        source_note="某银行 2025 报送",
    )
    assert result.applied and result.created == 3
    fact = FinancialStatement.objects.filter(organization=b).first()
    assert (fact.source, fact.source_note) == ("imported", "某银行 2025 报送")


def test_ip_and_capability_imports(org_admin, english):
    admin, org = org_admin
    ip = write_csv(
        ("uscc", "kind", "number", "title", "status", "filed_on"),
        [
            (org.uscc, "invention_patent", "ZL201710601862.3", "一种芯片封装方法", "pending", "2017-08-01"),
            (org.uscc, "software_copyright", "2023SR0123456", "设计软件V1.0", "granted", "2023-01-01"),
        ],
    )
    result = services.import_file(actor=admin, kind="ip", body=ip, filename="ip.csv", dry_run=False)
    assert [(e.column, e.rule) for e in result.errors] == [("granted_on", "required_when_granted")]
    assert not IPAsset.objects.exists()
    caps = write_csv(("uscc", "term", "detail"), [(org.uscc, "iso-9001", "2024 年换证"), (org.uscc, "nope", "")])
    result = services.import_file(actor=admin, kind="capabilities", body=caps, filename="c.csv", dry_run=False)
    assert [(e.row, e.column, e.rule) for e in result.errors] == [(3, "term", "unknown_term")]
    caps = write_csv(("uscc", "term", "detail"), [(org.uscc, "iso-9001", "2024 年换证")])
    assert services.import_file(actor=admin, kind="capabilities", body=caps, filename="c.csv", dry_run=False).applied
    assert OrganizationCapability.objects.get().term.code == "iso-9001"


def test_header_and_file_problems(org_admin, english):
    admin, org = org_admin
    body = write_csv(("uscc", "year", "colour"), [(org.uscc, 2024, "red")])
    result = services.import_file(actor=admin, kind="financials", body=body, filename="f.csv", dry_run=True)
    assert {(e.row, e.column, e.rule) for e in result.errors} >= {
        (1, "colour", "unknown_column"),
        (1, "revenue", "required"),
    }
    with pytest.raises(ValidationFailed) as exc:
        services.import_file(actor=admin, kind="financials", body=b"\xff\xfe\x00", filename="f.csv", dry_run=True)
    assert "UTF-8" in exc.value.errors["file"][0]
    with pytest.raises(ValidationFailed) as exc:
        services.import_file(actor=admin, kind="financials", body=b"", filename="f.csv", dry_run=True)
    assert exc.value.errors == {"file": ["The file is empty."]}
    with pytest.raises(ValidationFailed):
        services.import_file(actor=admin, kind="secrets", body=body, filename="f.csv", dry_run=True)
    with pytest.raises(Forbidden):
        services.import_file(actor=admin, kind="organizations", body=body, filename="f.csv", dry_run=True)


def test_operators_import_organizations_idempotently(ref, operator):
    header = ("uscc", "name_zh", "kind", "region", "founded_year", "tags")
    good = (make_uscc("440300", "MA5XXXXX1"), "深圳导入测试科技有限公司", "tech_sme", "440300", 2019, "芯片;封测")
    body = write_csv(header, [good])
    result = services.import_file(actor=operator, kind="organizations", body=body, filename="o.csv", dry_run=False)
    assert result.applied and result.created == 1
    org = Organization.objects.get(uscc=good[0])
    assert org.status == "member" and org.tags == ["芯片", "封测"]
    again = services.import_file(actor=operator, kind="organizations", body=body, filename="o.csv", dry_run=False)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    # an organization registered abroad has no credit code: its country and registry id find it again
    abroad = write_csv(
        ("uscc", "foreign_registry_id", "name_zh", "kind", "region"),
        [
            ("", "HRB 12345", "柏林导入测试公司", "tech_sme", "DE"),
            ("", "HRB 12345", "以色列同号公司", "tech_sme", "IL"),
        ],
    )
    first = services.import_file(actor=operator, kind="organizations", body=abroad, filename="a.csv", dry_run=False)
    assert (first.created, first.errors) == (2, [])
    again = services.import_file(actor=operator, kind="organizations", body=abroad, filename="a.csv", dry_run=False)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Organization.objects.filter(foreign_registry_id="HRB 12345").count() == 2
    twice = write_csv(
        ("uscc", "foreign_registry_id", "name_zh", "kind", "region"),
        [("", "HRB 9", "甲公司", "tech_sme", "DE"), ("", "HRB 9", "乙公司", "tech_sme", "de")],
    )
    result = services.import_file(actor=operator, kind="organizations", body=twice, filename="t.csv", dry_run=False)
    assert [(e.row, e.column, e.rule) for e in result.errors] == [(3, "foreign_registry_id", "duplicate_in_file")]
    bad = write_csv(
        header,
        [
            (make_uscc("440300", "MA5XXXXX2"), "好公司", "tech_sme", "440300", 2019, ""),
            ("91440300MA5XXXXX3X", "坏代码公司", "tech_sme", "999999", 2019, ""),
        ],
    )
    result = services.import_file(actor=operator, kind="organizations", body=bad, filename="o.csv", dry_run=False)
    assert {e.column for e in result.errors} >= {"uscc", "region"} and {e.row for e in result.errors} == {3}
    assert not Organization.objects.filter(name_zh="好公司").exists()  # all or nothing


def test_export_holds_only_what_one_may_see_and_is_logged(org_admin, member_of, operator):
    admin, org = org_admin
    services.import_file(
        actor=admin, kind="financials", body=write_csv(HEADER, rows(org.uscc)), filename="f.csv", dry_run=False
    )
    peer, peer_org = member_of("peer")
    services.import_file(
        actor=peer,
        kind="financials",
        body=write_csv(HEADER, rows(peer_org.uscc, (2024,))),
        filename="p.csv",
        dry_run=False,
    )
    mine = selectors.export_table(actor=peer, kind="financials")
    assert {r[0] for r in mine.rows} == {peer_org.uscc}  # org's financials are at "partners"
    assert mine.sensitive_owners == {peer_org.pk}
    services.disclosure_set(actor=admin, organization=org, data={"financials_visibility": "members"})
    table = selectors.export_table(actor=peer, kind="financials")
    exported = list(table.rows)
    assert {r[0] for r in exported} == {peer_org.uscc, org.uscc} and len(exported) == 4
    # The export of one's own organizations imports again, whole, without changing anything.
    own = selectors.export_table(actor=peer, kind="financials", own=True)
    back = write_csv(own.columns, list(own.rows))
    again = services.import_file(actor=peer, kind="financials", body=back, filename="back.csv", dry_run=True)
    assert (again.errors, again.unchanged) == ([], 1)
    client = Client()
    client.force_login(peer)
    page = client.get("/profiles/import/").content.decode()
    assert 'href="/profiles/export/ip.csv?own=1"' in page
    response = client.get("/profiles/export/organizations.csv?own=1")
    assert 'filename="agglo-organizations-own.csv"' in response["Content-Disposition"]
    assert [line.split(",")[0] for line in streamed(response).decode("utf-8-sig").splitlines()[1:]] == [peer_org.uscc]
    from agglo.profiles.exporting import export_response

    response = export_response(peer, "financials", "json", channel="export")
    assert len(json.loads(streamed(response))) == 4
    entry = AccessLogEntry.objects.get(owner=org)
    assert (entry.viewer_label, entry.channel) == (f"#{peer.pk}", "export")  # never the login
    contacts = selectors.export_table(actor=peer, kind="organizations")
    assert len(list(contacts.rows)) == Organization.objects.filter(status="member").count()
    assert read_table(write_csv(contacts.columns, []), "x.csv").header[0] == "uscc"
    with pytest.raises(Forbidden):
        from django.contrib.auth.models import AnonymousUser

        selectors.export_table(actor=AnonymousUser(), kind="financials")


def test_cli_import_and_export(org_admin, tmp_path, capsys):
    from django.core.management import CommandError, call_command

    admin, org = org_admin
    bad = tmp_path / "bad.csv"
    bad.write_bytes(write_csv(HEADER, [(org.uscc, 2024, "x", 1, 0, 1, "", "")]))
    with pytest.raises(CommandError, match="1 problem; nothing was written"):
        call_command("import_data", "financials", str(bad), "--as", admin.username)
    said = capsys.readouterr().out
    # the row's problem in the command's own language, not in the platform's default beside English words
    assert "row 2\trevenue\tnot_a_number\t" in said and said.isascii(), said
    good = tmp_path / "good.csv"
    good.write_bytes(write_csv(HEADER, rows(org.uscc)))
    call_command("import_data", "financials", str(good), "--as", admin.username)
    assert FinancialStatement.objects.count() == 3
    out = tmp_path / "out.json"
    call_command("export_data", "financials", "--as", admin.username, "--format", "json", "-o", str(out))
    assert len(json.loads(out.read_text())) == 3
    with pytest.raises(CommandError, match="--as"):
        call_command("import_data", "financials", str(good), "--as", "nobody")


def test_a_formula_cell_without_its_result_is_named_as_such_not_as_empty(org_admin, english):
    import io

    from openpyxl import Workbook

    admin, org = org_admin
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append([org.uscc, 2024, "=1+1", 20_000_000, 8_000_000, 12_000_000, 900_000, 60])  # no cached result
    out = io.BytesIO()
    book.save(out)
    result = services.import_file(actor=admin, kind="financials", body=out.getvalue(), filename="f.xlsx", dry_run=True)
    assert [(e.row, e.column, e.rule) for e in result.errors] == [(2, "revenue", "formula_unsaved")]
    assert "formula whose result the file does not hold" in result.errors[0].message


def test_a_member_registered_abroad_imports_its_own_export_again(make_org, english):
    from agglo.access.models import Membership
    from tests.conftest import user
    from tests.profiles.conftest import statement

    org = make_org(uscc=None, region="DE", foreign_registry_id="HRB 4711", name_zh="柏林测试公司")
    admin = user("abroad-admin")
    Membership.objects.create(user=admin, organization=org, role=Membership.Role.ADMIN)
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    c = Client()
    c.force_login(admin)
    exported = c.get("/profiles/export/financials.csv?own=1")
    body = streamed(exported)
    assert body.decode("utf-8-sig").splitlines()[0].startswith("uscc,foreign_registry_id,organization,")
    again = services.import_file(actor=admin, kind="financials", body=body, filename="f.csv", dry_run=True)
    assert (again.errors, again.unchanged) == ([], 1)
    # a new year through the registry id; an id nobody holds is named as such
    rows = [("", "HRB 4711", 2023, 9000000, 15000000, 6000000, 9000000), ("", "HRB 0000", 2023, 1, 1, 0, 1)]
    body = write_csv(
        ("uscc", "foreign_registry_id", "year", "revenue", "total_assets", "total_liabilities", "equity"), rows
    )
    result = services.import_file(actor=admin, kind="financials", body=body, filename="n.csv", dry_run=True)
    assert [(e.row, e.column, e.rule) for e in result.errors] == [(3, "foreign_registry_id", "not_yours")]
    result = services.import_file(
        actor=admin, kind="financials", body=body[: body.rindex(b"\n", 0, -1) + 1], filename="n.csv", dry_run=False
    )
    assert (result.errors, result.created) == ([], 1)


def test_a_credit_code_typed_with_spaces_or_lower_case_finds_its_organization(make_org, operator, org_admin, english):
    org = make_org()
    typed = f"{org.uscc[:4]} {org.uscc[4:10].lower()}-{org.uscc[10:]}"
    body = write_csv(
        ("uscc", "name_zh", "kind", "region", "headcount"), [(typed, org.name_zh, org.kind, org.region_id, 77)]
    )
    result = services.import_file(actor=operator, kind="organizations", body=body, filename="o.csv", dry_run=False)
    assert (result.errors, result.updated) == ([], 1), result.errors
    org.refresh_from_db()
    assert org.headcount == 77
    admin, own = org_admin
    facts = write_csv(HEADER, [(own.uscc.lower(), *rows(own.uscc, (2024,))[0][1:])])
    result = services.import_file(actor=admin, kind="financials", body=facts, filename="f.csv", dry_run=True)
    assert (result.errors, result.created) == ([], 1)


def test_an_organization_import_takes_a_number_typed_into_a_text_column(make_org, operator):
    from openpyxl import Workbook

    org = make_org()
    book = Workbook()
    book.active.append(("uscc", "name_zh", "kind", "region", "contact_phone"))
    book.active.append(
        (org.uscc, org.name_zh, org.kind, org.region_id, 13800138000)
    )  # a number cell, as Excel keeps it
    out = __import__("io").BytesIO()
    book.save(out)
    result = services.import_file(
        actor=operator, kind="organizations", body=out.getvalue(), filename="o.xlsx", dry_run=False
    )
    assert result.errors == [] and result.updated == 1
    org.refresh_from_db()
    assert org.contact_phone == "13800138000"


def test_a_refused_file_reports_nothing_done_and_a_long_source_note_is_refused(make_org, operator, org_admin):
    good = make_org()
    header = ("uscc", "name_zh", "kind", "region")
    body = write_csv(header, [(good.uscc, good.name_zh, good.kind, good.region_id), ("bad", "x", "tech_sme", "440300")])
    result = services.import_file(actor=operator, kind="organizations", body=body, filename="o.csv", dry_run=False)
    assert result.errors and (result.created, result.updated, result.unchanged) == (0, 0, 0)
    admin, org = org_admin
    facts = write_csv(HEADER, rows(org.uscc, (2024,)))
    with pytest.raises(ValidationFailed) as exc:
        services.import_file(
            actor=admin, kind="financials", body=facts, filename="f.csv", dry_run=True, source_note="x" * 201
        )
    assert list(exc.value.errors) == ["source_note"]


def test_an_organizations_check_writes_nothing_so_it_locks_nobody_out(ref, operator):
    """Data review 58 H1: a dry run created every organization in one transaction and rolled it back, holding
    SQLite's only write lock for minutes; every other request that wrote (a rate-limit bucket) failed after 20 s.
    A check, or a file with a bad row, now reads and checks only."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    header = ("uscc", "name_zh", "kind", "region", "founded_year", "tags")
    first = (make_uscc("440300", "MA5XXXXX4"), "深圳检查测试科技有限公司", "tech_sme", "440300", 2019, "")
    body = write_csv(
        header, [first, (make_uscc("440300", "MA5XXXXX5"), "深圳第二家公司", "tech_sme", "440300", 2020, "")]
    )
    # no write, and no transaction either: on SQLite every one begins IMMEDIATE, taking the write lock (recheck 58)
    writes = ("INSERT", "UPDATE", "DELETE", "SAVEPOINT", "BEGIN")
    with CaptureQueriesContext(connection) as queries:
        checked = services.import_file(actor=operator, kind="organizations", body=body, filename="o.csv", dry_run=True)
    assert checked.created == 2 and not checked.errors and not checked.applied
    assert not [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(writes)]
    bad = write_csv(header, [first, ("91440300MA5XXXXX3X", "坏代码公司", "tech_sme", "999999", 2019, "")])
    with CaptureQueriesContext(connection) as queries:
        refused = services.import_file(actor=operator, kind="organizations", body=bad, filename="o.csv", dry_run=False)
    assert refused.errors and not refused.applied
    # a refused file is recorded as a run; it writes no organization
    assert not [
        q["sql"] for q in queries if "registry_organization" in q["sql"] and q["sql"].upper().startswith(writes)
    ]
    assert not Organization.objects.filter(uscc=first[0]).exists()
    # an update is checked the same way: an unchanged row counts as unchanged, a changed one as updated
    services.import_file(actor=operator, kind="organizations", body=body, filename="o.csv", dry_run=False)
    changed = write_csv(header, [(*first[:4], 2018, "")])
    again = services.import_file(actor=operator, kind="organizations", body=changed, filename="o.csv", dry_run=True)
    assert (again.created, again.updated, again.unchanged) == (0, 1, 0)
    assert Organization.objects.get(uscc=first[0]).founded_year == 2019


def test_a_header_alone_is_not_a_success_of_nothing(org_admin):
    """Data review 58 L7: a file whose rows were lost (left on another sheet) answered "applied"."""
    admin, _org = org_admin
    body = write_csv(HEADER, [])
    result = services.import_file(actor=admin, kind="financials", body=body, filename="f.csv", dry_run=False)
    assert not result.applied and [(e.row, e.rule) for e in result.errors] == [(1, "no_rows")]
