"""Writes to organizations, their chain positions and their relations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.days import NOT_A_DATE, iso_day
from agglo.common.errors import Conflict, Forbidden, ValidationFailed
from agglo.common.versions import version_check
from agglo.registry import search_index
from agglo.registry.models import Organization, Position, Relation, Segment
from agglo.registry.validation import STATUS_RULE, clean_organization

# What an organization's own admins may change; identity (code, kind, region) was checked at admission and is
# changed by operators only.
PROFILE_FIELDS = (
    "name_zh",
    "name_en",
    "website",
    "founded_year",
    "headcount",
    "size_class",
    "tags",
    "description",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contacts_visibility",
)
_SEARCHABLE = ("name_zh", "name_en", "tags", "description", "region")


def _snapshot(org: Organization, fields: list[str]) -> dict[str, Any]:
    out = {}
    for f in fields:
        value = getattr(org, f + "_id" if f in ("region", "area") else f)
        out[f] = value if isinstance(value, (str, int, list, type(None))) else str(value)
    return out


def _ensure_unique_code(code: str | None, *, exclude_pk: int | None = None) -> None:
    if not code:
        return
    if Organization.objects.filter(uscc=code).exclude(pk=exclude_pk).exists():
        # No name in the message: the caller may not be allowed to see the organization holding the code.
        raise Conflict(
            _("An organization with this credit code is already registered."),
            errors={"uscc": [_("Already registered; contact the platform operator.")]},
        )


def _locked(organization: Organization) -> None:
    """Read the organization again in place under its lock. Its search text and chain codes are rebuilt from the
    whole row: two changes at once, each from its own copy, kept only the last one's words (review 53 R7, R8)."""
    organization.refresh_from_db(from_queryset=Organization.objects.select_for_update())


def _reindex(org: Organization) -> None:
    org.search_text = search_index.tokens_for(org, search_index.place_words(org.region))
    Organization.objects.filter(pk=org.pk).update(search_text=org.search_text)
    search_index.index_organizations([(org.pk, org.search_text)])


def organization_create_checked(
    *, actor: Any, data: dict[str, Any], status: str = Organization.Status.APPLICANT
) -> dict[str, Any]:
    """The fields `organization_create` would write, checked, writing nothing (what it would refuse, refused): a
    file of many is checked whole before anything is written (data review 58 H1)."""
    if status != Organization.Status.APPLICANT and not policy.is_operator(actor):
        raise Forbidden(_("Only operators may register members directly."))
    fields = clean_organization(data)
    _ensure_unique_code(fields.get("uscc"))
    return fields


@transaction.atomic
def organization_create(
    *, actor: Any, data: dict[str, Any], status: str = Organization.Status.APPLICANT, audit: bool = True
) -> Organization:
    """Create an organization from validated fields; operators may create members, admission creates applicants."""
    fields = organization_create_checked(actor=actor, data=data, status=status)
    org = Organization(**fields, status=status)
    if status == Organization.Status.MEMBER:
        org.joined_at = timezone.now()
    org.search_text = search_index.tokens_for(org, search_index.place_words(org.region))
    try:
        org.save()
    except IntegrityError as exc:  # a concurrent registration of the same code
        raise Conflict(
            _("An organization with this credit code is already registered."),
            errors={"uscc": [_("Already registered.")]},
        ) from exc
    search_index.index_organizations([(org.pk, org.search_text)])
    if audit:
        record(
            "registry.organization_created",
            actor=actor,
            subject=org,
            organization_id=org.pk,
            payload={"status": status, **_snapshot(org, ["name_zh", "kind", "region", "uscc"])},
        )
    return org


