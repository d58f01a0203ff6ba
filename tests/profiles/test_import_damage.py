"""Files an import cannot trust: a formula with no saved result or stray cells in an organization import, a damaged
or several-sheet workbook, and text a workbook cannot hold on its way out again."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from agglo.common.errors import ValidationFailed
from agglo.profiles import services
from agglo.profiles.tabular import write_csv, write_xlsx
from agglo.registry.models import Organization
from tests.conftest import streamed
from tests.profiles.test_imports import HEADER, rows

pytestmark = pytest.mark.django_db

ORG_HEADER = ("uscc", "name_zh", "name_en", "kind", "region", "description")


def _book(*sheets: tuple[str, list[tuple]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, lines in sheets:
        sheet = book.create_sheet(title)
        for line in lines:
            sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_organization_import_refuses_a_formula_without_its_result_rather_than_blank_the_field(
    make_org, operator, english
):
    org = make_org(name_en="Kept Name", description="Kept description")
    line = (org.uscc, org.name_zh, "=A1", org.kind, org.region_id, "=B1")  # formulas openpyxl saves with no result
    body = _book(("orgs", [ORG_HEADER, line]))
    result = services.import_file(actor=operator, kind="organizations", body=body, filename="o.xlsx", dry_run=False)
    assert not result.applied
    assert [(e.row, e.column, e.rule) for e in result.errors] == [
        (2, "name_en", "formula_unsaved"),
        (2, "description", "formula_unsaved"),
    ]
    org.refresh_from_db()
    assert (org.name_en, org.description) == ("Kept Name", "Kept description")


def test_an_organization_import_refuses_cells_past_the_last_column(make_org, operator, english):
    org = make_org()
    body = write_csv(ORG_HEADER[:5], [(org.uscc, org.name_zh, "", org.kind, org.region_id, "stray")])
    result = services.import_file(actor=operator, kind="organizations", body=body, filename="o.csv", dry_run=True)
    assert [(e.row, e.rule) for e in result.errors] == [(2, "extra_cells")]


def test_a_damaged_workbook_is_an_error_on_the_file_not_a_crash(org_admin, english):
    admin, org = org_admin
    good = write_xlsx(HEADER, rows(org.uscc, (2024,)), "fin")
    # the sheet's XML cut short: the workbook opens, and reading its rows fails
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(damaged, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            out.writestr(item, data[: len(data) // 2] if item.filename.startswith("xl/worksheets/") else data)
    with pytest.raises(ValidationFailed) as exc:
        services.import_file(actor=admin, kind="financials", body=damaged.getvalue(), filename="f.xlsx", dry_run=True)
    assert "damaged" in exc.value.errors["file"][0]


def test_a_workbook_with_data_on_a_second_sheet_is_refused_naming_the_sheets(org_admin, english):
    admin, org = org_admin
    body = _book(("说明", [("请在第二个工作表填写数据",)]), ("data", [HEADER, *rows(org.uscc, (2024,))]))
    with pytest.raises(ValidationFailed) as exc:
        services.import_file(actor=admin, kind="financials", body=body, filename="f.xlsx", dry_run=True)
    said = exc.value.errors["file"][0]
    assert "说明" in said and "data" in said
    # an empty second sheet is no reason to refuse
    body = _book(("data", [HEADER, *rows(org.uscc, (2024,))]), ("Sheet2", []))
    result = services.import_file(actor=admin, kind="financials", body=body, filename="f.xlsx", dry_run=True)
    assert result.errors == [] and result.created == 1


def test_an_export_drops_control_characters_a_workbook_cannot_hold():
    body = write_xlsx(("name", "description"), [("甲\x01公司", "来自 Word 粘贴\x0b的简介\ttab")], "orgs")
    sheet = load_workbook(io.BytesIO(body)).active
    assert [c.value for c in sheet[2]] == ["甲公司", "来自 Word 粘贴的简介\ttab"]


def test_the_organizations_export_survives_a_description_with_a_control_character(make_org, operator):
    from agglo.profiles.exporting import export_response

    org = make_org()
    Organization.objects.filter(pk=org.pk).update(description="简介\x01")
    response = export_response(operator, "organizations", "xlsx", channel="api")
    sheet = load_workbook(io.BytesIO(streamed(response))).active
    assert "简介" in [c.value for row in sheet.iter_rows() for c in row]


def test_export_data_checks_its_output_before_it_counts_an_export(org_admin, tmp_path, settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from agglo.access.models import DailyQuota

    admin, org = org_admin
    for target, said in ((tmp_path, "is a folder"), (tmp_path / "missing" / "x.csv", "no folder")):
        with pytest.raises(CommandError, match=said):
            call_command("export_data", "financials", "--as", admin.username, "-o", str(target))
    assert not DailyQuota.objects.exists()
    # the format follows the file's extension unless given
    out = tmp_path / "mine.xlsx"
    call_command("export_data", "financials", "--as", admin.username, "--own", "-o", str(out))
    assert out.read_bytes().startswith(b"PK\x03\x04")
    assert not DailyQuota.objects.exists()  # one's own data is not limited
    settings.AGGLO_DAILY_LIMITS = {**settings.AGGLO_DAILY_LIMITS, "export": 1}
    call_command("export_data", "financials", "--as", admin.username, "-o", str(tmp_path / "first.csv"))
    with pytest.raises(CommandError, match="made 1 export of other members' data today") as refused:
        call_command("export_data", "financials", "--as", admin.username, "-o", str(tmp_path / "again.csv"))
    assert "resets at midnight" in str(refused.value) and "(try again in " in str(refused.value)


def test_an_import_file_too_large_is_refused_unread_and_reading_stops_past_the_row_limit(
    org_admin, settings, english, monkeypatch
):
    from django.test import Client

    from agglo.profiles import tabular
    from agglo.profiles.services import imports
    from agglo.profiles.tabular import TableError, read_csv
    from tests.registry.test_api import bearer, problem

    admin, org = org_admin
    body = write_csv(HEADER, rows(org.uscc, (2022, 2023, 2024)))
    read: list[int] = []
    real_row = tabular._row
    monkeypatch.setattr(tabular, "_row", lambda header, cells: read.append(1) or real_row(header, cells))
    settings.AGGLO_IMPORT_MAX_BYTES = len(body) - 1
    with pytest.raises(ValidationFailed) as exc:
        services.import_file(actor=admin, kind="financials", body=body, filename="f.csv", dry_run=True)
    assert "MB per file" in exc.value.errors["file"][0] and read == []  # not a row of it read
    # a file under the limit with too many rows stops being read at the first row past it: 2 of its 3
    with pytest.raises(TableError) as too_many:
        read_csv(body, most=1)
    assert too_many.value.rule == "too_many_rows" and len(read) == 2
    settings.AGGLO_IMPORT_MAX_BYTES = 10**6
    imports_max, imports.MAX_ROWS = imports.MAX_ROWS, 1
    try:
        with pytest.raises(ValidationFailed) as exc:
            services.import_file(actor=admin, kind="financials", body=body, filename="f.csv", dry_run=True)
        assert exc.value.errors == {"file": ["At most 1 rows per file."]}
    finally:
        imports.MAX_ROWS = imports_max
    settings.AGGLO_IMPORT_MAX_BYTES = len(body) - 1
    said = problem(Client().post("/api/v1/imports/financials", {"file": io.BytesIO(body)}, **bearer(admin)), 422)
    assert "file" in said["errors"]


def test_the_evidence_limit_says_how_many_are_attached_and_how_many_more_may_be(org_admin, english):
    from agglo.profiles.services.facts import MAX_EVIDENCE
    from tests.conftest import upload
    from tests.profiles.conftest import statement

    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2025))
    services.evidence_add(actor=admin, statement=fact, files=[upload(f"a{i}.pdf") for i in range(MAX_EVIDENCE - 1)])
    with pytest.raises(ValidationFailed) as exc:
        services.evidence_add(actor=admin, statement=fact, files=[upload("x.pdf"), upload("y.pdf")])
    assert exc.value.errors["files"] == [
        f"At most {MAX_EVIDENCE} files in all: {MAX_EVIDENCE - 1} are attached already, so 1 more may be."
    ]


def test_file_errors_say_the_row_and_a_headerless_file_is_one_error(org_admin, english):
    admin, org = org_admin
    good = write_csv(HEADER, rows(org.uscc, (2023,))).decode("utf-8-sig")
    broken = (good + f"{org.uscc},2024,1,2,1,1,1,1,").encode() + b"\x80\x80\n"  # neither UTF-8 nor GB18030
    with pytest.raises(ValidationFailed) as exc:
        services.import_file(actor=admin, kind="financials", body=broken, filename="f.csv", dry_run=True)
    assert "row 3" in exc.value.errors["file"][0]
    # as Excel or WPS saves "CSV" on a Chinese system (GBK), or "Unicode text" (UTF-16, tabs): read (data review 58 L2)
    gbk = good.encode("gbk")
    assert not services.import_file(actor=admin, kind="financials", body=gbk, filename="f.csv", dry_run=True).errors
    tabs = good.replace(",", "\t").encode("utf-16")
    assert not services.import_file(actor=admin, kind="financials", body=tabs, filename="f.txt", dry_run=True).errors
    semicolons = good.replace(",", ";").encode()
    assert not services.import_file(
        actor=admin, kind="financials", body=semicolons, filename="f.csv", dry_run=True
    ).errors
    huge = (good + f'{org.uscc},2024,"{"9" * 200_000}"\n').encode()
    with pytest.raises(ValidationFailed) as exc:
        services.import_file(actor=admin, kind="financials", body=huge, filename="f.csv", dry_run=True)
    assert exc.value.errors["file"][0] == "Row 3 has a cell of more than 131072 characters."
    # a quoted note over several lines is one row: the error names the row a spreadsheet shows, not the text line
    lines = (good + f'{org.uscc},2024,"a\nb\nc\nd"\n{org.uscc},2025,"{"9" * 200_000}"\n').encode()
    with pytest.raises(ValidationFailed) as exc:
        services.import_file(actor=admin, kind="financials", body=lines, filename="f.csv", dry_run=True)
    assert "Row 4 " in exc.value.errors["file"][0]
    headless = write_csv(rows(org.uscc, (2023,))[0], rows(org.uscc, (2024,)))
    result = services.import_file(actor=admin, kind="financials", body=headless, filename="f.csv", dry_run=True)
    assert [(e.row, e.rule) for e in result.errors] == [(1, "no_header")]
    assert "uscc" in result.errors[0].message


def _workbook(sheet: str, shared: str = "") -> bytes:
    """A minimal XLSX written by hand, so that it can state what no spreadsheet program would."""
    import io
    import zipfile

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+'
        'xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/>'
        + (
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sharedStrings+xml"/>'
            if shared
            else ""
        )
        + "</Types>",
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="S" '
        'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" '
        f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        + (f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>' if shared else "")
        + "</Relationships>",
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet xmlns="{main}">{sheet}</worksheet>',
    }
    if shared:
        parts["xl/sharedStrings.xml"] = shared
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return out.getvalue()


def tabular_error() -> type[Exception]:
    from agglo.profiles.tabular import TableError

    return TableError


def tabular_read(body: bytes) -> object:
    from agglo.profiles.tabular import read_table

    return read_table(body, "x.xlsx", most=10)


def test_a_workbook_that_claims_a_huge_sheet_or_unpacks_huge_is_refused_quickly(english):
    """Review 49 F2/F3: a 1.5 KB sheet stating 1,048,576 × 16,384 cells kept a thread busy for good, and a few
    hundred kilobytes unpacked to gigabytes in memory. Both are refused, in words, before either happens."""
    import time

    from agglo.common.errors import ValidationFailed
    from agglo.profiles.services.imports import table_read

    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>uscc</t></is></c></row>'
    far = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    claimed = _workbook(f'<dimension ref="A1:XFD1048576"/><sheetData>{header}{far}</sheetData>')
    assert len(claimed) < 2000
    started = time.perf_counter()
    with pytest.raises(ValidationFailed) as refused:
        table_read(claimed, "claimed.xlsx")
    assert time.perf_counter() - started < 20  # a guard against the old endless read, not a benchmark
    assert "counting empty ones" in refused.value.errors["file"][0]
    bomb = _workbook(
        f'<sheetData>{header}<row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData>',
        shared=f'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        f'uniqueCount="1"><si><t>{"A" * (40 * 1024 * 1024)}</t></si></sst>',
    )
    assert len(bomb) < 200_000
    with pytest.raises(ValidationFailed) as refused:
        table_read(bomb, "bomb.xlsx")
    assert refused.value.errors["file"] == [
        "The workbook's text unpacks to more than 32 MB: save only the rows to import, or split them into several "
        "files."
    ]
    with pytest.raises(tabular_error(), match="xlsx_too_large"):
        tabular_read(_workbook(f"<sheetData>{header}{' ' * (300 * 1024 * 1024)}</sheetData>"))
    # a sheet of rows that look empty is read no further than the row limit and 10,000 more

    spaces = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t> </t></is></c></row>' for i in range(2, 10_100))
    with pytest.raises(tabular_error()) as scanned:
        tabular_read(_workbook(f"<sheetData>{header}{spaces}</sheetData>"))
    assert scanned.value.rule == "too_many_rows_scanned"


def test_a_row_wider_than_any_import_is_refused_before_it_is_read(english):
    """Recheck 50 N1/N2: one row of a million cells took 0.9 GB, and a cell at column XFD padded every row to
    16,384 cells; a sheet is scanned as a stream first, and such rows are refused by their row."""
    from agglo.common.errors import ValidationFailed
    from agglo.profiles.services.imports import table_read

    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>uscc</t></is></c></row>'
    wide = _workbook(f'<sheetData>{header}<row r="2">{"<c><v>1</v></c>" * 200_000}</row></sheetData>')
    far = _workbook(f'<sheetData>{header}<row r="7"><c r="XFD7" t="inlineStr"><is><t> </t></is></c></row></sheetData>')
    for body, row in ((wide, 2), (far, 7)):
        with pytest.raises(ValidationFailed) as refused:
            table_read(body, "wide.xlsx")
        assert refused.value.errors["file"] == [
            f"Row {row} of the sheet has cells past column 1000: delete the columns right of the data (or the cells "
            "formatted there) and save it again."
        ]
    fine = _workbook(f'<sheetData>{header}<row r="2"><c r="ALL2"><v>1</v></c></row></sheetData>')  # column 1000
    assert len(table_read(fine, "fine.xlsx").rows) == 1


def test_a_sheet_kept_elsewhere_in_the_zip_is_scanned_too(english):
    """A workbook's relations may name a sheet outside xl/worksheets/: the scan follows every XML part."""
    import io
    import zipfile

    from agglo.common.errors import ValidationFailed
    from agglo.profiles.services.imports import table_read

    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>uscc</t></is></c></row>'
    body = _workbook(f'<sheetData>{header}<row r="2">{"<c><v>1</v></c>" * 5000}</row></sheetData>')
    moved = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(moved, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            name = "xl/elsewhere/s.xml" if item.filename == "xl/worksheets/sheet1.xml" else item.filename
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"worksheets/sheet1.xml", b"elsewhere/s.xml")
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"/xl/worksheets/sheet1.xml", b"/xl/elsewhere/s.xml")
            out.writestr(name, data)
    with pytest.raises(ValidationFailed) as refused:
        table_read(moved.getvalue(), "moved.xlsx")
    assert "past column 1000" in refused.value.errors["file"][0]


