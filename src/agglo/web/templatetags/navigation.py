"""Where the reader is (WCAG 1.3.1, 4.1.2): the link to the page or section shown carries `aria-current`, so that
a screen reader says which menu entry, tab or filter is the current one, not only its colour or weight."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

CURRENT = mark_safe(' aria-current="page"')


@register.simple_tag(takes_context=True)
def current(context: dict[str, Any], *names: str) -> SafeString:
    """` aria-current="page"` when the request's view is one of `names` ("factory:jobs"), or lies in one of the
    namespaces named with a trailing colon ("factory:"); else nothing."""
    match = getattr(context.get("request"), "resolver_match", None)
    if match is None:
        return mark_safe("")
    for name in names:
        if match.view_name == name or (name.endswith(":") and match.namespace == name[:-1]):
            return CURRENT
    return mark_safe("")
