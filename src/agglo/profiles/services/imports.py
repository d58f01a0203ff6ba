"""Bulk import of organizations and facts from CSV or XLSX: every bad row reported, all or nothing, idempotent.

A dry run checks every row and writes nothing. A real run checks every row first and writes only if all are good,
in one transaction. Rows are matched to what is stored by natural keys (an organization's credit code; a statement's
organization and year; an IP asset's organization, kind and number; a capability's organization and term), so
importing the same file again changes nothing. Facts are checked by the same rules as single edits.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.access import policy
from agglo.common.audit import record_many
from agglo.common.bulk import insert_rows, max_pk
from agglo.common.errors import DomainError, Forbidden, ValidationFailed
from agglo.profiles.fields import INFO_COLUMNS, Problem, ProblemError, coerce
from agglo.profiles.kinds import KINDS, ORG_COLUMNS, FactKind
from agglo.profiles.messages import RULES, warning_dicts, word
from agglo.profiles.models import CapabilityTerm, ImportRun, Source
from agglo.profiles.rules import growth_warning, normalize_ip_number
from agglo.profiles.services.facts import model_values, prepare, snapshot
from agglo.profiles.signals import facts_imported
from agglo.profiles.tabular import Table, TableError, read_table
from agglo.registry import uscc
from agglo.registry.models import Organization
from agglo.registry.validation import STATUS_RULE

IMPORT_KINDS = ("organizations", "financials", "ip", "capabilities")
MAX_ROWS = 200_000
MAX_ERRORS = 1000  # problems listed in an answer (and kept with the run); all are counted
BATCH = 1000
ORG_NUMBERS = ("founded_year", "headcount")  # the organization columns that are numbers
ORG_STATUS = ("unknown_column", "status")  # an organizations file's status column: refused with the rule
TABLE_RULES = {
    "format_mismatch": gettext_lazy("The file is %(actual)s but its name ends in .%(ext)s."),
    "format_unsupported": gettext_lazy("Give a .csv or .xlsx file, not .%(ext)s."),
    "no_header": gettext_lazy("The first row must name the columns."),
    "duplicate_columns": gettext_lazy("Columns named twice: %(columns)s."),
    "not_xlsx": gettext_lazy(
        "The file's name ends in .xlsx but it is not an Excel workbook: save it again as .xlsx, or as CSV UTF-8."
    ),
    "encoding": gettext_lazy(
        "The file is not UTF-8 text (row %(row)s, byte %(position)s): in Excel or WPS, save it as “CSV UTF-8”."
    ),
    "csv_syntax": gettext_lazy("The CSV file is malformed at row %(row)s: %(detail)s."),
    "cell_too_long": gettext_lazy("Row %(row)s has a cell of more than %(n)s characters."),
    "no_rows": gettext_lazy("The file has no rows below its header: there is nothing to import."),
    "too_many_rows": gettext_lazy("At most %(n)d rows per file."),
    "xlsx_unreadable": gettext_lazy(
        "The XLSX file cannot be read: it is damaged or not a workbook. Open it in Excel or WPS and save it again."
    ),
    "too_many_rows_scanned": gettext_lazy(
        "The sheet has more than %(n)d rows, counting empty ones (cells of spaces, or formatting below the data): "
        "delete the rows below the data and save it again."
    ),
    "too_many_columns": gettext_lazy(
        "Row %(row)s of the sheet has cells past column %(n)d: delete the columns right of the data (or the cells "
        "formatted there) and save it again."
    ),
    "xlsx_text_too_large": gettext_lazy(
        "The workbook's text unpacks to more than %(mb)d MB: save only the rows to import, or split them into "
        "several files."
    ),
    "xlsx_too_large": gettext_lazy(
        "The workbook unpacks to more than %(mb)d MB: save only the rows to import, or split them into several files."
    ),
    "several_sheets": gettext_lazy(
        "Only the first sheet (%(first)s) is read, but other sheets hold data too (%(others)s): move the rows to "
        "the first sheet, or delete the other sheets."
    ),
    "nul_header": gettext_lazy("A column name in the first row holds a NUL character; remove it."),
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    rule: str
    message: str


@dataclass
class ImportResult:
    kind: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS, by row
    applied: bool = False
    run_id: int | None = None
    errors_total: int = 0


Progress = Callable[[int, int], None]


def _row_error(row: int, problem: Problem) -> RowError:
    return RowError(row, problem.field, problem.rule, word(problem))


def size_check(size: int) -> None:
    """An import file's size within AGGLO_IMPORT_MAX_BYTES: the pages and the API ask before they read an upload."""
    most = settings.AGGLO_IMPORT_MAX_BYTES
    if size > most:
        raise ValidationFailed(
            {
                "file": [
                    _("At most %(most)s MB per file (this one has %(size)s MB): split it.")
                    % {"most": f"{most / 2**20:.0f}", "size": f"{size / 2**20:.1f}"}
                ]
            }
        )


