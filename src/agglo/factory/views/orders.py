"""Order pages: the member's orders, entering one, its plan (a Gantt-like grid by factory and week), planning it
again, changing its terms and cancelling it."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from agglo.common.errors import Forbidden, NotFound, ValidationFailed, labelled_errors
from agglo.common.form_versions import DRAWN, FormVersion, drawn_of, form_texts, merged
from agglo.common.idempotency import acted, confirm_repeat
from agglo.common.numbers import posted_id
from agglo.common.uploads import DRAWING_TYPES
from agglo.factory.allocation import shift_penalty
from agglo.factory.forms import (
    OPERATION_ROWS,
    OrderFilterForm,
    OrderForm,
    OrderTermsForm,
    operation_rows,
    repeat_initial,
    repeat_rows,
    step_field,
    terms_initial,
)
from agglo.factory.models import Allocation, Order
from agglo.factory.selectors import orders as selectors
from agglo.factory.selectors.planning import earliest_finish, first_open_day, horizon
from agglo.factory.services import amend, orders, replan
from agglo.factory.views.acting import acting, flash, my_orgs
from agglo.factory.weeks import monday, week_at, with_years
from agglo.factory.wording import diagnosis_texts, finishes_late, late_advice, plan_cost, requirements
from agglo.registry.forms import apply_service_errors
from agglo.registry.selectors import region_names

# what the file boxes offer to choose: the types, and the extensions CAD files come with
DRAWING_ACCEPT = ",".join([*DRAWING_TYPES, ".step", ".stp", ".zip"])


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Orders the member placed or serves in, searchable and filtered by status and by the member's part."""
    form = OrderFilterForm(request.GET or None)
    form.is_valid()  # a bad choice is named beside its control; the others still filter
    filters = getattr(form, "cleaned_data", {})
    rows = selectors.order_list(actor=request.user, **{k: filters.get(k, "") for k in ("status", "role", "q")})
    page = Paginator(rows, ORDERS_PAGE).get_page(request.GET.get("page"))
    # receipts are the buyer's business, shown to those who see the whole plan
    rows_shown = [(o, selectors.sees_whole_plan(request.user, o), selectors.progress_of(request.user, o)) for o in page]
    context = {
        "orders": rows_shown,
        "page": page,
        "form": form,
        "filtered": any(filters.values()),
        "serves": bool(my_orgs(request.user)),  # the role filter means nothing to one without an organization
    }
    return render(request, "factory/home.html", context)


ORDERS_PAGE = 50  # orders on a page of the list, newest first


ROUTE_FIELDS = {
    "process": gettext_lazy("Process"),
    "quantity": gettext_lazy("Quantity"),
    "after": gettext_lazy("After steps"),
}


def _route_key(key: str) -> tuple[int, str | None] | None:
    """`operations[5].after` → (5, "after"); `operations[5]` → (5, None); another key → None."""
    found = re.fullmatch(r"operations\[(\d+)\](?:\.(\w+))?", key)
    return None if found is None else (int(found[1]), found[2])


def _route_field(key: str) -> str:
    """`operations[5].after` as the form shows it: the step's number and the column's label."""
    if (found := _route_key(key)) is None:
        return _("Route")
    step, column = found
    if column in ROUTE_FIELDS:
        return _("Step %(n)d, %(field)s") % {"n": step, "field": ROUTE_FIELDS[column]}
    return _("Step %(n)d") % {"n": step}


def _route_marks(route: dict[str, Any]) -> dict[int, set[str]]:
    """The route's controls its errors are about, by step: a column's error marks that control, a step's all three
    (so that a screen reader hears which row failed, not only the list above it)."""
    marks: dict[int, set[str]] = {}
    for key in route:
        if (found := _route_key(key)) is not None:
            step, column = found
            marks.setdefault(step, set()).update({column} if column in ROUTE_FIELDS else set(ROUTE_FIELDS))
        else:  # the route as a whole (none given, too many): its first step is where to start
            marks.setdefault(1, set()).add("process")
    return marks


