"""Virtual-factory pages: orders and their plans (a Gantt-like grid by factory and week), the job board,
the capacity calendar and the scorecards."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from agglo.access import policy
from agglo.common.errors import DomainError, Forbidden, NotFound, ValidationFailed, labelled_errors
from agglo.common.numbers import posted_id
from agglo.factory.allocation import shift_penalty
from agglo.factory.forms import OPERATION_ROWS, CapabilityForm, OrderForm, OrderTermsForm, operation_rows
from agglo.factory.models import Allocation, Order
from agglo.factory.selectors import orders as selectors
from agglo.factory.selectors.calendar import calendar_page, capacity_calendar, crowded_weeks, offers_waiting, week_of
from agglo.factory.selectors.planning import earliest_finish, first_open_day, horizon
from agglo.factory.selectors.scorecards import scorecard_list
from agglo.factory.services import amend, disputes, jobs, orders, replan
from agglo.factory.services import capacity as capacity_services
from agglo.factory.services.telling import weeks_listed
from agglo.factory.weeks import monday, week_at, with_years
from agglo.factory.wording import diagnosis_texts, finishes_late, late_advice, plan_cost
from agglo.registry.forms import apply_service_errors
from agglo.registry.models import Organization

# Field names in a service's errors, as the pages label them; errors about the whole step have no label.
LABELS = {
    "plan": gettext_lazy("The plan"),
    "quantity_done": gettext_lazy("Quantity done"),
    "defects": gettext_lazy("Defects"),
    "delivered_on": gettext_lazy("Delivered on"),
    "weeks": gettext_lazy("Weeks late"),
    "reason": gettext_lazy("Reason"),
    "quantity": gettext_lazy("Quantity"),
    "note": gettext_lazy("Note"),
    "week": gettext_lazy("Week"),
    "capacity": gettext_lazy("Capacity"),
    "defects_found": gettext_lazy("Defects found"),
    "reply": gettext_lazy("Your answer"),
    "due_week": gettext_lazy("Due week"),
    "max_suppliers": gettext_lazy("Suppliers per operation at most"),
    "budget": gettext_lazy("Budget (yuan)"),
    "late_penalty": gettext_lazy("Lateness penalty per week (yuan)"),
    "max_share": gettext_lazy("Largest share of one factory"),
}


# What a job-board or order-page button did, said back to whoever pressed it.
DONE = {
    "accept": gettext_lazy("Accepted: the capacity is reserved in your calendar."),
    "decline": gettext_lazy("Declined for this week."),
    "counter": gettext_lazy("Counter-offer sent: the buyer decides by its deadline."),
    "delay": gettext_lazy("Delay reported: the plan was repaired around it."),
    "withdraw": gettext_lazy("Withdrawn: the plan was repaired."),
    "progress": gettext_lazy("Progress reported."),
    "confirm-receipt": gettext_lazy("Receipt confirmed."),
    "dispute": gettext_lazy("Dispute sent to the factory."),
    "answer-dispute": gettext_lazy("Answer sent to the buyer."),
    "refer-dispute": gettext_lazy("Dispute referred to the platform: an operator will rule on it."),
    "take-counter": gettext_lazy("Counter-offer taken: the rest of the step was planned again."),
    "refuse-counter": gettext_lazy("Counter-offer refused: the step was planned again."),
}


def _error_parts(exc: DomainError, labels: dict[str, Any] | None = None) -> list[str]:
    """Each bad field's errors after its label, as the form labels it (`labels` where a form names one otherwise)."""
    return [line for _field, line in labelled_errors(exc.errors, LABELS | (labels or {}))]


def _flash(request: HttpRequest, exc: DomainError, labels: dict[str, Any] | None = None) -> None:
    """One error line naming each bad field."""
    messages.error(request, " ".join(_error_parts(exc, labels)) or exc.message)  # each part ends its own sentence


@contextmanager
def _acting(request: HttpRequest, labels: dict[str, Any] | None = None) -> Iterator[None]:
    """Run a service for a button: a refusal is a 403, any other domain error a message on the next page."""
    try:
        yield
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except DomainError as exc:
        _flash(request, exc, labels)