def table_read(body: bytes, filename: str) -> Table:
    """The rows of an uploaded file; ValidationFailed on `file`, in words, when it cannot be read."""
    try:
        return read_table(body, filename, most=MAX_ROWS)
    except TableError as exc:
        template = TABLE_RULES.get(exc.rule, exc.rule)
        raise ValidationFailed({"file": [str(template) % exc.params if exc.params else str(template)]}) from None


def import_file(
    *,
    actor: Any,
    kind: str,
    body: bytes,
    filename: str,
    dry_run: bool,
    source_note: str = "",
    progress: Progress | None = None,
) -> ImportResult:
    """Check, and unless `dry_run` apply, one file of `kind`; raises ValidationFailed for an unreadable file."""
    if kind not in IMPORT_KINDS:
        raise ValidationFailed({"kind": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(IMPORT_KINDS)}]})
    if kind == "organizations" and not policy.is_operator(actor):
        raise Forbidden(_("Only operators import organizations."))
    if not (policy.is_operator(actor) or policy.active_organization_ids(actor)):
        raise Forbidden(_("Only members and operators import data."))
    if not body:
        raise ValidationFailed({"file": [_("The file is empty.")]})
    size_check(len(body))
    if len(source_note) > 200:
        raise ValidationFailed(
            {"source_note": [_("At most %(max)d characters (has %(n)d).") % {"max": 200, "n": len(source_note)}]}
        )
    started = time.perf_counter()
    table = table_read(body, filename)
    result = ImportResult(kind=kind, dry_run=dry_run, rows=len(table.rows))
    result.errors = [e for row_no, row in table.rows for e in unreadable(row_no, row)]
    if not table.rows:  # a header alone (its rows left on another sheet, or lost): not a success of nothing
        result.errors.append(RowError(1, "", "no_rows", str(TABLE_RULES["no_rows"])))
    table = Table(table.header, [(row_no, row) for row_no, row in table.rows if not unreadable(row_no, row)])
    note = (source_note or filename)[:200]
    if kind == "organizations":  # checked whole before the write lock is taken, and written only if all is well
        planned = _organizations_checked(actor, table, result, progress)
        if not result.errors and not dry_run:
            with transaction.atomic():
                _organizations_written(actor, planned, result, progress)
                if result.errors:
                    transaction.set_rollback(True)  # all or nothing
    else:
        with transaction.atomic():
            _facts(actor, KINDS[kind], table, result, note, progress, dry_run)
            if result.errors or dry_run:
                transaction.set_rollback(True)  # all or nothing: a bad row undoes rows already written
    result.errors.sort(key=lambda e: e.row)
    # a file of bad rows answers with the first ones and their count, not an answer many times its size
    result.errors_total = len(result.errors)
    result.errors = result.errors[:MAX_ERRORS]
    if result.errors:  # what a refused file would have done is not what it did: nothing
        result.created = result.updated = result.unchanged = 0
    result.applied = not result.errors and not dry_run
    if not dry_run:
        run = ImportRun.objects.create(
            kind=kind,
            filename=filename[:200],
            sha256=hashlib.sha256(body).hexdigest(),
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            dry_run=dry_run,
            status=ImportRun.Status.APPLIED if result.applied else ImportRun.Status.REFUSED,
            rows=result.rows,
            created=result.created if result.applied else 0,
            updated=result.updated if result.applied else 0,
            unchanged=result.unchanged if result.applied else 0,
            errors=[e.__dict__ for e in result.errors],
            duration_ms=int((time.perf_counter() - started) * 1000),
        )
        result.run_id = run.pk
    return result