@login_required
@require_http_methods(["GET", "POST"])
@confirm_repeat
def order_new(request: HttpRequest) -> HttpResponse:
    """Enter an order with its route; on save the solver proposes a plan at once."""
    orgs = my_orgs(request.user)
    if not orgs:
        raise PermissionDenied(_("Only members in good standing place orders."))
    # the first week that still takes new work (this one only until Wednesday)
    initial: dict[str, Any] = {"start_week": monday(first_open_day()).isoformat()}
    rows: list[dict[str, Any]] = []
    buyer = request.POST.get("buyer", "")
    earlier = None
    if request.method == "POST":
        rows = operation_rows(request.POST)
    elif request.GET.get("from"):  # "Order again": the terms and route of one of the buyer's orders
        earlier = _repeated(request, request.GET["from"])
        initial = repeat_initial(earlier, initial["start_week"])
        rows, buyer = repeat_rows(earlier), str(earlier.buyer_id)
    form = OrderForm(request.POST or None, initial=initial)
    route_errors: list[str] = []
    file_errors: list[str] = []
    marked: dict[int, set[str]] = {}  # step → its controls an error is about
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        data["buyer"] = request.POST.get("buyer")
        data["operations"] = rows
        try:
            order = orders.order_create(actor=request.user, data=data, files=request.FILES.getlist("files"))
        except ValidationFailed as exc:
            route = {k: v for k, v in exc.errors.items() if k.startswith("operations")}
            route_errors = [line for _k, line in labelled_errors(route, {k: _route_field(k) for k in route})]
            marked = _route_marks(route)
            file_errors = exc.errors.get("files", [])
            exc.errors = {k: v for k, v in exc.errors.items() if not k.startswith("operations") and k != "files"}
            apply_service_errors(form, exc)
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            return _planned_new(request, order)
    padded = rows + [{}] * (OPERATION_ROWS - len(rows))
    context = {
        "form": form,
        "orgs": orgs,
        "buyer": buyer,
        "earlier": earlier,
        "rows": [(n, {**row, "invalid": marked.get(n, set())}) for n, row in enumerate(padded, start=1)],
        "processes": selectors.process_list(),
        "route_errors": route_errors,
        "file_errors": file_errors,
        "files_sent": request.method == "POST" and bool(request.FILES.getlist("files")),
        "drawing_accept": DRAWING_ACCEPT,
    }
    return render(request, "factory/order_form.html", context, status=400 if request.method == "POST" else 200)


def _repeated(request: HttpRequest, raw: str) -> Order:
    """The order a new one repeats: one of the reader's buyers' (its terms are theirs alone), else not found."""
    order = selectors.order_list(actor=request.user).filter(pk=posted_id(raw) or 0).first()
    if order is None or not selectors.is_buyer(request.user, order):
        raise Http404(_("No order with id %(pk)s.") % {"pk": raw[:20]})
    return order


def _planned_new(request: HttpRequest, order: Order) -> HttpResponse:
    """A new order saved: kept as a draft when asked (nothing offered yet), else planned at once. A plan the
    solver could not make in time leaves the draft, and the order page says so."""
    if "draft" in request.POST:
        messages.success(request, _("Order saved as a draft: no factory is offered anything until you plan it."))
        return redirect("factory:order", pk=order.pk)
    try:
        order = orders.order_plan(actor=request.user, order=order)
    except ValidationFailed as exc:
        flash(request, exc)
        acted(request)  # the order was saved: the same form sent again must not save another
        return redirect("factory:order", pk=order.pk)
    late = finishes_late(order, list(order.allocations.all())) if order.status == Order.Status.PLANNED else ""
    if late:  # offers went out for a plan that misses the due week: not a plain success (review 56 L1)
        messages.warning(
            request,
            _("Order saved and planned, but the plan finishes late. %(late)s %(advice)s")
            % {"late": late, "advice": late_advice(order, earliest_finish(order))},
        )
    elif order.status == Order.Status.PLANNED:
        messages.success(request, _("Order saved and planned: the plan's factories were offered their parts."))
    else:
        messages.warning(request, _("Order saved, but no plan fits it; see why below."))
    return redirect("factory:order", pk=order.pk)


