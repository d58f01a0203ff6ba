"""Diagnosis findings in words, in the reader's language."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from agglo.common.numbers import grouped, posted_id
from agglo.factory.diagnosis import Finding
from agglo.factory.models import Capability
from agglo.factory.weeks import week_at

GRADES = Capability.Grade.choices


def finding_text(finding: Finding, order: Any) -> str:
    d: dict[str, Any] = dict(finding.detail)
    step = _("Step %(seq)s") % {"seq": finding.operation} if finding.operation else _("The order")
    if "first" in d:
        d["from"] = week_at(order.start_week, int(d["first"])).isoformat()
    if "last" in d:
        d["to"] = week_at(order.start_week, int(d["last"])).isoformat()
    for amount in ("floor", "cost", "budget"):  # money as the pages show it
        if amount in d:
            d[amount] = money(d[amount])
    d["unit"] = _unit_of(order, finding.operation)
    for count in ("needed", "available", "units", "kept"):  # 2,000,000, as the pages write numbers
        if isinstance(d.get(count), int):
            d[count] = f"{d[count]:,}"
    texts = {
        "process": _("no member factory runs this process (%(process)s)."),
        "quality": _("no factory that runs it reaches the required quality grade."),
        "certification": _("no factory that runs it holds the required certifications."),
        "region": _("no factory that runs it lies in the allowed regions."),
        "declined": _("every capable factory has declined or withdrawn."),
        "route": _("the route is too long: it cannot start before the week of %(from)s yet must end by %(to)s."),
        "capacity": _(
            "needs %(needed)s %(unit)s but the capable factories have only %(available)s %(unit)s free in the weeks "
            "%(from)s to %(to)s (weekly capacity)."
        ),
        "suppliers": _(
            "needs %(needed)s %(unit)s but %(limit)s suppliers can make at most %(available)s in the "
            "weeks %(from)s to %(to)s (supplier limit)."
        ),
        "suppliers_holding": _(
            "needs %(needed)s %(unit)s but can have at most %(limit)s suppliers, %(holding)s of them already fixed "
            "by work delivered or under way, and with them at most %(available)s can be made in the weeks %(from)s "
            "to %(to)s (supplier limit): a higher limit lets another factory make the rest."
        ),
        "budget": _("costs at least %(floor)s at the cheapest capable factories, above the budget of %(budget)s."),
        "held": _(
            "open offers to other orders hold %(units)s %(unit)s of the capable factories' capacity in these weeks, "
            "until %(until)s at the latest: planning again after they are answered may find room."
        ),
        "held_short": _(
            "open offers to other orders hold %(units)s %(unit)s of the capable factories' capacity in these weeks, "
            "until %(until)s at the latest; even if they are all declined, that is less than this step lacks."
        ),
        "too_large": _(
            "its quantities and prices are too large for the solver to count: split the order, or check the quantities."
        ),
        "budget_plan": _(
            "the cheapest plan found costs %(cost)s in production and setups, above the budget of %(budget)s."
        ),
    }
    if finding.rule == "certification" and d.get("certifications"):  # named where the finding kept them
        texts["certification"] = (
            _("no factory that runs it holds all of %(certifications)s.")
            if d.get("each_held")
            else _("no factory that runs it holds %(certifications)s.")
        )
    if finding.rule == "together":  # the conflict is between the steps, not in one of them
        said = _(
            "Each step fits on its own, but not all of them together within %(n)d weeks: a step starts only after "
            "the steps before it have finished (and their parts have travelled), and the capable factories' free "
            "weeks, shared with this order's other steps, do not line up that way."
        ) % {"n": int(d.get("n", 0))}
        needs = [pair.split(":") for pair in str(d.get("needs", "")).split()]
        if not needs:  # found before the figures were kept
            return said
        steps = _("; ").join(
            ngettext("step %(step)s at least %(n)d week", "step %(step)s at least %(n)d weeks", int(w))
            % {"step": step, "n": int(w)}
            for step, w in needs
        )
        return " ".join(
            (
                said,
                _(
                    "At their largest allowed suppliers' best weekly pace: %(steps)s; %(chain)d weeks for the "
                    "longest chain of steps in sequence. To fit, allow more suppliers per step, order less, or move "
                    "the due week later."
                )
                % {"steps": steps, "chain": int(d.get("chain", 0))},
            )
        )
    if finding.rule == "buyer_left":  # an order called off for its buyer (`services.departures`), not a step's fault
        return _("Its buyer is no longer a member of the platform, so the order was called off.")
    if finding.rule == "ineligible":
        said = _("%(step)s: %(text)s") % {"step": step, "text": _ineligible(d)}
        return _with_counted(said, order) if d.get("certification") or d.get("unheld") else said
    if finding.rule == "turned_down":
        return _("%(step)s: %(text)s") % {"step": step, "text": _turned_down(d)}
    rule = "suppliers_holding" if finding.rule == "suppliers" and d.get("holding") else finding.rule
    text = texts.get(rule, _("breaks the rule %(rule)s.") % {"rule": finding.rule})
    with contextlib.suppress(KeyError, TypeError, ValueError):
        text = text % d
    said = _("%(step)s: %(text)s") % {"step": step, "text": text}
    # free capacity ends where a required certificate does, so a short week may be a certificate's
    counted = finding.rule == "certification" or (finding.rule == "capacity" and getattr(order, "certifications", ()))
    return _with_counted(said, order) if counted else said


def _with_counted(said: str, order: Any) -> str:
    """A finding about certifications, with which certificates the order counts where it asks for more than a
    factory's word (else "no factory holds ISO9001" would puzzle a buyer who sees factories declaring it)."""
    level = getattr(order, "certificates", "declared")
    if level == "on_record":
        note = _(
            "The order counts only certificates on record in a factory's profile, and a factory takes its work only "
            "in weeks they are valid through."
        )
    elif level == "verified":
        note = _(
            "The order counts only certificates on record in a factory's profile and verified, and a factory takes "
            "its work only in weeks they are valid through."
        )
    else:
        return said
    return _("%(finding)s %(note)s") % {"finding": said, "note": note}