@pytest.mark.parametrize(
    ("sheet", "rule"),
    [
        # a row element hidden in a comment, CDATA or an instruction no longer resets the count
        ('<row r="2"><!-- <row r="3"> -->' + "<c><v>1</v></c>" * 1500 + "</row>", "too_many_columns"),
        (
            '<row r="2">'
            + "<c><v>1</v></c>" * 700
            + '<c><is><t><![CDATA[<row r="9">]]></t></is></c>'
            + "<c/>" * 700
            + "</row>",
            "too_many_columns",
        ),
        ('<row r="2"><c r=\'xfd2\' t="n"><v>1</v></c></row>', "too_many_columns"),  # quotes and case as openpyxl reads
        ('<row r="2"><c t="n"   r = "XFD2"><v>1</v></c></row>', "too_many_columns"),
    ],
)
def test_the_scan_reads_the_sheet_as_xml_does(english, sheet, rule):
    """Recheck 51 R1/R2: a scan of the raw bytes was misled by comments, CDATA, quotes and case."""
    from agglo.profiles.xlsx_guard import workbook_checked

    header = '<row r="1"><c r="A1" t="inlineStr"><is><t>uscc</t></is></c></row>'
    with pytest.raises(tabular_error()) as refused:
        workbook_checked(_workbook(f"<sheetData>{header}{sheet}</sheetData>"))
    assert refused.value.rule == rule


