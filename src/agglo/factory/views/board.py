"""The job board: factories answer offers, report progress, delays and deliveries, and withdraw; the buyer's steps
on a piece of work (receipts, disputes, counter-offers) come from its order page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from agglo.common.errors import DomainError, Forbidden, NotFound
from agglo.factory.models import Allocation
from agglo.factory.selectors import orders as selectors
from agglo.factory.services import disputes, execution, jobs
from agglo.factory.views.acting import error_parts, flash
from agglo.factory.views.orders import order_or_404, order_page

# a progress report that delivers
DELIVERED = gettext_lazy("Delivery reported: the buyer is asked to confirm receipt, with its own inspection.")
# a counter-offer taken where a repair while it was open had planned the rest already
TAKEN_UNCHANGED = gettext_lazy("Counter-offer taken: the rest of the plan needed no change.")
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


BOARD = "/factory/jobs/"
BOARD_PAGE = 50


@login_required
def job_board(request: HttpRequest) -> HttpResponse:
    """Work offered to the member's factories: answer offers, report progress, withdraw."""
    return _board(request)


def _board(
    request: HttpRequest, failed: dict[str, Any] | None = None, status: int = 200, pages: QueryDict | None = None
) -> HttpResponse:
    """The job board; `failed` is an answer sent with errors: shown at its row, with what was typed, on the pages
    of its lists it was sent from (`pages`, the board's query then)."""
    pages = request.GET if pages is None else pages
    rows = selectors.job_board_open(actor=request.user)
    # an order with several offers to one factory may have them all accepted at once (`jobs.offers_accept`)
    groups: dict[tuple[int, int], list[Allocation]] = {}
    for a in rows:
        if a.status == "offered":
            groups.setdefault((a.order_id, a.factory_id), []).append(a)
    return render(
        request,
        "factory/jobs.html",
        {
            # every list pages apart (a busy factory had hundreds of open rows, each with its forms, on one page)
            "offered": Paginator([a for a in rows if a.status == "offered"], BOARD_PAGE).get_page(pages.get("offered")),
            "accepted": Paginator([a for a in rows if a.status == "accepted"], BOARD_PAGE).get_page(
                pages.get("accepted")
            ),
            "countered": Paginator([a for a in rows if a.status == "countered"], BOARD_PAGE).get_page(
                pages.get("countered")
            ),
            "others": Paginator(selectors.job_board_earlier(actor=request.user), BOARD_PAGE).get_page(
                pages.get("earlier")
            ),
            "disputed": Paginator(selectors.job_board(actor=request.user, receipt="disputed"), BOARD_PAGE).get_page(
                pages.get("disputed")
            ),
            "several": [
                {"order": g[0].order, "factory": g[0].factory, "n": len(g), "ids": sorted(a.pk for a in g)}
                for g in groups.values()
                if len(g) > 1
            ],
            "many_factories": len({factory for _order, factory in groups}) > 1,
            "failed": failed or {},
            # where the board's page links and its forms' way back lead, also when it is shown at a form's address
            "pager_base": BOARD,
            "pager_query": pages,
            "board_here": f"{BOARD}?{pages.urlencode()}" if pages else BOARD,
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
    home = reverse("factory:order", args=[allocation.order_id]) if action in BUYER_ACTIONS else BOARD
    if request.method == "GET":  # a confirmation page reloaded, or its language switched: back where it began
        return redirect(home)
    back = _back(request, home)
    try:
        shown = _act(request, allocation, action)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except DomainError as exc:
        path, _, query = back.partition("?")
        if path == BOARD and action in BOARD_FIELDS and set(exc.errors) - {"action"}:
            sent = {k: request.POST.get(k, "") for k in BOARD_FIELDS[action]}
            errors = error_parts(exc, ACTION_LABELS.get(action))
            failed = {
                "pk": allocation.pk,
                "action": action,
                "errors": errors,
                "fields": sorted(exc.errors),  # the inputs to mark invalid
                "inputs": BOARD_FIELDS[action],
                **sent,
            }
            return _board(request, failed, status=400, pages=QueryDict(query))
        if back == home and action in ORDER_FIELDS and set(exc.errors) - {"action"}:
            sent = {k: request.POST.get(k, "") for k in ORDER_FIELDS[action]}
            failed = {"pk": allocation.pk, "action": action, "errors": error_parts(exc, ACTION_LABELS.get(action))}
            return order_page(
                request, order_or_404(request, allocation.order_id), status=400, failed={**failed, **sent}
            )
        flash(request, exc, ACTION_LABELS.get(action))
        return redirect(back)
    if shown is not None:
        return shown
    if action == "decline":
        said = _declined(request, allocation)
    elif action == "progress" and request.POST.get("delivered_on"):
        said = str(DELIVERED)
    elif action == "take-counter" and selectors.plan_unchanged(
        selectors.order_get(actor=request.user, pk=allocation.order_id), "counter"
    ):
        said = str(TAKEN_UNCHANGED)
    else:
        said = str(DONE[action])
    messages.success(request, said)
    return redirect(back)


def _back(request: HttpRequest, home: str) -> str:
    """Where a form sends its sender back: the page it names, if one of the factory's own (never another site)."""
    back = request.POST.get("next") or home
    return back if back.startswith("/factory/") else home


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
        execution.allocation_delay(
            actor=request.user,
            allocation=allocation,
            weeks=request.POST.get("weeks"),
            reason=request.POST.get("reason", ""),
        )
    elif action == "withdraw":
        reason = request.POST.get("reason", "")
        if request.POST.get("confirmed") != "yes":  # first say what withdrawing does, and ask
            reason = execution.withdraw_check(actor=request.user, allocation=allocation, reason=reason)
            return render(request, "factory/withdraw_confirm.html", {"a": allocation, "reason": reason})
        execution.allocation_withdraw(actor=request.user, allocation=allocation, reason=reason)
    elif action == "progress":
        execution.allocation_progress(
            actor=request.user,
            allocation=allocation,
            data={
                k: request.POST.get(k)
                for k in ("quantity_done", "defects", "delivered_on", "started")
                if request.POST.get(k)
            },
        )
    elif action in ("confirm-receipt", "dispute"):
        execution.allocation_receipt(
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


@login_required
@require_POST
def offers_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept every open offer of one order to one of the reader's factories (the board's "Accept all")."""
    order = order_or_404(request, pk)
    back = _back(request, BOARD)
    try:
        accepted = jobs.offers_accept(
            actor=request.user,
            order=order,
            factory_id=request.POST.get("factory"),
            # the offers the button was drawn for: a re-plan since must not have them accept work not yet seen
            offers=request.POST.getlist("offer") or None,
        )
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except DomainError as exc:
        flash(request, exc)
        return redirect(back)
    messages.success(
        request,
        ngettext(
            "%(n)d offer accepted: the capacity is reserved in your calendar.",
            "%(n)d offers accepted: the capacity is reserved in your calendar.",
            len(accepted),
        )
        % {"n": len(accepted)},
    )
    return redirect(back)


def _declined(request: HttpRequest, allocation: Allocation) -> str:
    """What a decline did: the whole step, or one week of it and whether the repaired plan offers other weeks."""
    if request.POST.get("whole_step"):
        return _("Declined for every week of this step.")
    offered = selectors.job_board(actor=request.user, status="offered").filter(operation_id=allocation.operation_id)
    if offered.exists():
        return _("Declined for this week: the repaired plan offers you other weeks of the step, under “Offered to us”.")
    return str(DONE["decline"])
