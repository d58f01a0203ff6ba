"""What a user may export: organizations and facts as table rows, restricted like every other read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q
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
    qs = _scope(actor, own).select_related("region").order_by("pk")
    annotations, condition = owners_filter(actor, "contacts")
    if condition:
        qs = qs.annotate(**annotations).annotate(contacts_ok=ExpressionWrapper(condition, output_field=BooleanField()))
    rows = list(qs)
    owners = {o.pk for o in rows if getattr(o, "contacts_ok", True)}

    def produce() -> Iterator[tuple[Any, ...]]:
        for o in rows:
            show = getattr(o, "contacts_ok", True)
            yield tuple(
                o.region.code if c == "region" else ("" if c in CONTACTS and not show else getattr(o, c) or "")
                for c in ORG_COLUMNS
            )

    return ExportTable("organizations", ORG_COLUMNS, produce(), owners, "contacts", {o.pk for o in rows})


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
    qs = kind.model.objects.filter(organization__in=orgs.values("pk")).select_related("organization")  # type: ignore[attr-defined]
    if name == "capabilities":
        qs = qs.select_related("term")
    qs = qs.order_by("organization_id", *kind.natural_key)
    fields = tuple(kind.specs)
    # an organization registered abroad has no credit code: its registry id names it in the file
    columns = ("uscc", "foreign_registry_id", "organization", *fields, "source")
    facts = list(qs)
    owners = {f.organization_id for f in facts} if kind.group == "financials" else set()

    def produce() -> Iterator[tuple[Any, ...]]:
        for f in facts:
            values = [f.term.code if c == "term" else getattr(f, c) for c in fields]
            yield (
                f.organization.uscc or "",
                "" if f.organization.uscc else f.organization.foreign_registry_id,
                f.organization.name_zh,
                *values,
                f.source,
            )

    return ExportTable(
        name, columns, produce(), owners, kind.group if owners else "", {f.organization_id for f in facts}
    )


def export_table(*, actor: Any, kind: str, own: bool = False) -> ExportTable:
    """Rows of `kind` the actor may see (`own`: of its own organizations only). Anonymous visitors export nothing:
    exports are for members."""
    if not getattr(actor, "is_authenticated", False):
        raise Forbidden(_("Log in to export."))
    if not (policy.active_organization_ids(actor) or policy.platform_roles(actor)):
        raise Forbidden(_("Exports are for members, government officers and the platform."))
    return _organizations(actor, own) if kind == "organizations" else _facts(actor, kind, own)