def _my_orgs(user: Any) -> list[Organization]:
    ids = policy.active_organization_ids(user)
    return list(Organization.objects.filter(pk__in=ids).order_by("name_zh"))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Orders the member placed or serves in."""
    rows = selectors.order_list(actor=request.user)[:100]
    # receipts are the buyer's business, shown to those who see the whole plan
    rows_shown = [(o, selectors.sees_whole_plan(request.user, o)) for o in rows]
    return render(request, "factory/home.html", {"orders": rows_shown})


ROUTE_FIELDS = {
    "process": gettext_lazy("Process"),
    "quantity": gettext_lazy("Quantity"),
    "after": gettext_lazy("After steps"),
}


def _route_field(key: str) -> str:
    """`operations[5].after` as the form shows it: the step's number and the column's label."""
    found = re.fullmatch(r"operations\[(\d+)\](?:\.(\w+))?", key)
    if found is None:
        return _("Route")
    step, column = int(found[1]), found[2]
    if column in ROUTE_FIELDS:
        return _("Step %(n)d, %(field)s") % {"n": step, "field": ROUTE_FIELDS[column]}
    return _("Step %(n)d") % {"n": step}


@login_required
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest) -> HttpResponse:
    """Enter an order with its route; on save the solver proposes a plan at once."""
    orgs = _my_orgs(request.user)
    if not orgs:
        raise PermissionDenied(_("Only members in good standing place orders."))
    # the first week that still takes new work (this one only until Wednesday)
    form = OrderForm(request.POST or None, initial={"start_week": monday(first_open_day()).isoformat()})
    route_errors: list[str] = []
    rows = operation_rows(request.POST) if request.method == "POST" else []
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        data["buyer"] = request.POST.get("buyer")
        data["operations"] = rows
        try:
            order = orders.order_create(actor=request.user, data=data)
        except ValidationFailed as exc:
            route = {k: v for k, v in exc.errors.items() if k.startswith("operations")}
            route_errors = [line for _k, line in labelled_errors(route, {k: _route_field(k) for k in route})]
            exc.errors = {k: v for k, v in exc.errors.items() if not k.startswith("operations")}
            apply_service_errors(form, exc)
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            return _planned_new(request, order)
    padded = rows + [{}] * (OPERATION_ROWS - len(rows))
    context = {
        "form": form,
        "orgs": orgs,
        "rows": list(enumerate(padded, start=1)),
        "processes": selectors.process_list(),
        "route_errors": route_errors,
    }
    return render(request, "factory/order_form.html", context, status=400 if request.method == "POST" else 200)


def _planned_new(request: HttpRequest, order: Order) -> HttpResponse:
    """A new order saved: kept as a draft when asked (nothing offered yet), else planned at once. A plan the
    solver could not make in time leaves the draft, and the order page says so."""
    if "draft" in request.POST:
        messages.success(request, _("Order saved as a draft: no factory is offered anything until you plan it."))
        return redirect("factory:order", pk=order.pk)
    try:
        order = orders.order_plan(actor=request.user, order=order)
    except ValidationFailed as exc:
        _flash(request, exc)
        return redirect("factory:order", pk=order.pk)
    if order.status == Order.Status.PLANNED:
        messages.success(request, _("Order saved and planned: the plan's factories were offered their parts."))
    else:
        messages.warning(request, _("Order saved, but no plan fits it; see why below."))
    return redirect("factory:order", pk=order.pk)


def _order(request: HttpRequest, pk: int) -> Any:
    try:
        return selectors.order_get(actor=request.user, pk=pk)
    except NotFound as exc:
        raise Http404 from exc


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan: stats, the diagnosis when there is none, and a grid of factory × week."""
    return _order_page(request, _order(request, pk))