def unreadable(row_no: int, row: Mapping[str, Any]) -> list[RowError]:
    """What the reader found wrong with a row before any column is checked, for every kind of import: cells past
    the last column; a formula the file holds no result of (its value is unknown, not empty: an update would blank
    the field); a NUL character, which no database stores; a cell a merge left empty (its value is in another
    row's or column's cell, not missing). Such a row is not checked further."""
    errors = []
    if row.get("__extra__"):
        errors.append(RowError(row_no, "", "extra_cells", str(RULES["extra_cells"]) % {"n": row["__extra__"]}))
    errors += [
        RowError(row_no, column, "formula_unsaved", str(RULES["formula_unsaved"]))
        for column in row.get("__formula__", ())
    ]
    errors += [RowError(row_no, column, "nul", str(RULES["nul"])) for column in row.get("__nul__", ())]
    errors += [
        RowError(row_no, column, "merged", str(RULES["merged"]) % {"range": ref, "first": first})
        for column, ref, first in row.get("__merged__", ())
    ]
    return errors


def _header_errors(table: Table, allowed: set[str], required: set[str]) -> list[RowError]:
    if not set(table.header) & allowed:  # data, or names of its own, where the names belong: one error
        named = ", ".join(sorted(required))
        found = ", ".join(h for h in table.header[:5] if h)
        said = _("No name in the first row is a column this import knows (it reads: %(found)s).") % {"found": found}
        return [
            RowError(
                1,
                "",
                "no_header",
                said + " " + _("Name the columns as the export does, such as: %(names)s.") % {"names": named},
            )
        ]
    errors = [
        RowError(1, c, "unknown_column", str(RULES["unknown_column"])) for c in table.header if c and c not in allowed
    ]
    for column in sorted(required - set(table.header)):
        errors.append(RowError(1, column, "required", str(RULES["required"])))
    return errors


def _as_text(column: str, value: Any) -> Any:
    """An organization cell as its field takes it: a number a spreadsheet typed into a text column (a phone
    number, a postcode) is that text, 13800138000 not 13800138000.0."""
    if value is None:
        return ""
    if column in ORG_NUMBERS or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


def _code(row: Mapping[str, Any]) -> str:
    """The row's credit code as the registry keeps it: spaces, hyphens and lower case typed or pasted are not part
    of it (so "9135 0200-ru37…" finds its organization)."""
    return uscc.normalize(str(row.get("uscc") or ""))


def _row_key(row: Mapping[str, Any]) -> str:
    """Which organization a row is about: its credit code, or for one registered abroad (no code), its foreign
    registry id as "abroad:<id>"."""
    code = _code(row)
    abroad = str(row.get("foreign_registry_id") or "").strip()
    return code or (f"abroad:{abroad}" if abroad else "")


def _organization_keys(actor: Any, table: Table) -> tuple[dict[str, tuple[int, int | None]], set[int] | None]:
    """{row key (`_row_key`): (id, founding year)} for the organizations in the file; and the ids the actor may
    edit (None: all). A foreign registry id that two organizations share names neither."""
    keys = {_row_key(r) for _, r in table.rows} - {""}
    codes = sorted(k for k in keys if not k.startswith("abroad:"))
    found: dict[str, tuple[int, int | None]] = {}
    for i in range(0, len(codes), 500):
        for pk, code, founded in Organization.objects.filter(uscc__in=codes[i : i + 500]).values_list(
            "pk", "uscc", "founded_year"
        ):
            found[code] = (pk, founded)
    abroad = sorted(k.removeprefix("abroad:") for k in keys if k.startswith("abroad:"))
    for i in range(0, len(abroad), 500):
        rows = Organization.objects.filter(uscc__isnull=True, foreign_registry_id__in=abroad[i : i + 500])
        shared = Counter(rows.values_list("foreign_registry_id", flat=True))
        for pk, registry_id, founded in rows.values_list("pk", "foreign_registry_id", "founded_year"):
            if shared[registry_id] == 1:
                found[f"abroad:{registry_id}"] = (pk, founded)
    if policy.is_operator(actor):
        return found, None
    return found, {o for o in policy.active_organization_ids(actor) if policy.is_org_admin(actor, o)}


def _stored_keys(kind: FactKind, org_ids: set[int]) -> dict[tuple[Any, ...], tuple[int, Any]]:
    """{natural key: (pk, revenue)} of the stored facts of these organizations; keys only, so this stays cheap."""
    key_columns = ["term__code" if k == "term" else k for k in kind.natural_key]
    extra = ["revenue"] if kind.name == "financials" else []
    out: dict[tuple[Any, ...], tuple[int, Any]] = {}
    ids = sorted(org_ids)
    for i in range(0, len(ids), 500):
        qs = kind.model.objects.filter(organization_id__in=ids[i : i + 500])  # type: ignore[attr-defined]
        for row in qs.values_list("pk", "organization_id", *key_columns, *extra):
            key = row[1 : 2 + len(key_columns)]
            out[key] = (row[0], row[-1] if extra else None)
    return out


