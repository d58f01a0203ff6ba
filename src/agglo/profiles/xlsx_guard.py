"""What an uploaded workbook may hold, checked before openpyxl reads it.

The upload limit counts packed bytes; a few hundred kilobytes can unpack to gigabytes, and openpyxl holds a whole
row (padded to its last column) and the whole table of shared text in memory. So the parts openpyxl will read are
found as it finds them (the package's relations, then the workbook's), the zip's account of their sizes is checked
(Python's zipfile never reads a part past its stated size), and each sheet is parsed as a stream with an XML
parser, no document type allowed, for rows wider than any import takes (reviews 49 F2/F3, 50 N1/N2, 51 R1–R7).
A part that cannot be read is a damaged workbook. The same pass notes what the reader needs and openpyxl's
read-only mode does not give: formulas without their results, and the first sheet's merged cells."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO
from xml.parsers import expat

from agglo.profiles.tabular import TableError

XLSX_MAX_UNPACKED = 256 * 1024 * 1024
XLSX_MAX_SHARED_STRINGS = 32 * 1024 * 1024  # read whole (the sheets are streamed)
# Cells a row may hold, or the column its last cell may reach: imports have a few dozen columns. A row of a million
# cells took 0.9 GB to read; one cell at column XFD padded every row to 16,384 cells.
MAX_COLUMNS = 1000
MAX_RELATIONS_BYTES = 1024 * 1024  # the package's small parts read whole: relations, content types
MAX_MERGES = 10_000  # merged ranges kept to explain rows with (beyond them, rows are only refused as incomplete)

WORKSHEET = "/worksheet"
_REF = re.compile(r"\s*([A-Za-z]{1,3})\s*\d*\s*")
_CHUNK = 1 << 20


class _Refused(Exception):
    """Inside the parser's handlers: the sheet breaks a rule (a TableError carried out of expat)."""

    def __init__(self, error: TableError) -> None:
        self.error = error


@dataclass(frozen=True)
class Merge:
    """A merged range of cells: only its first (top-left) cell holds a value."""

    first_column: int
    first_row: int
    last_column: int
    last_row: int
    ref: str  # as the sheet writes it, "B3:B5"

    @property
    def first(self) -> str:
        return self.ref.split(":")[0]


@dataclass
class Scan:
    # some cell holds a formula without its result (only then does the reader load the workbook a second time,
    # as written, to name such cells: data review 58 M4)
    unsaved: bool = False
    merged: list[Merge] = field(default_factory=list)  # the first sheet's


def workbook_checked(body: bytes) -> Scan:
    """TableError when the workbook unpacks too large, a sheet has a row wider than MAX_COLUMNS, or a part openpyxl
    would read cannot be read. Else what the reader needs to know of it (`Scan`)."""
    try:
        book = zipfile.ZipFile(io.BytesIO(body))
    except (zipfile.BadZipFile, OSError, ValueError):
        return Scan(unsaved=True)  # not a zip: openpyxl names the damage
    try:
        with book:
            return _checked(book)
    except TableError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, NotImplementedError, RuntimeError):
        raise TableError("xlsx_unreadable") from None  # a compression or encryption zipfile cannot read, and so on


