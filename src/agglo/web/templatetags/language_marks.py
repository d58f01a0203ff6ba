"""Language of parts (WCAG 3.1.2): a member's own text shown in the other language than the page's (an English-only
title on a Chinese page, when no Chinese one was given) carries its own `lang`, so that a screen reader speaks it
in the right voice."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()


def _script(text: str) -> str:
    """ "zh" when the text holds a Chinese character, "en" when it holds Latin letters but none, else ""."""
    if any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text):
        return "zh"
    return "en" if any("a" <= ch.lower() <= "z" for ch in text) else ""


@register.filter
def lang_of(text: object) -> SafeString:
    """` lang="…"` for an element holding `text` where its language differs from the page's, else nothing."""
    script = _script(str(text or ""))
    page = "en" if (get_language() or "").startswith("en") else "zh"
    if not script or script == page:
        return mark_safe("")
    return mark_safe(' lang="en"' if script == "en" else ' lang="zh-Hans"')


@register.filter
def listed(items: Iterable[object]) -> str:
    """Names one after another as the reader's language lists them: 、 between Chinese names, ", " in English."""
    return ("、" if not (get_language() or "").startswith("en") else ", ").join(str(i) for i in items or ())