def organization_update_checked(*, actor: Any, organization: Organization, data: dict[str, Any]) -> dict[str, Any]:
    """The fields `organization_update` would change (only those that differ), checked, writing nothing."""
    if not policy.can_edit_organization(actor, organization.pk):
        raise Forbidden(_("You may not edit this organization."))
    if not policy.is_operator(actor):
        reserved = sorted(set(data) - set(PROFILE_FIELDS) - {"status"})  # which nobody changes here: the rule says
        if reserved:
            errors = {f: [_("Only platform operators may change this field.")] for f in reserved}
            if "status" in data:
                errors["status"] = [str(STATUS_RULE)]
            raise ValidationFailed(errors)
    fields = clean_organization(data, partial=True, current=organization)
    if "uscc" in fields:
        _ensure_unique_code(fields["uscc"], exclude_pk=organization.pk)
    return {f: v for f, v in fields.items() if getattr(organization, f) != v}


@transaction.atomic
def organization_update(
    *, actor: Any, organization: Organization, data: dict[str, Any], if_match: str | None = None
) -> Organization:
    """Change an organization's fields; its admins and operators may. Records before and after.
    `if_match`: the version the caller read (`common.versions`); one changed since is not changed."""
    _locked(organization)
    policy.forget(actor)  # rights read again under the lock: a suspension committed meanwhile is seen (review 111)
    fields = organization_update_checked(actor=actor, organization=organization, data=data)
    version_check(organization, if_match)
    changed = list(fields)
    if not changed:
        return organization
    before = _snapshot(organization, changed)
    for f in changed:
        setattr(organization, f, fields[f])
    organization.save(update_fields=[*changed, "updated_at"])
    if any(f in _SEARCHABLE for f in changed):
        _reindex(organization)
    record(
        "registry.organization_updated",
        actor=actor,
        subject=organization,
        organization_id=organization.pk,
        payload={"before": before, "after": _snapshot(organization, changed)},
    )
    return organization


def codes_field(codes: Iterable[str]) -> str:
    """The denormalized form of a set of codes kept on Organization: "|ic|pv|" (or "")."""
    unique = sorted(set(codes))
    return "|" + "|".join(unique) + "|" if unique else ""


def _refresh_chain_codes(organization: Organization) -> None:
    pairs = list(
        Position.objects.filter(organization=organization).values_list("segment__chain__code", "segment__code")
    )
    organization.chain_codes = codes_field(chain for chain, _ in pairs)
    organization.segment_codes = codes_field(segment for _, segment in pairs)
    # updated_at moves too: the directory's facet table notices changes by it (registry.facet_index).
    Organization.objects.filter(pk=organization.pk).update(
        chain_codes=organization.chain_codes, segment_codes=organization.segment_codes, updated_at=timezone.now()
    )


def _segment(code: str) -> Segment:
    segment = Segment.objects.filter(code=code).first()
    if segment is None:
        raise ValidationFailed({"segment": [_("Unknown chain segment %(code)s.") % {"code": code}]})
    return segment


@transaction.atomic
def position_add(*, actor: Any, organization: Organization, segment_code: str, role: str, note: str = "") -> Position:
    """Place an organization on a chain segment with a role."""
    _locked(organization)
    if not policy.can_edit_organization(actor, organization.pk):
        raise Forbidden(_("You may not edit this organization."))
    errors: dict[str, list[str]] = {}
    if role not in Position.Role.values:
        errors["role"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Position.Role.values)}]
    if len(note) > 200:
        errors["note"] = [_("At most %(max)d characters (has %(n)d).") % {"max": 200, "n": len(note)}]
    segment = None
    try:
        segment = _segment(segment_code)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    position, created = Position.objects.get_or_create(
        organization=organization, segment=segment, role=role, defaults={"note": note}
    )
    if not created:
        said = _("%(segment)s, %(role)s: already recorded.") % {
            "segment": segment.name,
            "role": Position.Role(role).label if role in Position.Role.values else role,
        }
        raise Conflict(said, errors={"segment": [said]})
    _refresh_chain_codes(organization)
    record(
        "registry.position_added",
        actor=actor,
        subject=organization,
        organization_id=organization.pk,
        payload={"segment": segment_code, "role": role},
    )
    return position


