"""The searchable catalogue of capabilities and certifications."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from agglo.common.errors import NotFound
from agglo.profiles import selectors
from agglo.profiles.models import CapabilityTerm


def catalogue_page(request: HttpRequest) -> HttpResponse:
    """Search the capability catalogue and see who holds a capability."""
    q = request.GET.get("q", "")[:100]
    kind = request.GET.get("kind", "")
    terms = list(selectors.capability_terms(q=q, kind=kind)[:200])
    code = request.GET.get("term", "")
    holders = None
    if code:
        try:
            holders = list(selectors.capability_holders(actor=request.user, code=code)[:200])
        except NotFound as exc:
            raise Http404 from exc
    return render(
        request,
        "profiles/catalogue.html",
        {"terms": terms, "q": q, "kind": kind, "kinds": CapabilityTerm.Kind.choices, "term": code, "holders": holders},
    )
