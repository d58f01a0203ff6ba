"""A piece of work on the job board: locking it, who may act on it, and each of its steps on the audit trail and,
where two members agree on something, the transparency log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Forbidden
from agglo.factory.models import Allocation, Order
from agglo.ledger.entries import sealed_facts
from agglo.ledger.services import entry_append, work_key


def locked(allocation: Allocation, *related: str) -> Allocation:
    """The allocation, locked after its order: every service that changes a plan locks the order first, so that
    two of them never wait for each other."""
    list(Order.objects.select_for_update().filter(pk=allocation.order_id).values_list("pk", flat=True))
    return Allocation.objects.select_for_update(of=("self",)).select_related("order", *related).get(pk=allocation.pk)


def standing_refused(actor: Any, organization_id: int, said: str) -> None:
    """Refuse the people of an organization that is not a member in good standing at present, saying so (`said`):
    suspended or withdrawn, a member's people read, they do not act for it. Their rights are those read by the
    caller's `standing_held` (held until the transaction ends), so that of the step and a change of standing the
    later sees the other's result; anyone else is left to the caller's own check."""
    if organization_id in policy.organization_ids(actor) and organization_id not in policy.active_organization_ids(
        actor
    ):
        raise Forbidden(said)


def factory_not_in_good_standing() -> str:
    """What a factory's people are told when it is not in good standing and they answer or report for it."""
    return _(
        "Your organization is not a member in good standing at present: it cannot answer or report on its work "
        "until it is reinstated."
    )


def buyer_not_in_good_standing() -> str:
    """What a buyer's people are told when it is not in good standing and they act on its orders."""
    return _(
        "Your organization is not a member in good standing at present: it cannot act on its orders until it is "
        "reinstated."
    )


def factory_member_only(actor: Any, allocation: Allocation) -> None:
    """Refuse anyone but the people of the factory the work is for, while it is a member in good standing; its
    people are told when it is not (suspended or withdrawn, it acts for nobody, `services.departures`)."""
    if allocation.factory_id not in policy.active_organization_ids(actor):
        standing_refused(actor, allocation.factory_id, factory_not_in_good_standing())
        raise Forbidden(_("Only the factory this work was offered to may answer it or report on it."))


# What an entry says of the work besides its allocation's own terms (texts included), all sealed.
SEALED_FACTS = ("done", "defects", "delivered_on", "from", "to", "defects_found", "reason", "reply", "ruling")


# Steps that bind buyer and factory, and so go on the transparency log too.
LOGGED = {
    "accepted",
    "counter_taken",
    "withdrawn",
    "delayed",
    "delivered",
    "received",
    "disputed",
    "dispute_answered",
    "dispute_referred",
    "dispute_ruled",
}


BUYER_STEPS = {"counter_taken", "received", "disputed"}


def audit_step(
    event: str, actor: Any, allocation: Allocation, payload: dict[str, Any], *, by: str = "", log_later: bool = False
) -> Callable[[], None]:
    """Record a step on the work; those in LOGGED also go on the transparency log, named by who took it: `by`
    "buyer", "factory" or "platform" (an operator), else the buyer for its steps and the factory for the rest.

    With `log_later` the log entry (its facts taken now) is appended only when the returned function is called.
    Steps that re-plan call it after the solver: appending locks the log's head, which every appender on the
    platform waits for until the transaction ends; taken before the re-plan, it was held through the solve and
    taken before the capacity the re-plan releases, the opposite order to an acceptance's (a deadlock)."""
    record(
        f"factory.allocation_{event}",
        actor=actor,
        subject=allocation,
        payload=payload,
        organization_id=allocation.factory_id,
    )
    if event not in LOGGED:
        return _nothing
    buyer = allocation.order.buyer_id
    work_key(allocation)
    facts = {
        "order": allocation.order_id,
        "buyer": buyer,
        "factory": allocation.factory_id,
        "process": allocation.operation.process_id,
        "quantity": allocation.quantity,
        "week": allocation.week.isoformat(),
        **{k: v for k, v in payload.items() if k in SEALED_FACTS},
    }
    # The log is public, but who supplies whom, how much, when and how well is the buyer's and the factory's
    # business (the pages show a factory only its own part): every fact and the acting organization go in as
    # keyed digests, which the two parties can check with the allocation's `text_key`. Each fact is sealed
    # with its name ("quantity:300"), so that equal values do not show as equal digests (a complete
    # delivery, a receipt that agrees with the factory's count).
    by = by or ("buyer" if event in BUYER_STEPS else "factory")
    acting = {"buyer": buyer, "factory": allocation.factory_id, "platform": None}[by]
    entry = {
        "actor": actor,
        "acting_org": acting,
        "sealed_with": allocation.text_key,
        "subject": allocation,
        "payload": {
            **sealed_facts(facts, allocation.text_key),
            **{k: v for k, v in payload.items() if k in ("settled", "whole_step", "upheld")},
        },
        "parties": [buyer, allocation.factory_id],
    }

    def append() -> None:
        entry_append(f"factory.allocation_{event}", **entry)

    if log_later:
        return append
    append()
    return _nothing


def _nothing() -> None:
    """What `audit_step` returns when its entry is appended already, or the step is not logged."""
