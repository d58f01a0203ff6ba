"""Exports are sent as they are read (CSV, JSON) or from a temporary file (XLSX), not built whole in memory."""

from __future__ import annotations

import io
import json

import pytest
from django.http import FileResponse, StreamingHttpResponse
from openpyxl import load_workbook

from agglo.profiles.exporting import export_response
from agglo.profiles.tabular import csv_chunks, json_chunks, read_table, write_csv, write_json
from tests.conftest import make_uscc, streamed

ROWS = [(n, f"=cmd{n}", "企业" if n % 2 else None) for n in range(2_500)]
COLUMNS = ("id", "text", "name")


def test_csv_comes_a_batch_of_rows_at_a_time_and_reads_back_as_written():
    chunks = list(csv_chunks(COLUMNS, iter(ROWS), batch=1_000))
    assert len(chunks) == 4  # the header, two full batches and the rest
    body = b"".join(chunks)
    assert body.startswith(b"\xef\xbb\xbf") and body.count(b"\xef\xbb\xbf") == 1  # one byte-order mark
    assert body == write_csv(COLUMNS, ROWS)
    table = read_table(body, "x.csv")
    assert len(table.rows) == 2_500 and table.rows[7][1]["text"] == "=cmd7"  # the formula guard comes off again


def test_json_comes_a_batch_at_a_time_and_is_one_array():
    chunks = list(json_chunks(COLUMNS, iter(ROWS), batch=1_000))
    assert len(chunks) == 3
    items = json.loads(b"".join(chunks))
    assert len(items) == 2_500 and items[1] == {"id": 1, "text": "=cmd1", "name": "企业"}
    assert json.loads(write_json(COLUMNS, [])) == []


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_an_export_is_streamed_and_holds_the_rows(make_org, operator, fmt):
    orgs = [make_org(), make_org(region="320500", uscc=make_uscc("320500", "MA1DDDDD1"), name_zh="苏州公司")]
    response = export_response(operator, "organizations", fmt, channel="api")
    assert isinstance(response, FileResponse if fmt == "xlsx" else StreamingHttpResponse)
    body = streamed(response)
    response.close()
    if fmt == "xlsx":
        names = [row[2] for row in load_workbook(io.BytesIO(body)).active.iter_rows(min_row=2, values_only=True)]
    elif fmt == "json":
        names = [row["name_zh"] for row in json.loads(body)]
    else:
        names = [row["name_zh"] for _, row in read_table(body, "x.csv").rows]
    assert sorted(names) == sorted(o.name_zh for o in orgs)