def _order_page(
    request: HttpRequest,
    order: Any,
    terms: OrderTermsForm | None = None,
    status: int = 200,
    failed: dict[str, Any] | None = None,
) -> HttpResponse:
    """The order page; `terms` is the buyer's terms form as sent, when it has errors to show; `failed` a receipt
    or dispute sent with errors, shown at its row with what was typed."""
    allocations = selectors.with_reductions(list(selectors.plan_allocations(actor=request.user, order=order)))
    weeks = [week_at(order.start_week, i) for i in range(horizon())]
    lanes: dict[tuple[str, str], dict[Any, list[Allocation]]] = defaultdict(lambda: defaultdict(list))
    for a in allocations:
        lanes[
            a.factory.name,
            a.operation.process.name_zh if request.LANGUAGE_CODE != "en" else a.operation.process.name_en,
        ][a.week].append(a)
    # lanes in route order, as a Gantt chart reads: by the first step each serves, then its first week
    grid = [
        (factory, process, [cells.get(w, []) for w in weeks])
        for (factory, process), cells in sorted(
            lanes.items(),
            key=lambda lane: (min(a.operation.seq for c in lane[1].values() for a in c), min(lane[1]), lane[0]),
        )
    ]
    members = selectors.virtual_factory_members(actor=request.user, order=order)
    is_buyer = selectors.is_buyer(request.user, order)
    if not is_buyer or order.status in Order.CLOSED:
        terms = None
    elif terms is None:
        terms = OrderTermsForm(
            initial={
                "due_week": order.due_week.isoformat(),
                "max_suppliers": order.max_suppliers,
                "max_share": order.max_share if order.max_share is not None else "",
                "budget": order.budget if order.budget is not None else "",
                "late_penalty": order.late_penalty,
                "regions_only": ", ".join(order.regions_only),
                "regions_excluded": ", ".join(order.regions_excluded),
            }
        )
    context = {
        "order": order,
        "diagnosis": diagnosis_texts(order),
        "plan_cost": plan_cost(order),
        "finishes": finishes_late(order, allocations),
        "weeks": with_years(weeks),  # the year where the weeks start and where a new one begins
        "grid": grid,
        "allocations": allocations,
        "changes": (changes := list(selectors.plan_changes(actor=request.user, order=order))),
        # why a repair may move accepted work of a factory that did nothing: said once, when it happened
        "moved_penalty": replan.CHANGE_PENALTY
        if order.status != Order.Status.CANCELLED and any(a.status == Allocation.Status.SUPERSEDED for a in changes)
        else None,
        "shift_penalty": shift_penalty(replan.CHANGE_PENALTY),
        "is_buyer": is_buyer,
        "terms_form": terms,
        "sees_plan": selectors.sees_whole_plan(request.user, order),
        "members": members,
        "operations": order.operations.select_related("process"),
        "log_keys": selectors.log_keys(allocations + changes),
        "failed": failed or {},
    }
    return render(request, "factory/order_detail.html", context, status=status)


@login_required
@require_POST
def order_replan(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk)
    with _acting(request):
        planned = orders.order_plan(actor=request.user, order=order)
        if planned.status == Order.Status.INFEASIBLE:
            messages.warning(request, _("Still no plan fits the order; see why below."))
        elif order.status == Order.Status.DRAFT:  # the draft's first plan: this is when factories hear of it
            messages.success(request, _("Planned: the plan's factories were offered their parts."))
        else:
            messages.success(request, _("Plan updated: new or changed parts were offered to their factories."))
    return redirect("factory:order", pk=order.pk)


@login_required
@require_http_methods(["GET", "POST"])
def order_amend(request: HttpRequest, pk: int) -> HttpResponse:
    """The buyer changes the due week or terms; the plan is repaired around accepted work. A GET (the form's
    address reloaded, or the language switched, after an error) goes back to the order."""
    order = _order(request, pk)
    if request.method == "GET":
        return redirect("factory:order", pk=order.pk)
    before = [getattr(order, k) for k in amend.AMENDABLE]
    sent = {k: request.POST[k] for k in amend.AMENDABLE if k in request.POST}
    try:
        # a change that would take members' accepted work comes back as a question first, as cancelling does
        # and confirmed, it is applied only if the repair still does what was shown
        expect = request.POST.get("preview") or None
        confirmed = request.POST.get("confirmed") == "yes" and expect is not None
        amended = amend.order_amend(actor=request.user, order=order, data=sent, confirmed=confirmed, expect=expect)
    except amend.AmendWouldMoveAccepted as asked:
        changing = {k: v for k, v in sent.items() if k in asked.fields}
        context = {"order": order, "p": asked.preview, "sent": changing, "changed": asked.changed}
        return render(request, "factory/amend_confirm.html", context)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationFailed as exc:
        # no form to show it in; or the terms were fine but no plan for them was found in time (nothing changed)
        if order.status in Order.CLOSED or set(exc.errors) == {"plan"}:
            _flash(request, exc)
            return redirect("factory:order", pk=order.pk)
        # the form again, as sent, with each error beside its field
        form = OrderTermsForm(request.POST)
        form.is_valid()
        apply_service_errors(form, exc)
        return _order_page(request, order, terms=form, status=400)
    else:
        if [getattr(amended, k) for k in amend.AMENDABLE] == before:
            messages.info(request, _("Nothing changed."))
        elif amended.status == Order.Status.DRAFT:
            messages.success(request, _("Order changed."))
        elif amended.status == Order.Status.INFEASIBLE:
            messages.warning(request, _("Order changed, but no plan fits it; see why below."))
        elif late := finishes_late(amended, list(amended.allocations.all())):
            # e.g. an earlier due week the repair could not meet: a success would say it did, and say what helps
            messages.warning(
                request,
                _("Order changed and the plan repaired, but it still finishes late. %(late)s %(advice)s")
                % {"late": late, "advice": late_advice(amended, earliest_finish(amended))},
            )
        else:
            messages.success(request, _("Order changed; the plan was repaired."))
    return redirect("factory:order", pk=order.pk)