@transaction.atomic
@transaction.atomic
def position_remove(*, actor: Any, position: Position) -> None:
    """Take an organization off a chain segment."""
    if not policy.can_edit_organization(actor, position.organization_id):
        raise Forbidden(_("You may not edit this organization."))
    payload = {"segment": position.segment.code, "role": position.role}
    organization = position.organization
    _locked(organization)
    position.delete()
    _refresh_chain_codes(organization)
    record(
        "registry.position_removed", actor=actor, subject=organization, payload=payload, organization_id=organization.pk
    )


def _date(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    day = iso_day(value)
    if day is None:
        errors[field] = [str(NOT_A_DATE)]  # a page's date field, or the API's schema, names a day missing
    return day


@transaction.atomic
def relation_add(
    *,
    actor: Any,
    source: Organization,
    target_id: int,
    kind: str,
    started_on: Any = None,
    ended_on: Any = None,
    note: str = "",
    origin: str = Relation.Source.SELF_DECLARED,
) -> Relation:
    """Declare a relation from `source` to another member organization."""
    if not policy.can_edit_organization(actor, source.pk):
        raise Forbidden(_("You may not edit this organization."))
    errors: dict[str, list[str]] = {}
    if kind not in Relation.Kind.values:
        errors["kind"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Relation.Kind.values)}]
    if origin not in Relation.Source.values or (
        origin != Relation.Source.SELF_DECLARED and not policy.is_operator(actor)
    ):
        errors["source"] = [_("Members declare relations as self_declared; operators may verify them.")]
    target = Organization.objects.filter(pk=target_id, status=Organization.Status.MEMBER).first()
    if target is None:
        errors["target"] = [_("No member organization has id %(id)s.") % {"id": target_id}]
    elif target.pk == source.pk:
        errors["target"] = [_("An organization cannot be related to itself.")]
    start, end = _date(started_on, "started_on", errors), _date(ended_on, "ended_on", errors)
    if start and end and end < start:
        errors["ended_on"] = [_("Must not be before the start date.")]
    if len(note) > 200:
        errors["note"] = [_("At most %(max)d characters (has %(n)d).") % {"max": 200, "n": len(note)}]
    if errors:
        raise ValidationFailed(errors)
    if Relation.objects.filter(source_org=source, target_org=target, kind=kind).exists():
        raise Conflict(_("This relation is already recorded."), errors={"target": [_("Already recorded.")]})
    relation = Relation.objects.create(
        source_org=source,
        target_org=target,
        kind=kind,
        started_on=start,
        ended_on=end,
        note=note,
        source=origin,
    )
    record(
        "registry.relation_added",
        actor=actor,
        subject=source,
        organization_id=source.pk,
        payload={
            "target": target.pk,
            "kind": kind,
            "started_on": str(start or ""),
            "ended_on": str(end or ""),
        },
    )
    return relation


@transaction.atomic
def relation_remove(*, actor: Any, relation: Relation) -> None:
    """Remove a relation: its declaring organization may, and so may the organization it names, when only the
    other side declared it (a claim nobody checked is not to stand on a member's page against its word)."""
    by_source = policy.can_edit_organization(actor, relation.source_org_id)
    by_target = relation.source == Relation.Source.SELF_DECLARED and policy.can_edit_organization(
        actor, relation.target_org_id
    )
    if not (by_source or by_target):
        raise Forbidden(_("You may not edit this organization."))
    source = relation.source_org
    payload = {"target": relation.target_org_id, "kind": relation.kind, "by_target": not by_source}
    relation.delete()
    record("registry.relation_removed", actor=actor, subject=source, payload=payload, organization_id=source.pk)
    if not by_source:  # the named side's history keeps what it took down, as the declaring side's does
        record(
            "registry.relation_removed",
            actor=actor,
            subject=source,
            payload=payload,
            organization_id=relation.target_org_id,
        )