def _stored_values(kind: FactKind, pks: list[int]) -> dict[int, dict[str, Any]]:
    """The stored fields of the facts a file updates, as plain values."""
    names = [n for n in kind.specs if n != "term"]
    columns = ["pk", "organization_id", "source", *names] + (["term__code"] if kind.name == "capabilities" else [])
    out = {}
    for i in range(0, len(pks), 500):
        for row in kind.model.objects.filter(pk__in=pks[i : i + 500]).values(*columns):  # type: ignore[attr-defined]
            if kind.name == "capabilities":
                row["term"] = row.pop("term__code")
            out[row["pk"]] = row
    return out


def _key_of(kind: FactKind, data: dict[str, Any]) -> tuple[Any, ...] | None:
    """The natural key of a raw row, or None when a key field is bad (the full check then reports why)."""
    try:
        values = [coerce(kind.specs[k], data.get(k)) for k in kind.natural_key]
    except ProblemError:
        return None
    if kind.name == "ip":
        values[1] = normalize_ip_number(values[0], values[1])
    return tuple(values)


def _facts(
    actor: Any, kind: FactKind, table: Table, result: ImportResult, note: str, progress: Progress | None, dry_run: bool
) -> None:
    header = _header_errors(
        table,
        set(kind.specs) | {"uscc", "foreign_registry_id", *INFO_COLUMNS},
        {"uscc"} | {n for n, s in kind.specs.items() if s.required},
    )
    result.errors += header
    if header:
        return
    today = timezone.localdate()
    orgs, editable = _organization_keys(actor, table)
    stored = _stored_keys(kind, {pk for pk, _f in orgs.values()})
    terms = {t.code: t for t in CapabilityTerm.objects.all()} if kind.name == "capabilities" else None
    operator = policy.is_operator(actor)
    source = Source.IMPORTED if operator else Source.SELF_DECLARED
    # Revenue by (organization, year), from the store and from this file, for the growth check.
    revenues = {k: v[1] for k, v in stored.items()} if kind.name == "financials" else {}
    seen: dict[tuple[Any, ...], int] = {}
    data_columns = [c for c in table.header if c in kind.specs]
    prepared = []
    deferred = []  # rows that update a stored fact: checked over its stored values, loaded in one pass below
    for n, (row_no, row) in enumerate(table.rows, start=1):
        if progress and n % BATCH == 0:
            progress(n, len(table.rows))
        code = _code(row)
        org = orgs.get(_row_key(row))
        if org is None or (editable is not None and org[0] not in editable):
            # say what is wrong with the code itself first: "not yours" for a typo sends the reader elsewhere
            flaw = uscc.problem(uscc.normalize(code)) if code else None
            abroad = not code and _row_key(row)
            rule = (
                "uscc_missing"
                if not code and not abroad
                else "uscc_invalid"
                if flaw
                else "unknown_organization"
                if operator
                else "not_yours"
            )
            if flaw and flaw.expected_check:
                rule, said = "check_digit", str(RULES["check_digit"]) % {"expected": flaw.expected_check}
            else:
                said = str(RULES[rule])
            result.errors.append(RowError(row_no, "foreign_registry_id" if abroad else "uscc", rule, said))
            continue
        org_id, founded = org
        data = {c: row.get(c) for c in data_columns}
        natural = _key_of(kind, data)
        key = (org_id, *natural) if natural is not None else None
        if key is not None and key in seen:
            result.errors.append(
                RowError(
                    row_no,
                    kind.natural_key[0],
                    "duplicate_in_file",
                    str(RULES["duplicate_in_file"]) % {"row": seen[key]},
                )
            )
            continue
        if key is not None:
            seen[key] = row_no
        if key is not None and key in stored:
            deferred.append((row_no, org_id, founded, data, stored[key][0]))
            continue
        values, errors, warnings = prepare(kind, data, today=today, founded_year=founded, terms=terms)
        if errors:
            result.errors += [_row_error(row_no, p) for p in errors]
            continue
        prepared.append((row_no, org_id, values, warnings, None))
    current_of = _stored_values(kind, [d[4] for d in deferred])
    for row_no, org_id, founded, data, pk in deferred:
        current = current_of[pk]
        base = {k: current[k] for k in kind.specs}  # columns the file leaves out keep their stored values
        values, errors, warnings = prepare(kind, data, current=base, today=today, founded_year=founded, terms=terms)
        if errors:
            result.errors += [_row_error(row_no, p) for p in errors]
            continue
        prepared.append((row_no, org_id, values, warnings, current))
    if result.errors:
        result.errors.sort(key=lambda e: e.row)
        return
    if kind.name == "financials":
        for _row, org_id, values, _w, _c in prepared:
            revenues[(org_id, values["year"])] = values["revenue"]
        for _row, org_id, values, warnings, _c in prepared:
            growth = growth_warning(values["revenue"], revenues.get((org_id, values["year"] - 1)))
            if growth is not None and growth not in warnings:
                warnings.append(growth)
    creates: list[tuple[int, dict[str, Any]]] = []
    updates: list[tuple[dict[str, Any], dict[str, Any], list[str]]] = []
    for _row_no, org_id, values, warnings, current in prepared:
        stored_warnings = warning_dicts(warnings)
        if current is None:
            creates.append((org_id, {**values, "warnings": stored_warnings}))
            continue
        changed = [k for k in kind.specs if values.get(k) != current.get(k)]
        if not changed:
            result.unchanged += 1
            continue
        updates.append((current, {**values, "warnings": stored_warnings}, changed))
    result.created, result.updated = len(creates), len(updates)
    if not dry_run:
        _write(actor, kind, creates, updates, source, note, progress, len(table.rows))


