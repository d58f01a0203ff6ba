"""Writes to dated facts (statements, ratings, IP, capabilities): create, update, delete, verify, evidence.

Each write checks permission, validates with the same rules as imports (profiles.fields, profiles.rules), and
records before and after in the audit trail under the organization and the fact's field group.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from agglo.common.uploads import check_documents, store_upload
from agglo.common.versions import version_check
from agglo.profiles import rules
from agglo.profiles.fields import VERIFIED_SOURCES, Problem, coerce_all, unknown_fields
from agglo.profiles.kinds import KINDS, FactKind, kind_of
from agglo.profiles.messages import errors_of, warning_dicts
from agglo.profiles.models import CapabilityTerm, Fact, FinancialStatement, Source, StatementEvidence
from agglo.profiles.visibility import can_see_group, is_bank_officer
from agglo.registry.models import Organization

MAX_EVIDENCE = 10


def kind_named(name: str) -> FactKind:
    try:
        return KINDS[name]
    except KeyError:
        raise NotFound(_("No such kind of fact: %(kind)s.") % {"kind": name}) from None


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, CapabilityTerm):
        return value.code
    return value


def fact_values(fact: Fact) -> dict[str, Any]:
    """The fact's input fields as the specs name them (a capability's term by its code)."""
    kind = kind_of(fact)
    out = {}
    for name in kind.specs:
        out[name] = fact.term.code if name == "term" else getattr(fact, name)  # type: ignore[attr-defined]
    return out


def snapshot(values: Mapping[str, Any], names: Sequence[str] | None = None) -> dict[str, Any]:
    return {k: jsonable(values[k]) for k in (names if names is not None else values) if k in values}


def prepare(
    kind: FactKind,
    data: Mapping[str, Any],
    *,
    current: Mapping[str, Any] | None = None,
    today: dt.date,
    founded_year: int | None = None,
    previous_revenue: Decimal | None = None,
    terms: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[Problem], list[Problem]]:
    """(values, errors, warnings) for raw `data`, over the `current` values when updating. No database access:
    the caller passes the context (founding year, the previous year's revenue, the capability catalogue)."""
    typing = unknown_fields(kind.specs, data)
    values, problems = coerce_all(kind.specs, data, partial=current is not None)
    typing += problems
    # The rules between fields run on the fields that are good, so that one answer names every problem; a field
    # that is already wrong gets no second message from a rule that reads it.
    bad = {p.field for p in typing}
    merged = {k: v for k, v in {**(current or {}), **values}.items() if k not in bad}
    warnings: list[Problem] = []
    if kind.name == "financials":
        if merged.get("as_of") is None and merged.get("year") is not None and "as_of" not in bad:
            merged["as_of"] = min(dt.date(merged["year"], 12, 31), today)
        errors, warnings = rules.statement_problems(
            merged, today=today, founded_year=founded_year, previous_revenue=previous_revenue
        )
    else:
        if merged.get("as_of") is None and "as_of" not in bad:
            merged["as_of"] = today
        if kind.name == "ratings":
            errors = rules.rating_problems(merged, today=today)
        elif kind.name == "ip":
            if merged.get("kind") is not None and merged.get("number") is not None:
                merged["number"] = rules.normalize_ip_number(merged["kind"], merged["number"])
            errors = rules.ip_problems(merged, today=today)
            warnings = rules.ip_warnings(merged)
        else:
            errors = rules.rating_problems(
                {"as_of": merged.get("as_of"), "valid_until": merged.get("valid_until")}, today=today
            )
            if terms is not None and merged.get("term") is not None and merged["term"] not in terms:
                errors.append(Problem("term", "unknown_term"))
    errors = typing + [p for p in errors if p.field not in bad]
    if errors:
        return merged, errors, []
    if merged.get("valid_until") is None:
        merged["valid_until"] = max(kind.default_validity(merged), merged["as_of"] + dt.timedelta(days=1))
    return merged, errors, warnings


def model_values(kind: FactKind, values: Mapping[str, Any], terms: Mapping[str, Any] | None = None) -> dict[str, Any]:
    out = dict(values)
    if kind.name == "capabilities" and "term" in out:
        term = out.pop("term")
        out["term_id"] = terms[term].pk if terms is not None else CapabilityTerm.objects.get(code=term).pk
    return out


def _context(kind: FactKind, organization: Organization, raw: Mapping[str, Any]) -> dict[str, Any]:
    """What prepare() needs from the database for one fact: founding year, last year's revenue, the term."""
    context: dict[str, Any] = {"today": timezone.localdate(), "founded_year": organization.founded_year}
    if kind.name == "financials":
        try:
            year = int(str(raw.get("year")).strip())
        except (TypeError, ValueError):
            year = None
        if year is not None and not 1000 < year < 10000:  # no statement's year; and no number a database refuses
            year = None
        previous = FinancialStatement.objects.filter(organization=organization, year=(year or 0) - 1).first()
        context["previous_revenue"] = previous.revenue if previous else None
    if kind.name == "capabilities":
        code = str(raw.get("term") or "").strip()
        context["terms"] = {t.code: t for t in CapabilityTerm.objects.filter(code=code)}
    return context


def clean_fact(
    kind: FactKind, *, organization: Organization, data: Mapping[str, Any], current: Fact | None = None
) -> tuple[dict[str, Any], list[Problem]]:
    """Validated values of one fact, or ValidationFailed naming every bad field; Conflict for a duplicate."""
    base = fact_values(current) if current is not None else None
    context = _context(kind, organization, {**(base or {}), **data})
    values, errors, warnings = prepare(kind, data, current=base, **context)
    key = {k: values.get(k) for k in kind.natural_key}
    if kind.name == "capabilities":
        key = {"term__code": values.get("term")}
    clash = None not in key.values() and (
        kind.model.objects.filter(organization=organization, **key)  # type: ignore[attr-defined]
        .exclude(pk=current.pk if current is not None else None)
        .values_list("pk", flat=True)
        .first()
    )
    # a clash is said on the key's last field (an IP asset's number, a statement's year), naming the value as
    # stored: "ZL 2021 1638 4340.7" is recorded as ZL202116384340.7
    last = kind.natural_key[-1]
    said = _("Already recorded: %(key)s.") % {"key": jsonable(values.get(last))}
    if errors:  # a clash is said with the rest, so that one answer names every problem
        found = errors_of(errors)
        if clash:
            found.setdefault(last, []).append(said)
        raise ValidationFailed(found)
    if clash:
        # the record it clashes with, by id, so that a client changes that one instead (review 56 #13)
        shown = ", ".join(str(jsonable(v)) for v in key.values())
        raise Conflict(
            _("Already recorded: %(key)s, as id %(id)s.") % {"key": shown, "id": clash}, errors={last: [said]}
        )
    if kind.name == "ip":
        elsewhere = kind.model.objects.filter(kind=values["kind"], number=values["number"])  # type: ignore[attr-defined]
        if elsewhere.exclude(organization=organization).exists():
            warnings.append(Problem("number", "held_elsewhere"))
    return values, warnings


def _require_edit(actor: Any, organization: Organization) -> None:
    if not policy.can_edit_organization(actor, organization.pk):
        raise Forbidden(_("You may not edit this organization's data."))


def _audit(event: str, actor: Any, fact: Fact, payload: dict[str, Any]) -> None:
    kind = kind_of(fact)
    record(
        f"profiles.{kind.name}_{event}",
        actor=actor,
        subject=fact,
        payload=payload,
        organization_id=fact.organization_id,  # type: ignore[attr-defined]
        group=kind.group,
    )


def _save(fact: Fact) -> None:
    try:
        with transaction.atomic():
            fact.save()
    except IntegrityError as exc:  # a concurrent write of the same natural key
        raise Conflict(_("Already recorded."), errors={"__all__": [_("Already recorded.")]}) from exc


@transaction.atomic
def fact_create(*, actor: Any, organization: Organization, kind: str, data: Mapping[str, Any]) -> Fact:
    """Record a new fact for an organization; its admins and operators may. Platform ratings are operators' own."""
    fact_kind = kind_named(kind)
    _require_edit(actor, organization)
    values, warnings = clean_fact(fact_kind, organization=organization, data=data)
    fact = fact_kind.model(organization=organization, **model_values(fact_kind, values))
    if kind == "ratings" and values["rating_body"] == "platform":
        if not policy.is_operator(actor):
            raise ValidationFailed({"rating_body": [_("Only the platform gives platform ratings.")]})
        fact.source, fact.verified_by, fact.verified_at = Source.OPERATOR_VERIFIED, actor, timezone.now()
    fact.warnings = warning_dicts(warnings)
    _save(fact)
    _audit("created", actor, fact, {"before": {}, "after": snapshot(values)})
    return fact


def _as_it_is(fact: Fact, if_match: str | None) -> Fact:
    """The fact read again under its row lock when the caller names the version it read (`If-Match`), and that
    version checked; else the caller's copy."""
    if if_match is None:
        return fact
    current = type(fact).objects.select_for_update().get(pk=fact.pk)
    version_check(current, if_match)
    return current


@transaction.atomic
def fact_update(*, actor: Any, fact: Fact, data: Mapping[str, Any], if_match: str | None = None) -> Fact:
    """Change a fact's fields. A change voids its verification: the new figures were not the ones checked.
    `if_match`: the version the caller read (`common.versions`); a fact changed since is not changed."""
    fact_kind = kind_of(fact)
    organization = fact.organization  # type: ignore[attr-defined]
    _require_edit(actor, organization)
    fact = _as_it_is(fact, if_match)
    if fact_kind.name == "ratings" and fact.rating_body == "platform" and not policy.is_operator(actor):  # type: ignore[attr-defined]
        raise Forbidden(_("Platform ratings are changed by the platform only."))
    before = fact_values(fact)
    values, warnings = clean_fact(fact_kind, organization=organization, data=data, current=fact)
    changed = [k for k in values if values[k] != before.get(k)]
    new_warnings = warning_dicts(warnings)
    if not changed and new_warnings == fact.warnings:
        return fact
    for name, value in model_values(fact_kind, {k: values[k] for k in changed}).items():
        setattr(fact, name, value)
    payload: dict[str, Any] = {"before": snapshot(before, changed), "after": snapshot(values, changed)}
    if (
        changed
        and fact.source != Source.SELF_DECLARED
        and not (fact_kind.name == "ratings" and policy.is_operator(actor))
    ):
        payload["verification_voided"] = fact.source
        fact.source, fact.verified_by, fact.verified_at = Source.SELF_DECLARED, None, None
    fact.warnings = new_warnings
    _save(fact)
    _audit("updated", actor, fact, payload)
    return fact


@transaction.atomic
def fact_delete(*, actor: Any, fact: Fact, if_match: str | None = None) -> None:
    """Remove a fact; the audit trail keeps what it said."""
    _require_edit(actor, fact.organization)  # type: ignore[attr-defined]
    fact = _as_it_is(fact, if_match)
    before = snapshot(fact_values(fact))
    _audit("deleted", actor, fact, {"before": before, "after": {}})
    fact.delete()


@transaction.atomic
def fact_verify(*, actor: Any, fact: Fact, source: str, note: str = "") -> Fact:
    """Mark a fact as checked: operators verify any fact; a bank's people verify statements they may see, saying
    what they checked them against (`note`: a bank confirms account flows or its own loan file, not a whole
    statement: policy review 58 M5); the owner marks a statement audited once the audit report is attached. The
    fact is read again under its lock, so that a file removed meanwhile cannot leave an "audited" mark with none.
    A note becomes the fact's source detail."""
    fact = type(fact).objects.select_for_update(of=("self",)).select_related("organization").get(pk=fact.pk)
    fact_kind = kind_of(fact)
    organization = fact.organization  # type: ignore[attr-defined]
    if source == Source.OPERATOR_VERIFIED:
        allowed = policy.is_operator(actor)
    elif source == Source.BANK_VERIFIED:
        allowed = (
            fact_kind.name == "financials"
            and is_bank_officer(actor)
            and organization.pk not in policy.organization_ids(actor)
            and can_see_group(actor, organization, "financials")
        )
    elif source == Source.AUDITED:
        if fact_kind.name != "financials":
            raise ValidationFailed({"source": [_("Only financial statements are audited.")]})
        if not isinstance(fact, FinancialStatement) or not fact.evidence.exists():
            raise ValidationFailed({"source": [_("Attach the audit report first.")]})
        if fact.source in VERIFIED_SOURCES:  # the owner's own mark would replace someone else's check
            raise ValidationFailed(
                {"source": [_("This statement is verified already; the attached report stays with it.")]}
            )
        allowed = policy.can_edit_organization(actor, organization.pk)
    else:
        raise ValidationFailed(
            {"source": [_("Choose one of: %(choices)s.") % {"choices": "operator_verified, bank_verified, audited"}]}
        )
    if not allowed:
        raise Forbidden(_("You may not verify this fact this way."))
    note = (note or "").strip()
    if source == Source.BANK_VERIFIED and not note:
        raise ValidationFailed(
            {"note": [_("Say what the bank checked the statement against, such as the account's flows or its loans.")]}
        )
    if len(note) > 200:
        raise ValidationFailed({"note": [_("At most %(max)d characters (has %(n)d).") % {"max": 200, "n": len(note)}]})
    own_mark = source == Source.AUDITED
    before, after = {"source": fact.source}, {"source": source}
    if note and note != fact.source_note:  # the detail it replaces stays in the history (recheck 58 M6)
        before["source_note"], after["source_note"] = fact.source_note, note
        fact.source_note = note
    # the owner's own mark names no one to others: it is the organization's word, not a person's check
    fact.source, fact.verified_by, fact.verified_at = source, None if own_mark else actor, timezone.now()
    fact.save(update_fields=["source", "source_note", "verified_by", "verified_at", "updated_at"])
    _audit("marked_audited" if own_mark else "verified", actor, fact, {"before": before, "after": after})
    return fact


@transaction.atomic
def evidence_remove(*, actor: Any, evidence: StatementEvidence) -> bool:
    """Take a file off a statement. The owner's "audited" mark rests on its files: without any left, the
    statement is self-declared again (True: the mark was dropped). The statement is locked, so that two removals
    at once cannot leave a mark with no file."""
    statement = (
        FinancialStatement.objects.select_for_update().select_related("organization").get(pk=evidence.statement_id)
    )
    _require_edit(actor, statement.organization)
    if not StatementEvidence.objects.filter(pk=evidence.pk).exists():  # removed meanwhile (a second click)
        raise NotFound(_("That file is no longer attached."))
    _audit(
        "evidence_removed", actor, statement, {"files": [{"name": evidence.original_name, "sha256": evidence.sha256}]}
    )
    stored = evidence.file
    evidence.delete()
    transaction.on_commit(lambda: stored.delete(save=False))  # the file goes only once the row has
    if statement.source != Source.AUDITED or statement.evidence.exists():
        return False
    statement.source, statement.verified_by, statement.verified_at = Source.SELF_DECLARED, None, None
    statement.save(update_fields=["source", "verified_by", "verified_at", "updated_at"])
    _audit(
        "audited_mark_dropped",
        actor,
        statement,
        {"before": {"source": Source.AUDITED}, "after": {"source": statement.source}},
    )
    return True


@transaction.atomic
def evidence_add(
    *, actor: Any, statement: FinancialStatement, files: Sequence[UploadedFile]
) -> list[StatementEvidence]:
    """Attach files (PDF, PNG, JPEG) that back a financial statement. The statement is locked, as for removing
    one, so that its count of files holds."""
    statement = (
        FinancialStatement.objects.select_for_update(of=("self",)).select_related("organization").get(pk=statement.pk)
    )
    _require_edit(actor, statement.organization)
    errors: dict[str, list[str]] = {}
    if not files:
        errors["files"] = [_("Attach at least one file.")]
    check_documents(files, errors, field="files", max_count=MAX_EVIDENCE, held=statement.evidence.count())
    if errors:
        raise ValidationFailed(errors)
    saved = [store_upload(StatementEvidence(statement=statement), f, default_name="evidence") for f in files]
    _audit(
        "evidence_added",
        actor,
        statement,
        {"files": [{"name": e.original_name, "sha256": e.sha256} for e in saved]},
    )
    return saved