def order_or_404(request: HttpRequest, pk: int) -> Any:
    try:
        return selectors.order_get(actor=request.user, pk=pk)
    except NotFound as exc:
        raise Http404 from exc


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan: stats, the diagnosis when there is none, and a grid of factory × week."""
    return order_page(request, order_or_404(request, pk))


def order_page(
    request: HttpRequest,
    order: Any,
    terms: OrderTermsForm | None = None,
    status: int = 200,
    failed: dict[str, Any] | None = None,
    drawn: str = "",
) -> HttpResponse:
    """The order page; `terms` is the buyer's terms form as sent, when it has errors to show (and `drawn` the
    digests of the terms it was drawn with, `common.form_versions`); `failed` a receipt or dispute sent with
    errors, shown at its row with what was typed."""
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
    may_decide = selectors.may_decide(request.user, order)
    if not may_decide or order.status in Order.CLOSED:
        terms = None
    elif terms is None:
        terms = _terms_form(order, list(order.operations.select_related("process")))
    if terms is not None and not terms.is_bound and not drawn:  # the terms drawn: the sender changes only those
        drawn = drawn_of(form_texts(terms))
    context = {
        "order": order,
        "diagnosis": diagnosis_texts(order),
        "requirements": requirements(order, region_names),
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
        "may_decide": may_decide,
        "terms_form": terms,
        "terms_drawn": drawn,
        "sees_plan": selectors.sees_whole_plan(request.user, order),
        "members": members,
        "operations": order.operations.select_related("process"),
        "documents": selectors.drawings_of(actor=request.user, order=order),
        "drawing_accept": DRAWING_ACCEPT,
        "log_keys": selectors.log_keys(allocations + changes),
        "failed": failed or {},
    }
    return render(request, "factory/order_detail.html", context, status=status)


@login_required
@require_POST
def order_replan(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_or_404(request, pk)
    with acting(request):
        planned = orders.order_plan(actor=request.user, order=order)
        if planned.status == Order.Status.INFEASIBLE:
            messages.warning(request, _("Still no plan fits the order; see why below."))
        elif order.status == Order.Status.DRAFT:  # the draft's first plan: this is when factories hear of it
            messages.success(request, _("Planned: the plan's factories were offered their parts."))
        elif selectors.plan_unchanged(planned, "plan"):
            messages.success(request, _("Planned again: the plan is as it was, and nothing new was offered."))
        else:
            messages.success(request, _("Plan updated: new or changed parts were offered to their factories."))
    return redirect("factory:order", pk=order.pk)


@login_required
@require_http_methods(["GET", "POST"])
def order_amend(request: HttpRequest, pk: int) -> HttpResponse:
    """The buyer changes the due week, quantities or terms; the plan is repaired around accepted work. A GET (the form's
    address reloaded, or the language switched, after an error) goes back to the order."""
    order = order_or_404(request, pk)
    if request.method == "GET":
        return redirect("factory:order", pk=order.pk)
    before = _amendable(order)
    steps = list(order.operations.select_related("process"))
    posted = request.POST
    now: dict[str, str] | None = None  # with the sender's drawn form: the terms as they are now
    changed: set[str] = set()
    # the merge only for an open order its sender may change: else the service's refusal says why (review 94)
    if (
        (drawn_sent := request.POST.get(DRAWN))
        and order.status not in Order.CLOSED
        and selectors.may_decide(request.user, order)
    ):
        # only the terms the sender changed count (review 93: the others, sent as drawn, undid a colleague's change
        # made meanwhile); one someone else changed too is named, and the form comes back as a merge
        version = FormVersion(order, request.POST)
        bound, fresh = OrderTermsForm(request.POST, steps=steps), _terms_form(order, steps)
        now = form_texts(fresh)
        changed, both = merged(form_texts(bound), now, drawn_sent)
        if both:
            form = version.redraw(bound, fresh)
            return order_page(request, order, terms=form, status=400, drawn=version.drawn)
        posted = QueryDict(mutable=True)
        posted.update({k: v for k, v in request.POST.items() if k in changed})
    sent = {k: posted[k] for k in amend.AMENDABLE if k in posted}
    data: dict[str, Any] = dict(sent)
    # the steps whose quantity the form changed: the others, sent as they are, scale with a new order quantity, and
    # a confirmation carries only what changed (not an old figure over a change made meanwhile: recheck 58 M2)
    quantities = {
        step_field(op.seq): op.seq
        for op in steps
        if step_field(op.seq) in posted and posted[step_field(op.seq)].strip() != str(op.quantity)
    }
    if quantities:
        sent |= {name: posted[name] for name in quantities}
        data["operations"] = [{"seq": seq, "quantity": posted[name]} for name, seq in quantities.items()]
    try:
        # a change that would take members' accepted work comes back as a question first, as cancelling does
        # and confirmed, it is applied only if the repair still does what was shown
        expect = request.POST.get("preview") or None
        confirmed = request.POST.get("confirmed") == "yes" and expect is not None
        amended = amend.order_amend(actor=request.user, order=order, data=data, confirmed=confirmed, expect=expect)
    except amend.AmendWouldMoveAccepted as asked:
        changing = {
            k: v for k, v in sent.items() if k in asked.fields or (k in quantities and "operations" in asked.fields)
        }
        context = {"order": order, "p": asked.preview, "sent": changing, "changed": asked.changed}
        return render(request, "factory/amend_confirm.html", context)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ValidationFailed as exc:
        # no form to show it in; or the terms were fine but no plan for them was found in time (nothing changed)
        if order.status in Order.CLOSED or set(exc.errors) == {"plan"}:
            flash(request, exc)
            return redirect("factory:order", pk=order.pk)
        # the form again, with each error beside its field: the sender's entries, and the terms as they are now
        # where the sender left them (review 95: not the copy it was drawn with)
        shown, redrawn = request.POST, request.POST.get(DRAWN, "")
        if now is not None:
            shown = QueryDict(mutable=True)
            shown.update({**now, **{k: v for k, v in request.POST.items() if k in changed}})
            redrawn = drawn_of(now)
        form = OrderTermsForm(shown, steps=steps)
        form.is_valid()
        # a step's quantity came as operations[i].quantity, i counting the steps sent
        named = {f"operations[{i}].quantity": name for i, name in enumerate(quantities, start=1)}
        apply_service_errors(form, ValidationFailed({named.get(k, k): v for k, v in exc.errors.items()}))
        return order_page(request, order, terms=form, status=400, drawn=redrawn)
    else:
        if _amendable(amended) == before:
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


def _terms_form(order: Order, steps: list[Any]) -> OrderTermsForm:
    """The buyer's terms form filled with the order's terms now."""
    return OrderTermsForm(
        steps=steps,
        initial={
            **terms_initial(order),
            "due_week": order.due_week.isoformat(),
            "quantity": order.quantity,
            **{step_field(op.seq): op.quantity for op in steps},
        },
    )


def _amendable(order: Order) -> list[Any]:
    """What a change of the order may change, to say whether one did."""
    terms = [getattr(order, k) for k in amend.AMENDABLE if k != "operations"]
    return [*terms, list(order.operations.values_list("seq", "quantity"))]


@login_required
@require_http_methods(["GET", "POST"])
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_or_404(request, pk)
    if request.method == "GET":  # the confirmation page reloaded, or its language switched: start again there
        return redirect("factory:order", pk=order.pk)
    reason = request.POST.get("reason", "")
    with acting(request, {"reason": gettext_lazy("Reason for cancelling")}):
        if request.POST.get("confirmed") != "yes":  # first say what cancelling calls off, and ask
            reason = orders.cancel_check(actor=request.user, order=order, reason=reason)
            preview = selectors.cancel_preview(order)
            return render(request, "factory/cancel_confirm.html", {"order": order, "reason": reason, "p": preview})
        orders.order_cancel(actor=request.user, order=order, reason=reason)
        messages.success(request, _("Order cancelled."))
    return redirect("factory:order", pk=order.pk)
