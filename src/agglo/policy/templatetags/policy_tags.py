"""How a firm's missing clauses read in a line (the home page, the agency's near misses): the alternatives of an
`or` that fails joined by "or", each part of an alternative by "and", the rest one after another."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

register = template.Library()


def _clause(row: dict[str, Any], english: bool, whose: str) -> str:
    words = row["en"] if english else row["zh"]
    value = row.get("yours_en") if english and row.get("yours_en") else row.get("yours")
    shown = _("not disclosed to you") if value is None else value
    return f"{words} ({whose}{pgettext('before a value', ': ')}{shown})"


@register.simple_tag
def missing_line(rows: list[dict[str, Any]], theirs: bool = False) -> str:
    """The clauses a firm misses, in one line."""
    english = (get_language() or "").startswith("en")
    whose = _("theirs") if theirs else _("yours")
    parts: dict[Any, dict[int, list[str]]] = {}
    for n, row in enumerate(rows):
        if row["passed"] or row.get("needed") is False:
            continue
        group = row.get("group") or 0
        key = ("group", group) if group else ("clause", n)  # each lone clause is a part of its own
        parts.setdefault(key, {}).setdefault(row.get("alternative") or 0, []).append(_clause(row, english, whose))
    both, either = f" {_('and')} ", f" {_('or')} "
    return _("; ").join(either.join(both.join(clauses) for clauses in alts.values()) for alts in parts.values())