def _write(actor, kind: FactKind, creates, updates, source: str, note: str, progress, total: int) -> None:
    terms = {t.code: t for t in CapabilityTerm.objects.all()} if kind.name == "capabilities" else None
    events: list[tuple[Any, dict[str, Any], int]] = []
    event = f"profiles.{kind.name}_imported"
    now = timezone.now()
    subject_type = kind.model._meta.label_lower
    if creates:
        names = [n for n in kind.specs if n != "source_note"]
        columns = ["organization_id", *("term_id" if n == "term" else n for n in names)]
        columns += ["source_note", "source", "warnings", "created_at", "updated_at"]

        def rows():
            for n, (org_id, values) in enumerate(creates, start=1):
                cells = [terms[values[k]].pk if k == "term" else values.get(k) for k in names]  # type: ignore[index]
                yield [org_id, *cells, values.get("source_note") or note, source, values["warnings"], now, now]
                if progress and n % BATCH == 0:
                    progress(n, total)

        before = max_pk(kind.model)
        insert_rows(kind.model, columns, rows())
        key_columns = ["term__code" if k == "term" else k for k in kind.natural_key]
        stored = kind.model.objects.filter(pk__gt=before).values_list("pk", "organization_id", *key_columns)  # type: ignore[attr-defined]
        pk_of = {tuple(row[1:]): row[0] for row in stored}
        for org_id, values in creates:
            pk = pk_of[(org_id, *(values[k] for k in kind.natural_key))]
            payload = {"before": {}, "after": snapshot({k: v for k, v in values.items() if k != "warnings"})}
            events.append((pk, payload, org_id))
    if updates:
        instances = {o.pk: o for o in kind.model.objects.filter(pk__in=[c["pk"] for c, _v, _ch in updates])}  # type: ignore[attr-defined]
        changed_fields: set[str] = {"source", "source_note", "verified_by", "verified_at", "warnings", "updated_at"}
        objs = []
        for current, values, changed in updates:
            obj = instances[current["pk"]]
            for name, value in model_values(kind, {k: values[k] for k in changed}, terms).items():
                setattr(obj, name, value)
                changed_fields.add(name)
            obj.source, obj.verified_by, obj.verified_at, obj.warnings = source, None, None, values["warnings"]
            obj.source_note = values.get("source_note") or note
            obj.updated_at = timezone.now()
            objs.append(obj)
            payload = {"before": snapshot(current, changed), "after": snapshot(values, changed)}
            if current["source"] != source:
                payload["source"] = {"before": current["source"], "after": source}
            events.append((obj.pk, payload, current["organization_id"]))
        kind.model.objects.bulk_update(objs, sorted(changed_fields), batch_size=BATCH)  # type: ignore[attr-defined]
    record_many(event, actor=actor, subject_type=subject_type, rows=events, group=kind.group)
    facts_imported.send(sender=kind.model, organization_ids=sorted({org_id for _pk, _payload, org_id in events}))


