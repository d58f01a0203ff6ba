"""How what a firm is missing reads in a line (a policy's page, the home page, the agency's near misses), from the
rule's `wanting` tree: "A or B; C", an alternative of several clauses in parentheses ("(A and B) or C")."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


def _clause(row: dict[str, Any], english: bool, whose: str) -> str:
    words = row["en"] if english else row["zh"]
    value = row.get("yours_en") if english and row.get("yours_en") else row.get("yours")
    shown = _("not disclosed to you") if value is None else value
    # the reader's brackets and colon: （您的情况：…） in Chinese
    return _("%(words)s (%(whose)s: %(value)s)") % {"words": words, "whose": whose, "value": shown}


def _said(tree: Any, rows: list[dict[str, Any]], english: bool, whose: str, top: bool) -> str:
    if isinstance(tree, int):
        return _clause(rows[tree], english, whose) if tree < len(rows) else ""
    op, parts = tree
    if op == "and" and top:  # the parts a firm must all meet, one after another
        return _("; ").join(_said(p, rows, english, whose, top=False) for p in parts)
    joiner = _(" and ") if op == "and" else _(" or ")
    said = joiner.join(_said(p, rows, english, whose, top=False) for p in parts)
    return said if top else f"({said})"


@register.simple_tag
def missing_line(rows: list[dict[str, Any]], wanting: Any, theirs: bool = False) -> str:
    """What the firm must still meet, in one line ("" when it meets the rule)."""
    if wanting is None:
        return ""
    english = (get_language() or "").startswith("en")
    return _said(wanting, rows, english, _("theirs") if theirs else _("yours"), top=True)
