"""Reading and writing CSV and XLSX tables for bulk import and export. Pure: bytes in, rows out.

Rows are numbered as a spreadsheet user sees them: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import IO, Any
from xml.etree.ElementTree import ParseError

FORMATS = ("csv", "xlsx", "json")
_XLSX_MAGIC = b"PK\x03\x04"
# what a damaged or forged workbook raises while it is opened or read (its sheets are read lazily)
# (and a part zipfile cannot open: compressed in a way it does not know, or encrypted)
DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    ParseError,
    EOFError,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    OSError,
    NotImplementedError,
    RuntimeError,
)


EXCEL_EPOCH = dt.date(1899, 12, 30)  # day 0 of a spreadsheet's date serial numbers
SERIAL_FROM = 10_000  # 1927-05-18
# year first, as a spreadsheet saves a date again (2026/1/5, 2026-01-05, 2026.1.5, 2026年1月5日), with or
# without a time; day-first and month-first text (05/01/2026) reads either way, so it is not taken
DATE_WRITTEN = re.compile(
    r"(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)


def day_written(value: Any) -> dt.date | None:
    """A day as a spreadsheet or a person gives it: a date cell, a date's serial number, or text written year
    first (see DATE_WRITTEN); None when it is none of these. The capacity calendar and every fact import read
    dates by this one rule (data review 58 M1)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # a date's serial number from 1927 on (10000): a smaller number is more likely a year typed into a date
        # column (2019 would be a day of 1905: recheck 58 M4)
        whole = SERIAL_FROM <= value < 2958466 and value == int(value)
        return EXCEL_EPOCH + dt.timedelta(days=int(value)) if whole else None
    text = str(value).strip()
    if (written := DATE_WRITTEN.fullmatch(text)) is not None:
        try:
            return dt.date(*(int(part) for part in written.groups()))
        except ValueError:
            return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


# an ISO week as an ERP keys it (2026-W53, 2026W53, or one of its days: 2026-W53-1), which `date.fromisoformat` reads
ISO_WEEK_WRITTEN = re.compile(r"(\d{4})-?W(\d{2})(?:-?\d)?")
# an ISO date or week by its shape, in ASCII digits as `date.fromisoformat` reads them
ISO_WRITTEN = re.compile(r"\d{4}-\d{2}-\d{2}|" + ISO_WEEK_WRITTEN.pattern, re.ASCII)


def day_missing(value: Any) -> tuple[str, dict[str, Any]] | None:
    """Why text written as a day names none, as a rule and its figures: a week its year does not have
    ("no_such_week": 2027-W53, as ISO years have 52 weeks or 53) or a day its month does not have ("no_such_day":
    2027-02-29, 2026-04-31). None for a day, and for text that is no date at all (a 13th month, day 32)."""
    if not isinstance(value, str) or day_written(value) is not None:
        return None
    text = value.strip()
    if (week := ISO_WEEK_WRITTEN.fullmatch(text)) is not None:
        year, number = int(week[1]), int(week[2])
        weeks = dt.date(year, 12, 28).isocalendar()[1] if year else 0  # the 28th of December is in the year's last
        if weeks and not 1 <= number <= weeks:  # (year 0, or the last days of 9999: no date at all)
            return "no_such_week", {"year": year, "week": number, "weeks": weeks}
        return None
    if (day := DATE_WRITTEN.fullmatch(text)) is not None:
        year, month, of_month = (int(part) for part in day.groups())
        return ("no_such_day", {"day": text}) if year and 1 <= month <= 12 and 1 <= of_month <= 31 else None
    return None


class TableError(ValueError):
    """The file as a whole cannot be read (wrong format, no header, bad encoding)."""

    def __init__(self, rule: str, **params: Any) -> None:
        super().__init__(rule)
        self.rule = rule
        self.params = params


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple[int, dict[str, Any]]]  # (row number, {column: raw value})


def sniff_format(body: bytes, filename: str = "") -> str:
    """ "xlsx" for a zip container, else "csv"; the file name's extension must agree when it names one."""
    kind = "xlsx" if body.startswith(_XLSX_MAGIC) else "csv"
    filename = filename.strip()  # "财务.xlsx " as a name typed or pasted with a space
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext == "xlsx" and kind != "xlsx":  # not a workbook at all: a CSV, a PDF, text … renamed
        raise TableError("not_xlsx")
    if ext == "csv" and kind != "csv":
        raise TableError("format_mismatch", ext=ext, actual=kind)
    if ext and ext not in ("csv", "xlsx", "txt"):
        raise TableError("format_unsupported", ext=ext)
    return kind


