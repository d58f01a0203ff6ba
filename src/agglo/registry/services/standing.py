"""A member's standing: suspended by the operators, withdrawn, or reinstated. The registry records the change (in
the organization's history and on the transparency log, as sanctions are) and tells the organization's admins what
it means; every other app acts on `signals.organization_status_changed` (its own `receivers` module) and tells of
its own part: what it took back, and on reinstatement what it did not give back. Access, which lies beneath the
registry and may not import it, is called here instead: a member that leaves has its nodes revoked, in the same
transaction, and its admins are told which.

A status written around the service (a bulk update in the database, a restored backup, a script) does none of
that: `standing_sweep` (`agglo sweep_standing`, every 10 minutes in `agglo housekeeping`) finds it, as a status
that is not the one its history last recorded, and carries it out as the service would, each record saying that
the sweep found it; it also revokes the nodes that an organization withdrawn still has, and has each app take back
what else of a withdrawal still stands (`signals.departure_swept`)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.access import policy
from agglo.access.nodes import nodes_revoke_departed
from agglo.common.audit import history, marked, record
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.language import LISTED, Joined, Phrase
from agglo.common.models import AuditEvent
from agglo.common.notify import notify
from agglo.ledger.services import entry_append
from agglo.registry.models import Organization
from agglo.registry.models.bilingual import Bilingual
from agglo.registry.signals import departure_swept, organization_status_changed

S = Organization.Status
EVENT = "registry.organization_status_changed"
REASON_MAX = 300  # of the reason quoted in the notice (the history keeps it whole)
SWEPT = {"swept": True}  # in every record the sweep leaves (`common.audit.marked`), and in its log entries
log = logging.getLogger("agglo.housekeeping")

# What each new status means for any organization, as its admins are told; what it means for what the member has
# (its factories' work, its orders, its listings) each app tells in a notice of its own, only where there is some.
NOTICES = {
    S.SUSPENDED: gettext_lazy(
        "%(org)s was suspended by the platform's operators. Its people can still log in and read its data, but "
        "cannot act for it; others no longer find it, nor what it published, in the directory, search or matching. "
        "Nothing is deleted; anything taken back meanwhile is told in a notice of its own."
    ),
    S.WITHDRAWN: gettext_lazy(
        "%(org)s has left the platform. Its people can still log in and read its data, but can no longer act for "
        "it, and others no longer see it. Whatever it still had open on the platform is closed or called off, each "
        "told in a notice of its own."
    ),
    S.MEMBER: gettext_lazy(
        "%(org)s is a member in good standing again: others find it and what it published again, and its people "
        "can act for it. Anything taken back or closed meanwhile is not restored, and is told in a notice of its "
        "own."
    ),
}


# What the operators are told of a status the sweep found written around the service, by that status.
SWEPT_NOTICES = {
    S.SUSPENDED: gettext_lazy(
        "%(org)s was suspended outside the platform's services (such as by an update in the database). The "
        "periodic check of standing found it, recorded it and carried it out; its admins are told."
    ),
    S.WITHDRAWN: gettext_lazy(
        "%(org)s was marked as withdrawn outside the platform's services (such as by an update in the database). "
        "The periodic check of standing found it, recorded it and carried it out: its nodes are revoked and what it "
        "had open is closed; its admins are told."
    ),
    S.MEMBER: gettext_lazy(
        "%(org)s was reinstated outside the platform's services (such as by an update in the database). The "
        "periodic check of standing found it, recorded it and carried it out; its admins are told."
    ),
}


def _began(organization: Organization) -> dt.datetime | None:
    """When the organization's present status began: its last recorded change (None if never recorded)."""
    return (
        history(organization).filter(event=EVENT).order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    )


def _tell(
    actor: Any, organization: Organization, status: str, reason: str, own: bool, nodes: list[str], swept: bool = False
) -> None:
    name = Bilingual(organization.name_zh, organization.name_en)
    said = Phrase(NOTICES[status], org=name)
    if nodes:
        said = Phrase(
            gettext_lazy("%(notice)s Its nodes were revoked: %(nodes)s."), notice=said, nodes=Joined(nodes, most=LISTED)
        )
    if reason:
        said = Phrase(gettext_lazy("%(notice)s Reason: %(reason)s"), notice=said, reason=reason[:REASON_MAX])
    if swept:
        said = Phrase(
            gettext_lazy(
                "%(notice)s The change was made outside the platform's usual path; its periodic check found it and "
                "carried it out."
            ),
            notice=said,
        )
    admins = policy.organization_admins(organization.pk)
    notify(admins, verb="registry.status", text=said, link=f"/organizations/{organization.pk}/")
    operators_link = f"/admin/registry/organization/{organization.pk}/change/"
    if swept:  # the operators curate the membership: a change nobody made through the platform is news to them
        notify(
            policy.operators(),
            verb="registry.status",
            text=Phrase(SWEPT_NOTICES[status], org=name),
            link=operators_link,
        )
    elif own:  # a member leaving by itself is news to them too
        notify(
            [u for u in policy.operators() if u.pk != getattr(actor, "pk", None)],
            verb="registry.status",
            text=Phrase(gettext_lazy("%(org)s withdrew from the platform."), org=name),
            link=operators_link,
        )


