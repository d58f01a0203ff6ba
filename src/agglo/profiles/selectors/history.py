"""An organization's change history and its access log, as the actor may read them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.access.models import AccessLogEntry
from agglo.access.selectors import public_names
from agglo.common.errors import Forbidden
from agglo.common.models import AuditEvent
from agglo.profiles.models import Case
from agglo.profiles.selectors.facts import case_visible
from agglo.profiles.visibility import visible_groups
from agglo.registry.models import Organization

CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")
# Events about the organization that are for its people and the platform, not for other members.
_INTERNAL = ("profiles.reminder_sent",)
# What other members see of the history: changes to the directory entry and the professional database. Other
# apps' events (listings, orders, nodes, tokens) name things only the organization itself may see.
_SHARED_PREFIXES = ("registry.", "profiles.")


def _redact(event: AuditEvent, groups: set[str]) -> AuditEvent:
    """Contact details changed in a profile update are shown only to those who may see contacts."""
    if "contacts" in groups or event.event != "registry.organization_updated":
        return event
    for side in ("before", "after"):
        values = event.payload.get(side) or {}
        for name in CONTACT_FIELDS:
            if name in values:
                values[name] = "…"
    return event


def history_events(
    *, actor: Any, organization: Organization, since: dt.datetime | None = None, groups: set[str] | None = None
) -> QuerySet[AuditEvent]:
    """Every recorded change of the organization's data the actor may see, newest first: exactly those, so that
    the list pages evenly. `history_shown` readies a page of them for reading.

    `groups` are the field groups the actor sees, when the caller has worked them out already.
    """
    groups = groups if groups is not None else visible_groups(actor, organization)
    own = _own(actor, organization)
    qs: QuerySet[AuditEvent] = AuditEvent.objects.filter(organization_id=organization.pk)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    hidden = {"financials", "credit", "contacts"} - groups
    if hidden:
        qs = qs.exclude(group__in=hidden)
    if not own:
        shared = Q(event__startswith=_SHARED_PREFIXES[0]) | Q(event__startswith=_SHARED_PREFIXES[1])
        qs = qs.filter(shared).exclude(event__in=_INTERNAL)
        # a case's changes only where its case may be seen: one query for the organization's few cases
        subjects = {i for i in qs.filter(group="cases").values_list("subject_id", flat=True) if i.isdigit()}
        cases = Case.objects.filter(pk__in=subjects).select_related("organization").prefetch_related("participants")
        allowed = [str(c.pk) for c in cases if case_visible(actor, c)]
        qs = qs.exclude(Q(group="cases") & ~Q(subject_id__in=allowed))
    return qs.order_by("-occurred_at", "-id")


def history_shown(
    *, actor: Any, organization: Organization, events: list[AuditEvent], groups: set[str] | None = None
) -> list[AuditEvent]:
    """Events of `history_events` as the actor reads them: contacts masked where hidden, organizations named, and
    for outsiders who acted named by role or organization, not by login (often an e-mail address)."""
    groups = groups if groups is not None else visible_groups(actor, organization)
    shown = [_redact(e, groups) for e in events]
    _name_organizations(shown)
    if not _own(actor, organization):
        names = public_names((e.actor_id for e in shown), prefer=organization.pk)
        for e in shown:
            if e.actor_id is not None:
                e.actor_label = names[e.actor_id]
            elif e.actor_label != "anonymous":  # an account since deleted: its login stays in the record only
                e.actor_label = _("A platform user")
    return shown


def history_list(
    *,
    actor: Any,
    organization: Organization,
    since: dt.datetime | None = None,
    limit: int = 500,
    groups: set[str] | None = None,
) -> list[AuditEvent]:
    """The newest `limit` changes of `history_events`, ready to read."""
    groups = groups if groups is not None else visible_groups(actor, organization)
    events = list(history_events(actor=actor, organization=organization, since=since, groups=groups)[:limit])
    return history_shown(actor=actor, organization=organization, events=events, groups=groups)


def _own(actor: Any, organization: Organization) -> bool:
    return organization.pk in policy.organization_ids(actor) or policy.sees_all_organizations(actor)


# payload keys that hold another organization's id: the history names it
ORGANIZATION_KEYS = ("organization", "rated", "rater")


def _name_organizations(events: list[AuditEvent]) -> None:
    """Give each event `org_names` {id: name} for the organizations its payload names, in one query for all."""
    ids = {
        v
        for e in events
        if isinstance(e.payload, dict)
        for k, v in e.payload.items()
        if k in ORGANIZATION_KEYS and isinstance(v, int)
    }
    names = {o.pk: o.name for o in Organization.objects.filter(pk__in=ids)} if ids else {}
    for e in events:
        e.org_names = names  # type: ignore[attr-defined]


def recent_changes(
    *, actor: Any, organization: Organization, days: int = 90, limit: int = 8, groups: set[str] | None = None
) -> list[AuditEvent]:
    since = timezone.now() - dt.timedelta(days=days)
    return history_list(actor=actor, organization=organization, since=since, limit=limit, groups=groups)


def can_read_access_log(actor: Any, organization: Organization) -> bool:
    return _own(actor, organization)


def access_log_list(*, actor: Any, organization: Organization) -> QuerySet[AccessLogEntry]:
    """Who outside the organization viewed its sensitive groups: for its own people, operators and auditors."""
    if not can_read_access_log(actor, organization):
        raise Forbidden(_("Only the organization's own people read its access log."))
    return AccessLogEntry.objects.filter(owner=organization).order_by("-occurred_at", "-id")
