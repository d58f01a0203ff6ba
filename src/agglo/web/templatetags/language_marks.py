"""Language of parts (WCAG 3.1.2): a member's own text shown in the other language than the page's (an English-only
title on a Chinese page, when no Chinese one was given) carries its own `lang`, so that a screen reader speaks it
in the right voice. And where a Chinese name may break (`words`): between its words, as a term does."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable

import jieba
from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

jieba.setLogLevel(logging.WARNING)
register = template.Library()


def _han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _script(text: str) -> str:
    """ "zh" when the text holds a Chinese character, "en" when it holds Latin letters but none, else ""."""
    if any(_han(ch) for ch in text):
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


@functools.lru_cache(maxsize=4096)
def _words(text: str) -> str:
    """`text` escaped, a <wbr> where two Chinese words meet (jieba's words; characters it leaves single, as in an
    unknown word, kept together)."""
    if not any(_han(ch) for ch in text):
        return escape(text)
    out: list[str] = []
    before = ""
    for word in jieba.cut(text, HMM=True):
        # a break between two Chinese words, but not between characters jieba left single (an unknown word: 蓉装)
        if before and _han(before[-1]) and _han(word[0]) and (len(word) > 1 or len(before) > 1):
            out.append("<wbr>")
        out.append(escape(word))
        before = word
    return "".join(out)


@register.filter
def words(text: object) -> SafeString:
    """A name (a company, a product) that breaks, where its cell is narrow, only between its words: 苏州 / 精工 /
    制造 / 有限公司, not 苏州精工制 / 造有限公司 (review 118). Chinese has no spaces, so the breaks are marked
    (<wbr>, by jieba's dictionary) and the span keeps the rest whole (agglo.css `.words`: word-break: keep-all, as
    a term's `.whole-words` does). A word wider than its cell still breaks inside it, as its cell allows, but for the
    grids' columns of names, where it ends in "…" (review 120)."""
    return mark_safe(f'<span class="words">{_words(str(text or ""))}</span>')  # noqa: S308 - escaped in _words