def test_a_sheet_with_a_document_type_is_refused(english):
    """Recheck 51 R1: entities declared in a document type expanded a 4.7 KB file to 657 MB."""
    import io
    import zipfile

    from agglo.profiles.xlsx_guard import workbook_checked

    body = _workbook('<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>uscc</t></is></c></row></sheetData>')
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>')
            dst.writestr(item.filename, data)
    with pytest.raises(tabular_error()) as refused:
        workbook_checked(out.getvalue())
    assert refused.value.rule == "xlsx_unreadable"


def _merged_book(code: str, merges: list[str], other_merges: tuple[str, ...] = ()) -> bytes:
    """A workbook of three years of one firm's statements, merged as a person might (its code written once)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "data"
    sheet.append(HEADER)
    for line in rows(code):
        sheet.append(line)
    for ref in merges:
        sheet.merge_cells(ref)  # openpyxl, like Excel, keeps only the first cell's value
    if other_merges:
        other = book.create_sheet("notes")
        for ref in other_merges:
            other.merge_cells(ref)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_cells_a_merge_left_empty_are_named_with_their_range(org_admin, english):
    """A column merged down the rows of one firm (a common way to write a code once) reads as empty below its
    first cell: said so, with the range, rather than "required"."""
    admin, org = org_admin
    body = _merged_book(org.uscc, ["A2:A4", "C3:D3"])
    result = services.import_file(actor=admin, kind="financials", body=body, filename="f.xlsx", dry_run=True)
    said = {(e.row, e.column, e.rule): e.message for e in result.errors}
    # row 2 holds the merge's value and is read as it is; C3 keeps its value, D3 to its right is empty
    assert set(said) == {(3, "uscc", "merged"), (4, "uscc", "merged"), (3, "total_assets", "merged")}
    assert said[3, "uscc", "merged"].startswith("Empty because cells A2:A4 are merged: only the first, A2, holds")
    assert "C3:D3" in said[3, "total_assets", "merged"]
    # unmerged, the same rows import
    result = services.import_file(
        actor=admin, kind="financials", body=_merged_book(org.uscc, []), filename="f.xlsx", dry_run=True
    )
    assert result.errors == [] and result.created == 3


def test_merges_on_another_sheet_name_nothing_in_the_first(org_admin, english):
    admin, org = org_admin
    body = _merged_book(org.uscc, [], other_merges=("A2:A4", "A1:H1"))
    result = services.import_file(actor=admin, kind="financials", body=body, filename="f.xlsx", dry_run=True)
    assert result.errors == [] and result.created == 3