def _unit_of(order: Any, step: str) -> str:
    """The capacity unit of an order's step (机时, square metres …), or "units" where none is known."""
    steps = getattr(order, "operations", None)  # an order that is not one (a finding read alone) has none
    seq = posted_id(step)
    if steps is None or seq is None:
        return str(_("units"))
    # all() so that a list's prefetched steps (operations__process) serve every order without a query each
    operation = next((op for op in steps.all() if op.seq == seq), None)
    return str(operation.process.unit) if operation is not None else str(_("units"))


def _turned_down(counts: dict[str, Any]) -> str:
    """The factories that could make the rest of a step turned it down, keeping what they accepted; and why the
    others that run the process cannot help."""
    n = int(counts.get("limited", 0))
    text = ngettext(
        "%(n)d factory that may make it turned down the rest of the step and keeps only the %(kept)s %(unit)s it "
        "accepted",
        "%(n)d factories that may make it turned down the rest of the step and keep only the %(kept)s %(unit)s they "
        "accepted",
        n,
    ) % {"n": n, "kept": counts.get("kept", 0), "unit": counts.get("unit", _("units"))}
    others = _reasons(counts)
    if others:
        text = _("%(text)s; of the other factories that run it, %(why)s") % {"text": text, "why": _("; ").join(others)}
    return _("%(text)s.") % {"text": text}


def _ineligible(counts: dict[str, Any]) -> str:
    """Every reason the factories that run a step cannot take it, with how many each; first, a certification no
    factory holds at all (no other change helps until one does)."""
    text = _("none of the %(factories)s factories that run it may take it: %(why)s.") % {
        "factories": counts.get("factories", 0),
        "why": _("; ").join(_reasons(counts)),
    }
    if counts.get("unheld"):
        return _("no factory that runs it holds %(certifications)s; %(rest)s") % {
            "certifications": counts["unheld"],
            "rest": text,
        }
    return text


