"""The member directory: full-text search with facets, a page of members at a time."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from agglo.common.errors import ValidationFailed, labelled_errors
from agglo.registry import selectors

FACET_PARAMS = ("kind", "layer", "area", "chain", "segment")


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    try:
        return min(max(1, int(request.GET.get(name, default))), 10_000)  # no page lies beyond; no overflow
    except ValueError:
        return default


def directory(request: HttpRequest) -> HttpResponse:
    filters = selectors.DirectoryFilters(
        q=request.GET.get("q", "")[:200], **{k: request.GET.get(k, "") for k in FACET_PARAMS}
    )
    error = None
    try:
        result = selectors.organization_search(actor=request.user, filters=filters, page=_int_param(request, "page", 1))
    except ValidationFailed as exc:
        error = "; ".join(line for _field, line in labelled_errors(exc.errors, FACET_TITLES))
        result = selectors.organization_search(actor=request.user, filters=selectors.DirectoryFilters(q=filters.q))
    context = {"result": result, "filters": filters, "error": error, "facet_links": _facet_links(request, result)}
    template = "registry/partials/directory_results.html" if request.htmx else "registry/directory.html"
    return render(request, template, context, status=400 if error else 200)


FACET_TITLES = {
    "kind": gettext_lazy("Kind"),
    "layer": gettext_lazy("Environment layer"),
    "area": gettext_lazy("Region"),
    "chain": gettext_lazy("Industry chain"),
    "segment": gettext_lazy("Chain segment"),
}


def _facet_links(request: HttpRequest, result: selectors.DirectoryPage) -> list[dict]:
    """Facet values with the link that toggles each one (built here: cheaper than a template tag per link)."""
    groups = []
    for name, title in FACET_TITLES.items():
        values = result.facets.get(name) or []
        links = []
        for value in values:
            params = request.GET.copy()
            params.pop("page", None)
            active = params.get(name) == value["value"]
            if active:
                params.pop(name)
            else:
                params[name] = value["value"]
            if name == "chain":  # a segment belongs to one chain: changing the chain clears it
                params.pop("segment", None)
            links.append({**value, "active": active, "href": "?" + params.urlencode()})
        if links:
            groups.append({"name": name, "title": title, "links": links})
    return groups
