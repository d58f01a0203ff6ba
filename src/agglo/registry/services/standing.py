"""A member's standing: suspended by the operators, withdrawn, or reinstated. The registry records the change (in
the organization's history and on the transparency log, as sanctions are) and tells the organization's admins what
it means; every other app acts on `signals.organization_status_changed` (its own `receivers` module) and tells of
its own part: what it took back, and on reinstatement what it did not give back. Access, which lies beneath the
registry and may not import it, is called here instead: a member that leaves has its nodes revoked, in the same
transaction, and its admins are told which."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.access import policy
from agglo.access.nodes import nodes_revoke_departed
from agglo.common.audit import history, record
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.language import LISTED, Joined, Phrase
from agglo.common.notify import notify
from agglo.ledger.services import entry_append
from agglo.registry.models import Organization
from agglo.registry.models.bilingual import Bilingual
from agglo.registry.signals import organization_status_changed

S = Organization.Status
EVENT = "registry.organization_status_changed"
REASON_MAX = 300  # of the reason quoted in the notice (the history keeps it whole)

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


def _began(organization: Organization) -> dt.datetime | None:
    """When the organization's present status began: its last recorded change (None if never recorded)."""
    return (
        history(organization).filter(event=EVENT).order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    )


def _tell(actor: Any, organization: Organization, status: str, reason: str, own: bool, nodes: list[str]) -> None:
    name = Bilingual(organization.name_zh, organization.name_en)
    said = Phrase(NOTICES[status], org=name)
    if nodes:
        said = Phrase(
            gettext_lazy("%(notice)s Its nodes were revoked: %(nodes)s."), notice=said, nodes=Joined(nodes, most=LISTED)
        )
    if reason:
        said = Phrase(gettext_lazy("%(notice)s Reason: %(reason)s"), notice=said, reason=reason[:REASON_MAX])
    admins = policy.organization_admins(organization.pk)
    notify(admins, verb="registry.status", text=said, link=f"/organizations/{organization.pk}/")
    if own:  # the operators curate the membership: a member leaving by itself is news to them
        notify(
            [u for u in policy.operators() if u.pk != getattr(actor, "pk", None)],
            verb="registry.status",
            text=Phrase(gettext_lazy("%(org)s withdrew from the platform."), org=name),
            link=f"/admin/registry/organization/{organization.pk}/change/",
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
    record(
        EVENT,
        actor=actor,
        subject=organization,
        organization_id=organization.pk,
        payload={"before": before, "after": status, "reason": reason},
    )
    # withdrawn is final: a node acts for its organization alone (its people keep their logins and own tokens)
    nodes = nodes_revoke_departed(actor=actor, organization_id=organization.pk) if status == S.WITHDRAWN else []
    _tell(actor, organization, status, reason, own, nodes)
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
        payload={"organization": organization.pk, "before": before, "after": status},
        parties=[organization.pk],
        acting_org=organization.pk if own else None,
    )
    return organization