def standing_held(organization_ids: Iterable[int], *, actor: Any = None) -> dict[int, str]:
    """The organizations' statuses, read afresh under their row locks (in id order), held until the transaction
    ends; the actor's rights, cached since the request began, are read again by the next check. A write that rests
    on a member's good standing (an acceptance, a grant, an offer taken up) takes this before any other lock, as
    `organization_set_status` takes the row first: of the two, the later sees the other's result, and neither
    waits on the other in a cycle."""
    rows = Organization.objects.select_for_update(no_key=True).filter(pk__in=set(organization_ids)).order_by("pk")
    held = dict(rows.values_list("pk", "status"))
    if actor is not None:
        policy.forget(actor)
    return held


@transaction.atomic
def organization_set_status(*, actor: Any, organization: Organization, status: str, reason: str = "") -> Organization:
    """Suspend, reinstate or withdraw a member; operators only (an org admin may withdraw their own, in person: not
    through a node). Setting the status it has changes nothing."""
    # no key lock: a row naming the organization (a log entry's party, a response) may still be written meanwhile,
    # as a full lock would make it wait while holding what this change takes next (a deadlock)
    organization.refresh_from_db(from_queryset=Organization.objects.select_for_update(no_key=True))
    allowed = {S.MEMBER, S.SUSPENDED, S.WITHDRAWN}
    if status not in allowed:
        raise ValidationFailed({"status": [_("Choose member, suspended or withdrawn.")]})
    own_withdrawal = status == S.WITHDRAWN and policy.is_org_admin(actor, organization.pk)
    if own_withdrawal and policy.is_node_account(actor):  # as it manages no nodes: a leaked token must not end it
        raise Forbidden(_("A node cannot withdraw its organization; its admins do, in person."))
    if not (policy.is_operator(actor) or own_withdrawal):
        raise Forbidden(_("Only operators may change an organization's status."))
    if organization.status == S.APPLICANT:
        raise ValidationFailed({"status": [_("Applicants are admitted or rejected through their admission.")]})
    before = organization.status
    if before == status:
        return organization
    reason = (reason or "").strip()
    own = own_withdrawal and not policy.is_operator(actor)
    since = _began(organization)
    organization.status = status
    organization.save(update_fields=["status", "updated_at"])
    _carry_out(actor, organization, before=before, reason=reason, own=own, since=since)
    return organization


def _carry_out(
    actor: Any,
    organization: Organization,
    *,
    before: str,
    since: dt.datetime | None,
    reason: str = "",
    own: bool = False,
    swept: bool = False,
) -> list[str]:
    """What a change of standing entails once the row holds its new status, in the caller's transaction: the
    history, the nodes of a member that left, the notices, every app's part (the signal) and the log. Returns the
    names of the nodes revoked."""
    status = organization.status
    record(
        EVENT,
        actor=actor,
        subject=organization,
        organization_id=organization.pk,
        payload={"before": before, "after": status, "reason": reason},
    )
    # withdrawn is final: a node acts for its organization alone (its people keep their logins and own tokens)
    nodes = nodes_revoke_departed(actor=actor, organization_id=organization.pk) if status == S.WITHDRAWN else []
    _tell(actor, organization, status, reason, own, nodes, swept=swept)
    organization_status_changed.send(
        sender=Organization, organization=organization, before=before, after=status, since=since
    )
    # a sanction, and its end, is something others rely on: on the log, without the reason (the history has it);
    # last, after the nodes, listings and responses the receivers lock: a response accepted meanwhile holds those
    # and waits for the log's head, which every appender takes last (`ledger.services.entries_append`)
    entry_append(
        EVENT,
        actor=actor,
        subject=organization,
        payload={"organization": organization.pk, "before": before, "after": status, **(SWEPT if swept else {})},
        parties=[organization.pk],
        acting_org=organization.pk if own else None,
    )
    return nodes


def _last_recorded(organization_id: int) -> tuple[str | None, dt.datetime | None]:
    """The status an organization's history last recorded it changing to, and when (None, None: never)."""
    last = (
        AuditEvent.objects.filter(event=EVENT, organization_id=organization_id)
        .order_by("-occurred_at", "-pk")
        .values_list("payload", "occurred_at")
        .first()
    )
    if last is None:
        return None, None
    payload, at = last
    after = payload.get("after") if isinstance(payload, dict) else None
    return (after if after in S.values else None), at