def _reasons(counts: dict[str, Any]) -> list[str]:
    """Why factories that run a step cannot take it, with how many for each reason."""
    words = {
        "declined": lambda n: ngettext("%(n)d declined or withdrew", "%(n)d declined or withdrew", n),
        "quality": lambda n: ngettext(
            "%(n)d does not reach the required quality grade", "%(n)d do not reach the required quality grade", n
        ),
        "certification": lambda n: ngettext(
            "%(n)d lacks the required certifications", "%(n)d lack the required certifications", n
        ),
        "region": lambda n: ngettext(
            "%(n)d lies outside the allowed regions", "%(n)d lie outside the allowed regions", n
        ),
    }
    return [words[rule](int(counts[rule])) % {"n": int(counts[rule])} for rule in words if counts.get(rule)]


def finding_kept(finding: Finding) -> dict[str, Any]:
    """A finding as the order keeps it: put into words only when read, in the reader's language."""
    return {"operation": finding.operation, "rule": finding.rule, "detail": dict(finding.detail)}


def diagnosis_texts(order: Any) -> list[str]:
    """The order's diagnosis in the active language. Entries kept as text (a cancellation's reason, or a
    diagnosis from before findings were kept) are shown as they are."""
    return [
        d
        if isinstance(d, str)
        else finding_text(
            Finding(str(d.get("operation", "")), str(d.get("rule", "")), dict(d.get("detail", {}))), order
        )
        for d in order.diagnosis or []
    ]


def plan_cost(order: Any) -> int | None:
    """What the plan costs: production, setups, risk and lateness, without the solver's charge for moving accepted
    work (a device to keep repairs small, not money anyone pays)."""
    costs = (order.plan_stats or {}).get("costs") or {}
    if not costs:
        return (order.plan_stats or {}).get("objective")
    return sum(int(costs.get(part, 0)) for part in ("production", "setup", "risk", "lateness"))


def requirements(order: Any, regions: Any) -> list[str]:
    """What a factory must meet to take the order's work, in words: quality, certifications (and which certificates
    count), regions. `regions(codes)`: their names in the reader's language."""
    said = []
    if order.min_quality:
        grade = next((label for value, label in GRADES if value == order.min_quality), order.min_quality)
        said.append(_("quality grade %(grade)s or above") % {"grade": grade})
    if order.certifications:
        counted = {
            "on_record": _("on record in the factory's profile, valid through the weeks of its work"),
            "verified": _(
                "on record in the factory's profile, verified by the platform and valid through the weeks of its work"
            ),
        }.get(order.certificates)
        names = ", ".join(order.certifications)
        said.append(
            _("certifications %(names)s (%(counted)s)") % {"names": names, "counted": counted}
            if counted
            else _("certifications %(names)s") % {"names": names}
        )
    if order.regions_only:
        said.append(_("only in %(regions)s") % {"regions": ", ".join(regions(order.regions_only))})
    if order.regions_excluded:
        said.append(_("not in %(regions)s") % {"regions": ", ".join(regions(order.regions_excluded))})
    return said


def finishes_late(order: Any, allocations: list[Any]) -> str:
    """A warning when the plan's last week falls after the due week (empty when it is on time)."""
    live = [a.week for a in allocations if a.status in ("offered", "countered", "accepted", "delivered")]
    if not live or max(live) <= order.due_week:
        return ""
    late = (max(live) - order.due_week).days // 7
    return ngettext(
        "The plan finishes in the week of %(week)s, %(n)d week after the due week.",
        "The plan finishes in the week of %(week)s, %(n)d weeks after the due week.",
        late,
    ) % {"week": max(live).isoformat(), "n": late}


def late_advice(order: Any, earliest: tuple[dt.date, int]) -> str:
    """What would let a late plan finish sooner: a later due week where the route cannot end by it (`earliest`:
    the week and the steps in sequence, `selectors.planning.earliest_finish`); a higher lateness penalty where one
    is set; else nothing the terms can do (free capacity does not allow it)."""
    week, chain = earliest
    if order.due_week < week:
        return _(
            "Its %(n)d steps in sequence cannot end before the week of %(week)s: move the due week to that week "
            "or later."
        ) % {"n": chain, "week": week.isoformat()}
    if order.late_penalty:
        return _(
            "A higher lateness penalty lets a repair pay more, or move more of the work members accepted, to finish "
            "sooner."
        )
    return _("With no lateness penalty the due week already comes first: free capacity does not allow sooner.")


