"""The industry chains and each chain's map: members per role, regional spread and gaps."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from agglo.common.errors import NotFound
from agglo.registry import selectors
from agglo.registry.models import Position
from agglo.registry.selectors.chains import chain_links


def chain_index(request: HttpRequest) -> HttpResponse:
    return render(request, "registry/chains.html", {"chains": selectors.chain_list()})


def chain_map_page(request: HttpRequest, code: str) -> HttpResponse:
    try:
        chain_map = selectors.chain_map(actor=request.user, code=code)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    graph = {
        "nodes": [
            {
                "id": c.segment.code,
                "name": c.segment.name,
                "column": c.column,
                "row": i,
                "members": c.members,
                "gap": c.is_gap,
            }
            for column in chain_map.columns
            for i, c in enumerate(column)
        ],
        "links": [{"source": a, "target": b} for a, b in chain_links(chain_map.chain)],
    }
    # what the graph's arrows say, as text on each segment's card (review 49 a11y F8): the segments it feeds
    names = {n["id"]: n["name"] for n in graph["nodes"]}
    feeds: dict[str, list[str]] = {}
    for link in graph["links"]:
        feeds.setdefault(link["source"], []).append(names.get(link["target"], link["target"]))
    return render(
        request,
        "registry/chain_map.html",
        {
            "map": chain_map,
            "graph": graph,
            "feeds": feeds,
            "role_labels": dict(Position.Role.choices),
            "chains": selectors.chain_list(),
        },
    )
