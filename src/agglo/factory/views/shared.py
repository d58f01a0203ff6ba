"""The cluster's shared capacity: member factories' free capacity week by week, pooled by process or province."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agglo.common.errors import Forbidden, ValidationFailed
from agglo.factory.forms import SharedCapacityForm
from agglo.factory.selectors.calendar import calendar_page
from agglo.factory.selectors.planning import first_open_day
from agglo.factory.selectors.shared import MIN_FACTORIES, Pool, shared_capacity, shared_capacity_check
from agglo.factory.weeks import monday, with_years
from agglo.registry.forms import apply_service_errors


@login_required
def shared(request: HttpRequest) -> HttpResponse:
    """Free capacity of the cluster, for a buyer choosing a due week and for the government's picture of it."""
    try:  # before the filters are read: a bad one must not show the page to whom it is closed (review 101)
        shared_capacity_check(request.user)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    form = SharedCapacityForm(request.GET or None)
    page = calendar_page(request.GET.get("from"))
    pools: list[Pool] = []
    if not form.is_bound or form.is_valid():  # no figures for a filter that could not be read: its error says why
        filters = form.cleaned_data if form.is_bound else {}
        try:
            pools = shared_capacity(
                actor=request.user,
                weeks=page.weeks,
                process=filters.get("process", ""),
                province=filters.get("province", ""),
            )
        except ValidationFailed as exc:  # a process or province gone since the form was drawn
            apply_service_errors(form, exc)
    chosen = form.cleaned_data.get("process", "") if form.is_bound and form.is_valid() else ""
    return render(
        request,
        "factory/shared.html",
        {
            "form": form,
            "pools": pools,
            "by_province": bool(chosen),
            "weeks": page.weeks,
            "week_heads": with_years(page.weeks),
            # the weeks a plan made now gives no new work to
            "closed": [w for w in page.weeks if w < monday(first_open_day())],
            "earlier": _page_link(request, page.earlier),
            "later": _page_link(request, page.later),
            # the page of weeks shown, kept when a process or the filters change
            "page_from": page.weeks[0].isoformat() if page.earlier else "",
            "min_factories": MIN_FACTORIES,
        },
    )


def _page_link(request: HttpRequest, start: dt.date | None) -> str:
    """The query of another page of weeks, with the same filters."""
    if start is None:
        return ""
    kept = {k: request.GET[k] for k in ("process", "province") if request.GET.get(k)}
    return "?" + urlencode({**kept, "from": start.isoformat()})
