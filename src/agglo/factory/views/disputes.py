"""The operators' desk: disputes over deliveries referred to the platform, and rulings on them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from agglo.common.errors import DomainError, Forbidden, NotFound
from agglo.factory.selectors import orders as selectors
from agglo.factory.services import disputes
from agglo.factory.views.acting import error_parts, flash

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
            flash(request, exc)
            return redirect(desk)
        errors = error_parts(exc, RULING_LABELS)
        return _desk(request, {"pk": allocation.pk, "errors": errors, **sent}, status=400)
    messages.success(request, _("Ruling made: both parties were told."))
    return redirect(desk)
