"""Every factory's record of delivered work."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agglo.common.errors import Forbidden
from agglo.factory.selectors.scorecards import scorecard_list


@login_required
def scorecards(request: HttpRequest) -> HttpResponse:
    """Every factory's record of delivered work, which the solver reads as risk."""
    try:
        cards = scorecard_list(actor=request.user)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    # a page at a time: every factory of the cluster with a record is a row (300 in review 104's case)
    page = Paginator(cards, SCORECARDS_PAGE).get_page(request.GET.get("page"))
    return render(request, "factory/scorecards.html", {"cards": page, "page": page})


SCORECARDS_PAGE = 50  # factories on a page, most delivered first
