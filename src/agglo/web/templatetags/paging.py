"""Links between the pages of a list that pages by its own query parameter (a page may hold several lists)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context: dict[str, Any], param: str, number: int) -> str:
    """The present address with `param` set to `number`, every other parameter kept. A page shown at another
    address than its own (a form's, sent back with errors) names its own in `pager_base` and its query in
    `pager_query`."""
    query = context.get("pager_query", context["request"].GET).copy()
    query[param] = number
    return context.get("pager_base", "") + "?" + query.urlencode()