@login_required
@require_http_methods(["GET", "POST"])
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk)
    if request.method == "GET":  # the confirmation page reloaded, or its language switched: start again there
        return redirect("factory:order", pk=order.pk)
    reason = request.POST.get("reason", "")
    with _acting(request, {"reason": gettext_lazy("Reason for cancelling")}):
        if request.POST.get("confirmed") != "yes":  # first say what cancelling calls off, and ask
            reason = orders.cancel_check(actor=request.user, order=order, reason=reason)
            preview = selectors.cancel_preview(order)
            return render(request, "factory/cancel_confirm.html", {"order": order, "reason": reason, "p": preview})
        orders.order_cancel(actor=request.user, order=order, reason=reason)
        messages.success(request, _("Order cancelled."))
    return redirect("factory:order", pk=order.pk)


@login_required
def job_board(request: HttpRequest) -> HttpResponse:
    """Work offered to the member's factories: answer offers, report progress, withdraw."""
    return _board(request)


def _board(request: HttpRequest, failed: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    """The job board; `failed` is an answer sent with errors: shown at its row, with what was typed."""
    rows = selectors.job_board_rows(actor=request.user)
    return render(
        request,
        "factory/jobs.html",
        {
            "offered": [a for a in rows if a.status == "offered"],
            "accepted": [a for a in rows if a.status == "accepted"],
            "countered": [a for a in rows if a.status == "countered"],
            "others": [a for a in rows if a.status not in ("offered", "accepted", "countered")],
            # its own query: an old delivery under dispute must not drop out of the newest 200 rows
            "disputed": selectors.job_board(actor=request.user, receipt="disputed")[:200],
            "failed": failed or {},
        },
        status=status,
    )


# the buyer's steps on an allocation: they come from its order page, the factory's from its job board
BUYER_ACTIONS = frozenset(("confirm-receipt", "dispute", "take-counter", "refuse-counter"))
# fields as an action's form names them where the general labels do not: a dispute's note is what is wrong
ACTION_LABELS = {
    "dispute": {"note": gettext_lazy("What is wrong")},
    "withdraw": {"reason": gettext_lazy("Withdrawal reason")},
}


# what each of the job board's forms sends, kept when an answer comes back with errors
BOARD_FIELDS = {
    "decline": ("note", "whole_step"),
    "counter": ("quantity", "note"),
    "progress": ("quantity_done", "defects", "delivered_on", "started"),
    "delay": ("weeks", "reason"),
    "withdraw": ("reason",),
    "answer-dispute": ("reply",),
}
# the buyer's forms on the order page, likewise
ORDER_FIELDS = {"confirm-receipt": ("defects_found",), "dispute": ("note",)}


@login_required
@require_http_methods(["GET", "POST"])
def allocation_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Answer, withdraw, report progress (factory) or decide on a counter-offer (buyer). An error in a job board
    form comes back at its row, with what was typed; others, and a step the work has moved past, as a message."""
    try:
        allocation = selectors.allocation_get(actor=request.user, pk=pk)
    except NotFound as exc:
        raise Http404 from exc
    home = reverse("factory:order", args=[allocation.order_id]) if action in BUYER_ACTIONS else "/factory/jobs/"
    if request.method == "GET":  # a confirmation page reloaded, or its language switched: back where it began
        return redirect(home)
    back = request.POST.get("next") or home
    if not back.startswith("/factory/") or back.startswith("//"):
        back = home
    try:
        shown = _act(request, allocation, action)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except DomainError as exc:
        if back == "/factory/jobs/" and action in BOARD_FIELDS and set(exc.errors) - {"action"}:
            sent = {k: request.POST.get(k, "") for k in BOARD_FIELDS[action]}
            errors = _error_parts(exc, ACTION_LABELS.get(action))
            return _board(request, {"pk": allocation.pk, "action": action, "errors": errors, **sent}, status=400)
        if back == home and action in ORDER_FIELDS and set(exc.errors) - {"action"}:
            sent = {k: request.POST.get(k, "") for k in ORDER_FIELDS[action]}
            failed = {"pk": allocation.pk, "action": action, "errors": _error_parts(exc, ACTION_LABELS.get(action))}
            return _order_page(request, _order(request, allocation.order_id), status=400, failed={**failed, **sent})
        _flash(request, exc, ACTION_LABELS.get(action))
        return redirect(back)
    if shown is not None:
        return shown
    messages.success(request, _declined(request, allocation) if action == "decline" else DONE[action])
    return redirect(back)


def _act(request: HttpRequest, allocation: Allocation, action: str) -> HttpResponse | None:
    """Carry out one action from its form; a page to show instead of going back, where there is one."""
    if action in jobs.ACTIONS:
        jobs.allocation_respond(
            actor=request.user,
            allocation=allocation,
            action=action,
            quantity=request.POST.get("quantity"),
            note=request.POST.get("note", ""),
            whole_step=bool(request.POST.get("whole_step")),
        )
    elif action == "delay":
        jobs.allocation_delay(
            actor=request.user,
            allocation=allocation,
            weeks=request.POST.get("weeks"),
            reason=request.POST.get("reason", ""),
        )
    elif action == "withdraw":
        reason = request.POST.get("reason", "")
        if request.POST.get("confirmed") != "yes":  # first say what withdrawing does, and ask
            reason = jobs.withdraw_check(actor=request.user, allocation=allocation, reason=reason)
            return render(request, "factory/withdraw_confirm.html", {"a": allocation, "reason": reason})
        jobs.allocation_withdraw(actor=request.user, allocation=allocation, reason=reason)
    elif action == "progress":
        jobs.allocation_progress(
            actor=request.user,
            allocation=allocation,
            data={
                k: request.POST.get(k)
                for k in ("quantity_done", "defects", "delivered_on", "started")
                if request.POST.get(k)
            },
        )
    elif action in ("confirm-receipt", "dispute"):
        jobs.allocation_receipt(
            actor=request.user,
            allocation=allocation,
            confirm=action == "confirm-receipt",
            defects_found=request.POST.get("defects_found"),
            note=request.POST.get("note", ""),
        )
    elif action == "answer-dispute":
        disputes.dispute_answer(actor=request.user, allocation=allocation, reply=request.POST.get("reply", ""))
    elif action == "refer-dispute":
        disputes.dispute_refer(actor=request.user, allocation=allocation)
    elif action in ("take-counter", "refuse-counter"):
        jobs.counter_decide(actor=request.user, allocation=allocation, accept=action == "take-counter")
    else:
        raise Http404
    return None


def _warn_of_waiting_offers(request: HttpRequest, capability: Any, crowded_before: list[Any]) -> None:
    """After new terms: open offers the factory can no longer all accept (in weeks the change crowded), or that
    wait on a process it stopped."""
    if crowded := [w for w in crowded_weeks(capability) if w not in crowded_before]:
        messages.warning(
            request,
            _(
                "Open offers to you no longer all fit in the weeks of %(weeks)s: answer them on the job board "
                "(decline, or counter-offer what you can make)."
            )
            % {"weeks": weeks_listed(crowded)},
        )
    if not capability.active and (waiting := offers_waiting(capability)):
        messages.warning(
            request,
            ngettext(
                "You no longer offer this process, but %(n)d open offer for it still waits for your answer on the "
                "job board.",
                "You no longer offer this process, but %(n)d open offers for it still wait for your answer on the "
                "job board.",
                waiting,
            )
            % {"n": waiting},
        )


def _declined(request: HttpRequest, allocation: Allocation) -> str:
    """What a decline did: the whole step, or one week of it and whether the repaired plan offers other weeks."""
    if request.POST.get("whole_step"):
        return _("Declined for every week of this step.")
    offered = selectors.job_board(actor=request.user, status="offered").filter(operation_id=allocation.operation_id)
    if offered.exists():
        return _("Declined for this week: the repaired plan offers you other weeks of the step, under “Offered to us”.")
    return str(DONE["decline"])


@login_required
@require_http_methods(["GET", "POST"])
def capacity(request: HttpRequest) -> HttpResponse:
    """The member's capabilities and their calendar: capacity and reserved work, week by week."""
    orgs = _my_orgs(request.user)
    editing = _capability_to_edit(request, orgs)
    initial = _capability_initial(editing) if editing else {"organization": orgs[0].pk if orgs else None}
    setting_week = request.method == "POST" and bool(request.POST.get("week"))  # the calendar's "Set week" form
    form = CapabilityForm(None if setting_week else request.POST or None, initial=initial, organizations=orgs)
    if editing:  # changing one declaration: its factory and process stay what they are, whatever is posted
        form.fields["organization"].disabled = form.fields["process"].disabled = True
    week_failed: dict[str, Any] = {}  # the "Set week" form as sent, when it has errors to show
    page_from = request.GET.get("from")
    if request.method == "POST":
        if setting_week:
            key = posted_id(request.POST.get("capability"))
            cap = selectors.capability_list(actor=request.user).filter(pk=key).first() if key is not None else None
            if cap is None:
                raise Http404
            try:
                slot = capacity_services.capacity_set(
                    actor=request.user, capability=cap, week=request.POST["week"], capacity=request.POST.get("capacity")
                )
                messages.success(request, _("Capacity saved."))
                if (held := week_of(cap, slot.week)).over_room:
                    messages.warning(
                        request,
                        _(
                            "Open offers to you hold %(n)d %(unit)s in the week of %(week)s, more than the "
                            "%(room)d now left: you cannot accept them all. Answer them on the job board (decline, or "
                            "counter-offer what you can make)."
                        )
                        % {
                            "n": held.on_offer,
                            "unit": cap.process.unit,
                            "week": slot.week,
                            "room": held.room,
                        },
                    )
            except Forbidden as exc:
                raise PermissionDenied(str(exc)) from exc
            except ValidationFailed as exc:  # back on the page the form was on, with what was typed
                week_failed = {k: request.POST.get(k, "") for k in ("week", "capacity")}
                week_failed |= {"capability": cap.pk, "errors": _error_parts(exc)}
                page_from = request.POST.get("from")
            else:
                back = calendar_page(request.POST.get("from")).weeks[0]  # to the page the form was on
                return redirect(f"{reverse('factory:capacity')}?from={back.isoformat()}")
        elif form.is_valid():
            data = dict(form.cleaned_data)
            data["process"] = data["process"].code
            organization_id = data.pop("organization")
            known = selectors.capability_list(actor=request.user, organization_id=organization_id)
            declared = known.filter(process_id=data["process"]).first()
            if declared is not None and not editing:
                # the blank form would put its defaults over the terms declared: changing them is "Change terms"
                form.add_error(
                    "process",
                    _("This factory already declares this process: use “Change terms” on its row to change it."),
                )
            else:
                crowded_before = crowded_weeks(declared) if declared is not None else []
                try:
                    saved = capacity_services.capability_save(
                        actor=request.user, organization_id=organization_id, data=data
                    )
                    messages.success(request, _("Capability updated.") if declared else _("Capability saved."))
                    _warn_of_waiting_offers(request, saved, crowded_before)
                    return redirect("factory:capacity")
                except ValidationFailed as exc:
                    apply_service_errors(form, exc)
                except (Forbidden, NotFound) as exc:
                    form.add_error("organization", str(exc))
    page = calendar_page(page_from)
    calendar = capacity_calendar(selectors.capability_list(actor=request.user), page.weeks)
    return render(
        request,
        "factory/capacity.html",
        {
            "form": form,
            "calendar": calendar,
            "weeks": page.weeks,
            "week_heads": with_years(page.weeks),
            "orgs": orgs,
            "editing": editing,
            "earlier": page.earlier,
            "later": page.later,
            "open_from": monday(first_open_day()),
            "week_failed": week_failed,
        },
        status=400 if request.method == "POST" else 200,
    )


def _capability_to_edit(request: HttpRequest, orgs: list[Organization]) -> Any:
    """The capability named by `?edit=` (or the form's `editing`), if it is one of the user's own factories' (else
    None: the form declares). Operators see every calendar but change terms only where they are members, as the
    form offers."""
    key = posted_id(request.GET.get("edit") if request.method == "GET" else request.POST.get("editing"))
    if key is None:
        return None
    mine = selectors.capability_list(actor=request.user).filter(organization__in=orgs)
    return mine.filter(pk=key).select_related("process").first()


def _capability_initial(cap: Any) -> dict[str, Any]:
    """The declaration form filled with what is declared now, so that changing one term keeps the others."""
    return {
        "organization": cap.organization_id,
        "process": cap.process_id,
        "weekly_capacity": cap.weekly_capacity,
        "unit_cost": cap.unit_cost,
        "setup_cost": cap.setup_cost,
        "min_lot": cap.min_lot,
        "quality_grade": cap.quality_grade,
        "certifications": ", ".join(cap.certifications),
        "lead_weeks": cap.lead_weeks,
        "active": cap.active,
    }


@login_required
def scorecards(request: HttpRequest) -> HttpResponse:
    """Every factory's record of delivered work, which the solver reads as risk."""
    try:
        cards = scorecard_list(actor=request.user)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    return render(request, "factory/scorecards.html", {"cards": cards})


# the ruling form's fields, as it labels them
RULING_LABELS = {
    "upheld": gettext_lazy("Ruling"),
    "defects_found": gettext_lazy("Defects proven"),
    "ruling": gettext_lazy("Reasons"),
}


DESK_PAGE = 50


def _desk(request: HttpRequest, failed: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    """The operators' desk: disputes a party referred to the platform, to rule on, and those ruled on. `failed` is
    a ruling sent with errors: shown at its row, with what the operator typed."""
    try:
        waiting = selectors.disputes_referred(actor=request.user)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    decided = selectors.disputes_referred(actor=request.user, decided=True)
    context = {
        # two lists paged apart: ?page= for those waiting (oldest first), ?decided= for the decided (newest first)
        "waiting": Paginator(waiting, DESK_PAGE).get_page(request.GET.get("page")),
        "decided": Paginator(decided, DESK_PAGE).get_page(request.GET.get("decided")),
        "failed": failed or {},
    }
    return render(request, "factory/disputes.html", context, status=status)


@login_required
def dispute_list(request: HttpRequest) -> HttpResponse:
    return _desk(request)


@login_required
@require_http_methods(["GET", "POST"])
def dispute_ruling(request: HttpRequest, pk: int) -> HttpResponse:
    """An operator's ruling on one referred dispute; with errors, the desk again with them at its row."""
    # back to the page of the desk the ruling was made on
    desk = reverse("factory:disputes") + (f"?{request.GET.urlencode()}" if request.GET else "")
    if request.method == "GET":
        return redirect(desk)
    try:
        allocation = selectors.allocation_get(actor=request.user, pk=pk)
    except NotFound as exc:
        raise Http404 from exc
    sent = {k: request.POST.get(k, "") for k in ("outcome", "defects_found", "ruling")}
    try:
        disputes.dispute_rule(
            actor=request.user,
            allocation=allocation,
            upheld={"upheld": True, "dismissed": False}.get(sent["outcome"]),
            defects_found=sent["defects_found"],
            ruling=sent["ruling"],
        )
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except DomainError as exc:
        if not set(exc.errors) - {"action"}:  # the dispute itself moved on (settled, ruled): its row may be gone
            _flash(request, exc)
            return redirect(desk)
        errors = _error_parts(exc, RULING_LABELS)
        return _desk(request, {"pk": allocation.pk, "errors": errors, **sent}, status=400)
    messages.success(request, _("Ruling made: both parties were told."))
    return redirect(desk)
