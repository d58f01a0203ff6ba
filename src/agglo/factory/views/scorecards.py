"""Every factory's record of delivered work."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
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
    return render(request, "factory/scorecards.html", {"cards": cards})
