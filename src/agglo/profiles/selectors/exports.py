"""What a user may export: organizations and facts as table rows, restricted like every other read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, Value
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.errors import Forbidden
from agglo.profiles.kinds import KINDS, ORG_COLUMNS
from agglo.profiles.visibility import owners_filter
from agglo.registry.models import Organization
from agglo.registry.selectors.organizations import visible

EXPORT_KINDS = ("organizations", "financials", "ip", "capabilities")
CONTACTS = ("contact_name", "contact_email", "contact_phone")


@dataclass
class ExportTable:
    kind: str
    columns: tuple[str, ...]
    rows: Iterator[tuple[Any, ...]]
    # Owners whose sensitive group (financials, contacts) this export shows: the caller logs the access.
    sensitive_owners: set[int]
    sensitive_group: str
    # Every organization with a row in the file: an export of others' data counts as a view of each.
    owners: set[int]


def _organizations(actor: Any, own: bool) -> ExportTable:
    qs = _scope(actor, own)
    annotations, condition = owners_filter(actor, "contacts")
    if condition:
        qs = qs.annotate(**annotations).annotate(contacts_ok=ExpressionWrapper(condition, output_field=BooleanField()))
    else:
        qs = qs.annotate(contacts_ok=Value(True, output_field=BooleanField()))
    # who is in the file first, in one light query: the quotas are checked on it before any row is read, and the
    # rows then come as plain values, not model objects (perf review 58: 100,000 organizations took 10 s)
    listed = dict(qs.values_list("pk", "contacts_ok"))
    owners = {pk for pk, shown in listed.items() if shown}
    at = {c: n for n, c in enumerate(ORG_COLUMNS, start=1)}

    def produce() -> Iterator[tuple[Any, ...]]:
        for row in qs.order_by("pk").values_list("pk", *ORG_COLUMNS).iterator(chunk_size=2000):
            if row[0] not in listed:  # registered since the file's owners were counted and logged
                continue
            show = listed[row[0]]
            yield tuple("" if c in CONTACTS and not show else row[at[c]] or "" for c in ORG_COLUMNS)

    return ExportTable("organizations", ORG_COLUMNS, produce(), owners, "contacts", set(listed))


def _scope(actor: Any, own: bool) -> Any:
    """The organizations an export covers: all the actor may see, or only its own (a file it can import again)."""
    orgs = Organization.objects.filter(visible(actor))
    return orgs.filter(pk__in=policy.organization_ids(actor)) if own else orgs


def _facts(actor: Any, name: str, own: bool) -> ExportTable:
    kind = KINDS[name]
    orgs = _scope(actor, own)
    if kind.group in ("financials", "credit"):
        annotations, condition = owners_filter(actor, kind.group)
        orgs = orgs.annotate(**annotations).filter(condition or Q())
    qs = kind.model.objects.filter(organization__in=orgs.values("pk"))  # type: ignore[attr-defined]
    qs = qs.order_by("organization_id", *kind.natural_key)
    fields = tuple(kind.specs)
    # an organization registered abroad has no credit code: its registry id names it in the file
    columns = ("uscc", "foreign_registry_id", "organization", *fields, "source")
    # who is in the file first (see _organizations), then the rows as plain values
    listed = set(qs.order_by().values_list("organization_id", flat=True).distinct())
    owners = listed if kind.group == "financials" else set()
    read = ["organization__uscc", "organization__foreign_registry_id", "organization__name_zh"]
    read += ["term__code" if c == "term" else c for c in fields]

    def produce() -> Iterator[tuple[Any, ...]]:
        rows = qs.values_list("organization_id", *read, "source").iterator(chunk_size=2000)
        for org, uscc, foreign, name, *values, source in rows:
            if org in listed:  # not a fact of an organization counted and logged after the owners were read
                yield (uscc or "", "" if uscc else foreign, name, *values, source)

    return ExportTable(name, columns, produce(), owners, kind.group if owners else "", listed)


def export_table(*, actor: Any, kind: str, own: bool = False) -> ExportTable:
    """Rows of `kind` the actor may see (`own`: of its own organizations only). Anonymous visitors export nothing:
    exports are for members."""
    if not getattr(actor, "is_authenticated", False):
        raise Forbidden(_("Log in to export."))
    if not (policy.active_organization_ids(actor) or policy.platform_roles(actor)):
        raise Forbidden(_("Exports are for members, government officers and the platform."))
    return _organizations(actor, own) if kind == "organizations" else _facts(actor, kind, own)