def _clean_header(cells: Sequence[Any]) -> tuple[str, ...]:
    # a byte-order mark a file saved twice "with BOM" keeps after the first is read reads as part of a name
    header = tuple(str(c).replace("\ufeff", "").strip().lower() if c is not None else "" for c in cells)
    if any("\x00" in h for h in header):
        raise TableError("nul_header")
    # in one pass each (a header of a hundred thousand commas is a small file): trailing empty names, then repeats
    last = max((i for i, h in enumerate(header) if h), default=-1)
    header = header[: last + 1]
    if not header:
        raise TableError("no_header")
    duplicated = sorted(h for h, n in Counter(header).items() if h and n > 1)
    if duplicated:
        raise TableError("duplicate_columns", columns=", ".join(duplicated))
    return header


def _blank(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _decoded(body: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without the mark Excel writes), UTF-16 as Excel's "Unicode text"
    saves it, or GB18030 (GBK), as Excel and WPS save "CSV" on a Chinese system (data review 58 L2)."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return body.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise TableError("encoding", position=exc.start, row=1) from None
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # GB18030 only for a file that is mostly not UTF-8: a UTF-8 file with one stray byte (a pasted "Société")
        # would read as GB18030 too, every Chinese name garbled (recheck 58 H1)
        loose = body.decode("utf-8", errors="replace")
        good = sum(1 for ch in loose if ord(ch) > 127 and ch != "\ufffd")
        try:
            if loose.count("\ufffd") > good:
                return body.decode("gb18030")
        except UnicodeDecodeError:
            pass
        raise TableError("encoding", position=exc.start, row=body[: exc.start].count(b"\n") + 1) from None


def _separator(text: str) -> str:
    """The header line's separator: a comma, or the semicolon or tab Excel writes in some locales and for "text"."""
    first = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=lambda c: (first.count(c), c == ","))


def _syntax(exc: csv.Error, row: int) -> TableError:
    """A CSV reader's complaint in the reader's language, at the row a spreadsheet shows (not the text line)."""
    if "field larger than field limit" in str(exc):
        return TableError("cell_too_long", row=row, n=csv.field_size_limit())
    return TableError("csv_syntax", detail=str(exc), row=row)


def read_csv(body: bytes, most: int | None = None) -> Table:
    text = _decoded(body)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text))
    try:
        header = _clean_header(next(reader))
    except StopIteration:
        raise TableError("no_header") from None
    except csv.Error as exc:
        raise _syntax(exc, 1) from None
    rows = []
    number = 1
    try:
        for number, cells in enumerate(_scanned(reader, most), start=2):
            if _blank(cells):
                continue
            rows.append((number, _row(header, [_unquoted(c) for c in cells])))
            _within(rows, most)
    except csv.Error as exc:
        raise _syntax(exc, number + 1) from None
    return Table(header, rows)


def _row(header: tuple[str, ...], cells: Sequence[Any]) -> dict[str, Any]:
    row = {name: (cells[i] if i < len(cells) else None) for i, name in enumerate(header) if name}
    if len(cells) > len(header) and not _blank(cells[len(header) :]):
        row["__extra__"] = len(cells) - len(header)
    # no database stores a NUL character: the row is refused, naming each such cell
    if nul := [name for name, value in row.items() if isinstance(value, str) and "\x00" in value]:
        row["__nul__"] = nul
    return row


# Excel's last row: a row numbered past it is no workbook Excel or WPS saved (and the empty rows up to it are read)
EXCEL_ROWS = 1_048_576


def read_xlsx(body: bytes, most: int | None = None) -> Table:
    """The first worksheet; cells keep their types (numbers, dates) so nothing is lost to text formatting."""
    from openpyxl import load_workbook

    from agglo.profiles.xlsx_guard import workbook_checked

    scan = workbook_checked(body)  # before openpyxl holds any of it
    written = None
    try:
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
        if (
            scan.unsaved
        ):  # the same cells as written: a formula whose result the file does not hold reads as empty above
            written = load_workbook(io.BytesIO(body), read_only=True, data_only=False)
    except DAMAGED:
        raise TableError("xlsx_unreadable") from None
    try:
        return _sheet_rows(book, written, most, scan.merged)
    except TableError:
        raise
    except DAMAGED:  # the sheet is read lazily: damage inside it shows only now
        raise TableError("xlsx_unreadable") from None
    finally:
        book.close()
        if written is not None:
            written.close()