def money(value: Any) -> str:
    """¥ with thousands separators: whole yuan as such, amounts with fen to the fen (¥18,916, ¥2.52)."""
    if value is None or value == "":
        return "—"
    try:
        Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"¥{grouped(value)}"


def status_text(allocation: Any, receipt: str = "") -> str:
    """What became of a piece of work, in the reader's language: more than the bare status where the status alone
    would mislead (a counter-offer refused or voided, accepted work called off, a whole step declined); with
    `receipt` ("receipt"), delivered work says too how the buyer, or the platform, received it."""
    a, status = allocation, allocation.status
    if status == "delivered" and receipt and a.receipt:
        return _("%(status)s · %(receipt)s") % {"status": a.get_status_display(), "receipt": a.get_receipt_display()}
    unit = a.operation.process.unit_for(a.counter_quantity)  # the unit after the one count these texts give
    if status == "declined" and a.counter_quantity:
        return _("Counter-offer of %(n)s %(unit)s refused by the buyer") % {"n": a.counter_quantity, "unit": unit}
    if status == "lapsed" and a.counter_quantity:
        return _("Counter-offer of %(n)s %(unit)s lapsed") % {"n": a.counter_quantity, "unit": unit}
    if status == "declined" and a.declined_step:
        return _("Declined (every week of the step)")
    if status in ("accepted", "delivered") and getattr(a, "offered_quantity", None):
        return _("%(status)s (counter-offer of %(n)s of the %(offered)s %(unit)s offered)") % {
            "status": a.get_status_display(),
            "n": a.counter_quantity or a.quantity,
            "offered": a.offered_quantity,
            "unit": a.operation.process.unit_for(a.offered_quantity),
        }
    if status != "superseded":
        return str(a.get_status_display())
    if a.moved_by == "left":
        return _("Taken back while the factory was not in good standing")  # it may be reinstated since
    voided = a.counter_quantity and not a.accepted_at and a.moved_by != "cancelled"
    if voided:
        return _("Counter-offer of %(n)s %(unit)s void: re-planned before it was decided") % {
            "n": a.counter_quantity,
            "unit": unit,
        }
    # older cancellations did not say who moved the work
    if a.moved_by == "cancelled" or (not a.moved_by and a.order.status == "cancelled"):
        return _("Accepted, then called off: order cancelled") if a.accepted_at else _("Order cancelled")
    if a.accepted_at:
        return _("Accepted, then moved by a re-plan")
    return str(a.get_status_display())


# the facts a factory log entry seals, by the name it seals them under
FACT_LABELS = {
    "order": gettext_lazy("Order"),
    "buyer": gettext_lazy("Buyer"),
    "factory": gettext_lazy("Factory"),
    "process": gettext_lazy("Process"),
    "quantity": gettext_lazy("Quantity"),
    "week": gettext_lazy("Week"),
    "done": gettext_lazy("Quantity done"),
    "defects": gettext_lazy("Defects"),
    "delivered_on": gettext_lazy("Delivered on"),
    "from": gettext_lazy("From the week of"),
    "to": gettext_lazy("To the week of"),
    "defects_found": gettext_lazy("Defects found"),
    "reason": gettext_lazy("Reason"),
    "reply": gettext_lazy("Reply"),
    "ruling": gettext_lazy("Reasons for the ruling"),
    "settled": gettext_lazy("Settles a dispute"),
    "whole_step": gettext_lazy("Whole step"),
    "upheld": gettext_lazy("Dispute upheld?"),
}


def fact_label(name: str) -> str:
    """A sealed fact's name as the reader's pages call it (the name itself where there is none)."""
    return str(FACT_LABELS.get(name, name))
