"""Merged cells in XLSX imports stay cheap and say no more than they know (review 92): ranges that overlap refuse
the file, a range whose first cell is empty explains nothing, and a thousand explained cells are enough."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from agglo.profiles import services
from agglo.profiles.tabular import read_table
from tests.profiles.test_imports import HEADER, rows

pytestmark = pytest.mark.django_db


def _with_merge_xml(body: bytes, merges: list[str]) -> bytes:
    """The workbook with <mergeCells> written straight into its first sheet, as a crafted file would hold them."""
    source = zipfile.ZipFile(io.BytesIO(body))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                cells = "".join(f'<mergeCell ref="{ref}"/>' for ref in merges)
                data = data.replace(
                    b"</sheetData>", f'</sheetData><mergeCells count="{len(merges)}">{cells}</mergeCells>'.encode()
                )
            target.writestr(item, data)
    return out.getvalue()


def test_overlapping_merges_make_a_tiny_file_take_quadratic_time():
    """A 10 KB workbook: 500 rows with one value each, and the same merge written 1,000 times over the other 25
    columns. Each row walks every merge over every column and records each hit: 12.5 million (column, range, cell)
    tuples, ~16 s here (2,000 rows: 66 s, 50 million tuples). At the import's 200,000 rows and MAX_MERGES 10,000
    it never finishes, and memory runs out first. Excel never writes overlapping merges."""
    book = Workbook()
    sheet = book.active
    sheet.append([f"c{i}" for i in range(26)])
    for n in range(500):
        sheet.append([n])
    out = io.BytesIO()
    book.save(out)
    body = _with_merge_xml(out.getvalue(), ["B2:Z501"] * 1_000)
    assert len(body) < 20_000
    table = read_table(body, "x.xlsx", most=200_000)
    hits = sum(len(row.get("__merged__", ())) for _, row in table.rows)
    assert hits == 0  # B2, the ranges' first cell, holds nothing: there is no value the merge hides


def test_an_empty_merged_optional_column_is_a_false_error(org_admin, english):
    """A template whose optional column is merged down the rows for looks, holding nothing at all (not even in its
    first cell): before, the rows imported with the field empty; now every row below the first is refused as
    'Empty because cells H2:H4 are merged: only the first, H2, holds the value' -- H2 holds nothing."""
    admin, org = org_admin
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for line in rows(org.uscc):
        sheet.append([*line[:-1], None])  # headcount (optional) left empty on every row
    out = io.BytesIO()
    book.save(out)
    unmerged = services.import_file(
        actor=admin, kind="financials", body=out.getvalue(), filename="f.xlsx", dry_run=True
    )
    assert unmerged.errors == []  # headcount is optional: the same rows, unmerged, import
    sheet.merge_cells("H2:H4")
    out = io.BytesIO()
    book.save(out)
    result = services.import_file(actor=admin, kind="financials", body=out.getvalue(), filename="f.xlsx", dry_run=True)
    assert [(e.row, e.column, e.rule) for e in result.errors] == []


def test_overlapping_merges_holding_a_value_refuse_the_file():
    """The same range twice, its first cell holding a value: ranges that overlap, which no spreadsheet writes."""
    from agglo.profiles.tabular import TableError

    book = Workbook()
    sheet = book.active
    sheet.append([f"c{i}" for i in range(26)])
    for n in range(500):
        sheet.append([n, "held"])
    out = io.BytesIO()
    book.save(out)
    body = _with_merge_xml(out.getvalue(), ["B2:Z501"] * 1_000)
    with pytest.raises(TableError) as refused:
        read_table(body, "x.xlsx", most=200_000)
    assert refused.value.rule == "xlsx_unreadable"


def test_a_tall_merge_explains_at_most_a_thousand_cells_and_stays_quick():
    """One range over 20,000 rows whose first cell holds a value: every row below is explained until a thousand
    are (the file is refused for them anyway); the rest are not looked at."""
    book = Workbook()
    sheet = book.active
    sheet.append(["a", "b"])
    for n in range(20_000):
        sheet.append([n, "x" if n == 0 else None])
    out = io.BytesIO()
    book.save(out)
    body = _with_merge_xml(out.getvalue(), ["B2:B20001"])
    table = read_table(body, "x.xlsx", most=200_000)
    explained = sum(len(row.get("__merged__", ())) for _, row in table.rows)
    assert explained == 1000