def _foreign_key(region: Any, registry_id: Any) -> str:
    """The natural key of an organization registered abroad: country (or region) code and registry id."""
    return f"{str(region or '').strip().upper()}/{str(registry_id).strip()}"


@dataclass(frozen=True)
class _OrgRow:
    """A checked row of an organizations file: a new organization's fields, or the changes to one."""

    row_no: int
    data: dict[str, Any]
    current: Organization | None  # None: a new one
    changed: tuple[str, ...] = ()


def _organizations_checked(actor: Any, table: Table, result: ImportResult, progress: Progress | None) -> list[_OrgRow]:
    """Every row checked by the registry's own checks, writing nothing: a dry run, or a file with a bad row, holds
    no write lock (on SQLite one lock stops the whole site: data review 58 H1). Counts what it would do."""
    from agglo.registry.services import organization_create_checked, organization_update_checked

    header = [
        # a member's standing is not a column of its data: it changes through the registry's service alone
        RowError(1, "status", "status_elsewhere", str(STATUS_RULE)) if (e.rule, e.column) == ORG_STATUS else e
        for e in _header_errors(table, set(ORG_COLUMNS), {"name_zh", "kind", "region"})
    ]
    result.errors += header
    if header:
        return []
    by_code = {o.uscc: o for o in Organization.objects.filter(uscc__in=[_code(r) for _, r in table.rows])}
    # an organization registered abroad has no credit code: its country and its registry's id name it
    abroad = {str(r.get("foreign_registry_id") or "").strip() for _, r in table.rows} - {""}
    by_code |= {
        _foreign_key(o.region_id, o.foreign_registry_id): o
        for o in Organization.objects.filter(uscc__isnull=True, foreign_registry_id__in=abroad)
    }
    seen: dict[str, int] = {}
    planned: list[_OrgRow] = []
    for n, (row_no, row) in enumerate(table.rows, start=1):
        if progress and n % 100 == 0:
            progress(n, len(table.rows))
        data = {k: _as_text(k, v) for k, v in row.items() if k in ORG_COLUMNS}
        if isinstance(data.get("tags"), str):
            data["tags"] = [t.strip() for t in data["tags"].replace("；", ";").split(";") if t.strip()]
        for numeric in ORG_NUMBERS:
            if data.get(numeric) == "":
                data[numeric] = None
        code = _code(data)
        column = "uscc"
        if not code and str(data.get("foreign_registry_id") or "").strip():
            code, column = _foreign_key(data.get("region"), data["foreign_registry_id"]), "foreign_registry_id"
        if code:
            if code in seen:
                result.errors.append(
                    RowError(row_no, column, "duplicate_in_file", str(RULES["duplicate_in_file"]) % {"row": seen[code]})
                )
                continue
            seen[code] = row_no
        current = by_code.get(code) if code else None
        try:
            if current is None:
                organization_create_checked(actor=actor, data=dict(data), status=Organization.Status.MEMBER)
                planned.append(_OrgRow(row_no, data, None))
                result.created += 1
            else:
                changed = organization_update_checked(actor=actor, organization=current, data=dict(data))
                if changed:
                    planned.append(_OrgRow(row_no, data, current, tuple(changed)))
                    result.updated += 1
                else:
                    result.unchanged += 1
        except DomainError as exc:
            for column, messages in (exc.errors or {"": [exc.message]}).items():
                result.errors += [RowError(row_no, column, "invalid", m) for m in messages]
    return planned


def _organizations_written(actor: Any, planned: list[_OrgRow], result: ImportResult, progress: Progress | None) -> None:
    """The checked rows through the registry's own services, inside the import's transaction; a row refused now
    (another registration of its code in the meantime) is an error, and the caller rolls everything back."""
    from agglo.registry.services import organization_create, organization_update

    for n, row in enumerate(planned, start=1):
        if progress and n % 100 == 0:
            progress(n, len(planned))
        try:
            with transaction.atomic():
                if row.current is None:
                    organization_create(actor=actor, data=row.data, status=Organization.Status.MEMBER)
                else:
                    data = {f: row.data[f] for f in row.changed if f in row.data}
                    organization_update(actor=actor, organization=row.current, data=data)
        except DomainError as exc:
            for column, messages in (exc.errors or {"": [exc.message]}).items():
                result.errors += [RowError(row.row_no, column, "invalid", m) for m in messages]