def _unrecorded() -> list[int]:
    """Organizations whose status is not the one their history last recorded: written around
    `organization_set_status`. One with no recorded change is taken to be as admission left it (a member, or an
    applicant if it never joined); applicants are admission's, not this check's."""
    recorded: dict[int, str] = {}
    changes = AuditEvent.objects.filter(event=EVENT, organization_id__isnull=False)
    rows = changes.order_by("occurred_at", "pk").values_list("organization_id", "payload")
    for org_id, payload in rows.iterator(chunk_size=2000):  # the last one of each stays
        if isinstance(payload, dict) and payload.get("after") in S.values:
            recorded[org_id] = payload["after"]
    # the few not in good standing, and those whose standing ever changed (a subquery: no list of ids to bind)
    ever = changes.values("organization_id")
    orgs = Organization.objects.filter(Q(status__in=(S.SUSPENDED, S.WITHDRAWN)) | Q(pk__in=ever))
    orgs = orgs.exclude(status=S.APPLICANT)
    found = []
    for pk, status, joined_at in orgs.values_list("pk", "status", "joined_at").order_by("pk"):
        if status != recorded.get(pk, S.MEMBER if joined_at else S.APPLICANT):
            found.append(pk)
    return found


def _sweep_change(organization_id: int) -> tuple[str, str] | None:
    """Carry out a status written around the service, as the service would and saying the sweep found it, in one
    transaction under the organization's row lock; None if its history records it by now (a change through the
    service meanwhile). Returns (before, after)."""
    with transaction.atomic(), marked(**SWEPT):
        organization = Organization.objects.select_for_update(no_key=True).filter(pk=organization_id).first()
        if organization is None or organization.status == S.APPLICANT:
            return None
        before, since = _last_recorded(organization.pk)
        if before is None:
            before = S.MEMBER if organization.joined_at else S.APPLICANT
        if before == organization.status:
            return None
        organization.save(update_fields=["updated_at"])  # the directory's facets and the index see it changed
        _carry_out(None, organization, before=before, since=since, swept=True)
        return before, organization.status


def _sweep_nodes(organization_id: int) -> list[str]:
    """Revoke the nodes an organization withdrawn still has (revoked on withdrawal, so left by a change around the
    service or a withdrawal recorded before nodes were revoked with it); its admins and the operators are told."""
    with transaction.atomic(), marked(**SWEPT):
        held = standing_held([organization_id])
        if held.get(organization_id) != S.WITHDRAWN:
            return []
        nodes = nodes_revoke_departed(actor=None, organization_id=organization_id)
        if nodes:
            organization = Organization.objects.get(pk=organization_id)
            said = Phrase(
                gettext_lazy(
                    "%(org)s has left the platform, but nodes of it were still active: the platform's periodic check "
                    "revoked them: %(nodes)s."
                ),
                org=Bilingual(organization.name_zh, organization.name_en),
                nodes=Joined(nodes, most=LISTED),
            )
            told = {u.pk: u for u in [*policy.organization_admins(organization_id), *policy.operators()]}
            notify(
                told.values(),
                verb="registry.status",
                text=said,
                link=f"/organizations/{organization_id}/",
            )
        return nodes


@dataclass
class Swept:
    """What one `standing_sweep` did: the changes of standing it carried out ({id: (before, after)}), the nodes of
    withdrawn organizations it revoked ({id: names}), each app's count of organizations it took back from, and the
    organizations it failed on (logged; the next run tries them again)."""

    changes: dict[int, tuple[str, str]] = field(default_factory=dict)
    nodes: dict[int, list[str]] = field(default_factory=dict)
    apps: dict[str, int] = field(default_factory=dict)
    failed: list[int] = field(default_factory=list)


def standing_sweep() -> Swept:
    """Find and carry out what a change of standing made around `organization_set_status` left undone: a status
    its history does not record is recorded and carried out as the service would (history, nodes, notices, every
    app's part, the log), each record marked `swept`; then the nodes an organization withdrawn still has are
    revoked, and every app takes back what else a withdrawal ends (`signals.departure_swept`). Idempotent: a second
    run finds nothing. One transaction per organization, so one that fails is logged and the others are done."""
    done = Swept()
    for pk in _unrecorded():
        try:
            changed = _sweep_change(pk)
        except Exception:  # one organization's fault must not keep the others waiting
            log.exception("standing sweep: organization %s failed", pk)
            done.failed.append(pk)
            continue
        if changed is not None:
            done.changes[pk] = changed
            log.warning("standing sweep: organization %s %s -> %s was not recorded; carried out", pk, *changed)
    withdrawn = Organization.objects.filter(status=S.WITHDRAWN, nodes__revoked_at__isnull=True)
    for pk in sorted(set(withdrawn.values_list("pk", flat=True))):
        try:
            nodes = _sweep_nodes(pk)
        except Exception:
            log.exception("standing sweep: the nodes of organization %s failed", pk)
            done.failed.append(pk)
            continue
        if nodes:
            done.nodes[pk] = nodes
            log.warning("standing sweep: organization %s had left, its nodes still active; revoked %s", pk, nodes)
    with marked(**SWEPT):
        for _receiver, counts in departure_swept.send(sender=Organization):
            for app, count in (counts or {}).items():
                done.apps[app] = done.apps.get(app, 0) + count
    return done