def _scanned(rows: Iterable[Any], most: int | None) -> Iterator[Any]:
    """The rows, refused past the row limit and 10,000 more counting empty ones: cells of spaces or formatting on
    a million rows are no data, yet each costs reading (review 49 F2)."""
    budget = None if most is None else most + 10_000
    for n, row in enumerate(rows, start=1):
        if budget is not None and n > budget:
            raise TableError("too_many_rows_scanned", n=budget)
        yield row


def _sheet_rows(book: Any, written: Any, most: int | None, merged: Sequence[Any] = ()) -> Table:
    """The first worksheet's rows, refused when another sheet holds data too (it would be left out unread). A
    cell left empty by a merge (only a merged range's first cell holds its value) is named with its range."""
    others = [
        ws.title
        for ws in book.worksheets[1:]
        if any(not _blank(r) for r in _scanned(_undimensioned(ws).iter_rows(values_only=True), most))
    ]
    if others:
        raise TableError("several_sheets", first=book.worksheets[0].title, others=", ".join(others))
    # the size a sheet states for itself is not trusted: read as stated, every row is padded to its last column
    # (a 1.5 KB file stating 1,048,576 × 16,384 cells kept a thread busy for good; review 49 F2)
    lines = _scanned(_undimensioned(book.worksheets[0]).iter_rows(values_only=True), most)
    # as written, where some formula lacks its result; else no cell does, and the rows as read will do
    formulas = _undimensioned(written.worksheets[0]).iter_rows(values_only=True) if written is not None else repeat(())
    try:
        header = _clean_header(next(lines))
        next(formulas)
    except StopIteration:
        raise TableError("no_header") from None
    rows = []
    merges = _Merges(merged)
    for number, (cells, as_written) in enumerate(zip(lines, formulas, strict=False), start=2):
        unsaved = [
            header[i]
            for i, (value, raw) in enumerate(zip(cells, as_written, strict=False))
            if value is None and isinstance(raw, str) and raw.startswith("=") and i < len(header) and header[i]
        ]
        if number > EXCEL_ROWS:
            raise TableError("xlsx_unreadable")
        if _blank(cells) and not unsaved:
            continue
        row = _row(header, cells)
        if unsaved:
            row["__formula__"] = unsaved
        if hidden := merges.hidden(number, header, cells):
            row["__merged__"] = hidden
        rows.append((number, row))
        _within(rows, most)
    return Table(header, rows)


class _Merges:
    """The merged ranges covering each row in turn, as the rows come in order. Only a range whose first cell holds
    a value explains the cells it left empty (one merged only for looks, empty throughout, is no missing value).
    The work stays within the file's own cells: a range is dropped once it can explain nothing, ranges that
    overlap (no spreadsheet writes them) refuse the file, and after MAX_EXPLAINED cells (the file is refused for
    them anyway) no more are looked for (review 92)."""

    MAX_EXPLAINED = 1000

    def __init__(self, merged: Sequence[Any]) -> None:
        self.pending = sorted(merged, key=lambda m: m.first_row, reverse=True)
        self.active: list[Any] = []
        self.explained = 0

    def hidden(self, number: int, header: tuple[str, ...], cells: Sequence[Any]) -> list[tuple[str, str, str]]:
        """(column, range, its first cell) for each named column of row `number` a merge left empty."""
        while self.pending and self.pending[-1].first_row <= number:
            m = self.pending.pop()
            first = m.first_column - 1
            # its first cell, read in this row, holds a value (a range whose first row was the header, or a blank
            # row, holds none that this import reads)
            if m.first_row == number and first < len(cells) and cells[first] is not None:
                self.active.append(m)
        self.active = [m for m in self.active if m.last_row >= number]
        found: list[tuple[str, str, str]] = []
        claimed: set[int] = set()
        for m in self.active:
            for i in range(m.first_column - 1, min(m.last_column, len(header))):
                if i in claimed:
                    raise TableError("xlsx_unreadable")  # overlapping merged ranges: made by hand, or damaged
                claimed.add(i)
                empty = i >= len(cells) or cells[i] is None
                if header[i] and empty and (number, i + 1) != (m.first_row, m.first_column):
                    found.append((header[i], m.ref, m.first))
        self.explained += len(found)
        if self.explained >= self.MAX_EXPLAINED:
            self.pending, self.active = [], []
        return found