def _checked(book: zipfile.ZipFile) -> Scan:
    parts = {p.filename: p for p in book.infolist()}
    if sum(p.file_size for p in parts.values()) > XLSX_MAX_UNPACKED:
        raise TableError("xlsx_too_large", mb=XLSX_MAX_UNPACKED // (1024 * 1024))
    # as openpyxl finds them: the workbook and the shared text by their content types, the sheets by the
    # workbook's relations (and any part typed as a sheet)
    types = _content_types(book, parts)
    workbook = next((name for name, kind in types.items() if kind.endswith(".main+xml")), "xl/workbook.xml")
    shared = [name for name, kind in types.items() if "sharedStrings" in kind]
    if sum(parts[s].file_size for s in shared if s in parts) > XLSX_MAX_SHARED_STRINGS:
        raise TableError("xlsx_text_too_large", mb=XLSX_MAX_SHARED_STRINGS // (1024 * 1024))
    folder, name = posixpath.split(workbook)
    sheets = _targets(book, parts, posixpath.join(folder, "_rels", name + ".rels"), folder, WORKSHEET)
    sheets += [name for name, kind in types.items() if "worksheet+xml" in kind and name not in sheets]
    first = _first_sheet(book, parts, workbook) or (sheets[0] if sheets else None)
    scan = Scan()
    for sheet in sheets:
        if sheet in parts:
            with book.open(parts[sheet]) as stream:
                found = _rows_checked(stream)
            scan.unsaved = scan.unsaved or found.unsaved
            if sheet == first:
                scan.merged = found.merged
    return scan


def _first_sheet(book: zipfile.ZipFile, parts: dict, workbook: str) -> str | None:
    """The part of the workbook's first sheet, as openpyxl finds it: the first <sheet> of the workbook, by its
    relation's id."""
    if workbook not in parts or parts[workbook].file_size > MAX_RELATIONS_BYTES:
        return None
    ids: list[str] = []

    def sheet(tag: str, attrs: dict[str, str]) -> None:
        if tag.rpartition("}")[2] == "sheet" and not ids:
            ids.extend(v for k, v in attrs.items() if k.rpartition("}")[2] == "id" and k != "sheetId")

    _parse(book.read(parts[workbook]), sheet)
    folder, name = posixpath.split(workbook)
    relations = posixpath.join(folder, "_rels", name + ".rels")
    if not ids or relations not in parts or parts[relations].file_size > MAX_RELATIONS_BYTES:
        return None
    found: list[str] = []

    def relation(tag: str, attrs: dict[str, str]) -> None:
        if tag.rpartition("}")[2] == "Relationship" and attrs.get("Id") == ids[0]:
            target = attrs.get("Target", "")
            found.append(
                posixpath.normpath(target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target))
            )

    _parse(book.read(parts[relations]), relation)
    return found[0] if found else None


def _content_types(book: zipfile.ZipFile, parts: dict) -> dict[str, str]:
    """The package's parts by the content type [Content_Types].xml gives them (paths as in the zip)."""
    types: dict[str, str] = {}
    manifest = "[Content_Types].xml"
    if manifest not in parts or parts[manifest].file_size > MAX_RELATIONS_BYTES:
        return types

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag.rpartition("}")[2] == "Override" and attrs.get("PartName"):
            types[posixpath.normpath(attrs["PartName"].lstrip("/"))] = attrs.get("ContentType", "")

    _parse(book.read(parts[manifest]), start)
    return types


def _targets(book: zipfile.ZipFile, parts: dict, relations: str, folder: str, kind: str) -> list[str]:
    """The parts a relations part names for one kind of relation, as paths in the zip."""
    if relations not in parts or parts[relations].file_size > MAX_RELATIONS_BYTES:
        return []
    found: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag.rpartition("}")[2] == "Relationship" and attrs.get("Type", "").endswith(kind):
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            found.append(posixpath.normpath(path))

    _parse(book.read(parts[relations]), start)
    return found


def _rows_checked(stream: IO[bytes]) -> Scan:
    """Whether some cell of the sheet holds a formula (<f>) without its cached result (<v>); its merged ranges."""
    state = {"row": 0, "cells": 0, "formula": 0, "value": 0, "in_value": 0, "unsaved": 0}
    merged: list[Merge] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition("}")[2]
        if local == "mergeCell":
            if len(merged) < MAX_MERGES and (merge := _merge(attrs.get("ref", ""))) is not None:
                merged.append(merge)
        elif local == "f":
            state["formula"] = 1
        elif local == "v":
            state["in_value"] = 1
        elif local == "row":
            number = attrs.get("r", "").strip()
            state["row"] = int(number) if number.isdigit() else state["row"] + 1
            state["cells"] = 0
        elif local == "c":
            state["cells"] += 1
            ref = _REF.fullmatch(attrs.get("r", ""))
            column = _column(ref.group(1)) if ref else state["cells"]
            if max(state["cells"], column) > MAX_COLUMNS:
                raise _Refused(TableError("too_many_columns", n=MAX_COLUMNS, row=state["row"]))
            state["formula"] = state["value"] = 0

    def end(tag: str) -> None:
        local = tag.rpartition("}")[2]
        if local == "v":
            state["in_value"] = 0
        elif local == "c" and state["formula"] and not state["value"]:
            state["unsaved"] = 1

    def text(data: str) -> None:  # an empty <v/> (as openpyxl writes one) is no result
        if state["in_value"] and data.strip():
            state["value"] = 1

    _parse(stream, start, end, text)
    return Scan(bool(state["unsaved"]), merged)


_RANGE = re.compile(r"\s*([A-Za-z]{1,3})(\d+):([A-Za-z]{1,3})(\d+)\s*")


def _merge(ref: str) -> Merge | None:
    match = _RANGE.fullmatch(ref)
    if match is None:
        return None  # a range openpyxl would not read either: no explanation rather than a wrong one
    a, r1, b, r2 = match.groups()
    c1, c2, n1, n2 = _column(a), _column(b), int(r1), int(r2)
    return Merge(min(c1, c2), min(n1, n2), max(c1, c2), max(n1, n2), ref.strip().upper())


def _parse(
    source: bytes | IO[bytes],
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    text: Callable[[str], None] | None = None,
) -> None:
    """Parse XML as a stream, calling `start(tag, attributes)` (and `end(tag)`, `text(data)`) per element; a
    document type (and so any entity) is refused, and so is XML that does not parse."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text

    def no_doctype(*_args: object) -> None:
        raise _Refused(TableError("xlsx_unreadable"))

    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_doctype  # type: ignore[assignment]
    try:
        if isinstance(source, bytes):
            parser.Parse(source, True)
        else:
            while chunk := source.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _Refused as refused:
        raise refused.error from None
    except expat.ExpatError:
        raise TableError("xlsx_unreadable") from None


def _column(letters: str) -> int:
    """A column's number from its letters: A → 1, Z → 26, AA → 27, XFD → 16,384 (either case, as openpyxl reads)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n