def _undimensioned(sheet: Any) -> Any:
    sheet.reset_dimensions()
    return sheet


def _within(rows: list[Any], most: int | None) -> None:
    """Reading stops at the first row past the limit: a huge file is refused before it fills the memory."""
    if most is not None and len(rows) > most:
        raise TableError("too_many_rows", n=most)


def read_table(body: bytes, filename: str = "", most: int | None = None) -> Table:
    """The file's rows, at most `most` of them (TableError "too_many_rows" beyond)."""
    return read_xlsx(body, most) if sniff_format(body, filename) == "xlsx" else read_csv(body, most)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return value if isinstance(value, (int, float, str)) else str(value)


# Text a spreadsheet would run as a formula (OWASP "CSV injection"): any member's public text reaches other
# members', operators' and government's exports, so it must stay text there.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def _text_cell(value: Any) -> Any:
    """A CSV cell: text that starts like a formula gets a leading apostrophe, which spreadsheets show as text
    (and `read_csv` takes off again, so an export imports back as it was; text that starts with an apostrophe
    gets one more, for the same reason). A number, a loss included (-1500000.00), stays a number."""
    value = _cell(value)
    if not isinstance(value, str) or NUMBER.fullmatch(value):
        return value
    return "'" + value if value.startswith((*FORMULA_START, "'")) else value


def _unquoted(value: Any) -> Any:
    """The cell as exported before `_text_cell` quoted it: one apostrophe off where a formula start or another
    apostrophe follows (a hand-written "'abc" keeps its apostrophe)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith((*FORMULA_START, "'")):
        return value[1:]
    return value


def write_csv(columns: Sequence[str], rows: Iterator[Sequence[Any]] | Sequence[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, which Excel needs to open Chinese text correctly."""
    return b"".join(csv_chunks(columns, rows))


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[Any]], batch: int = 1000) -> Iterator[bytes]:
    """`write_csv` a batch of rows at a time, for a download that is sent as it is read."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(columns)
    yield "\ufeff".encode() + _drained(out)
    for n, row in enumerate(rows, start=1):
        writer.writerow([_text_cell(v) for v in row])
        if n % batch == 0:
            yield _drained(out)
    if last := _drained(out):
        yield last


def _drained(out: io.StringIO) -> bytes:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text.encode("utf-8")


def write_xlsx(columns: Sequence[str], rows: Iterator[Sequence[Any]] | Sequence[Sequence[Any]], title: str) -> bytes:
    out = io.BytesIO()
    xlsx_into(out, columns, rows, title)
    return out.getvalue()


def xlsx_into(out: IO[bytes], columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> None:
    """The workbook written into `out` (a temporary file, for a large download), row by row (openpyxl's
    write-only mode keeps no sheet in memory)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "export")
    sheet.append(list(columns))
    for row in rows:
        cells = []
        for v in row:
            value = _cell(v)
            if isinstance(value, str):  # control characters (pasted from Word, say) no workbook may hold: dropped,
                value = ILLEGAL_CHARACTERS_RE.sub("", value)  # so that one member's text cannot stop every export
            cell = WriteOnlyCell(sheet, value=value)
            if cell.data_type == "f":  # openpyxl takes any text starting with "=" for a formula: keep it text
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    book.save(out)


def write_json(columns: Sequence[str], rows: Iterator[Sequence[Any]] | Sequence[Sequence[Any]]) -> bytes:
    return b"".join(json_chunks(columns, rows))


def json_chunks(columns: Sequence[str], rows: Iterable[Sequence[Any]], batch: int = 1000) -> Iterator[bytes]:
    """A JSON array of one object per row, a line each, sent a batch of rows at a time."""
    lines: list[str] = []
    count = 0
    for row in rows:
        item = {
            c: (v if v is None or isinstance(v, (int, float, str, list)) else str(v))
            for c, v in zip(columns, row, strict=True)
        }
        lines.append(("[\n" if count == 0 else ",\n") + json.dumps(item, ensure_ascii=False))
        count += 1
        if len(lines) == batch:
            yield "".join(lines).encode("utf-8")
            lines = []
    yield ("".join(lines) + "\n]\n" if count else "[]\n").encode("utf-8")
