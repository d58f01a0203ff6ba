"""Tokens for full-text search: jieba for Chinese, lower-cased words for everything else.

Indexing uses jieba's search mode (a long word also yields its parts) so that a short query matches;
queries use the precise mode. Tokens keep only word characters, which makes them safe to put into the
FTS5 and tsquery syntaxes after quoting.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import jieba

jieba.setLogLevel(logging.WARNING)
_WORD = re.compile(r"\w+", re.UNICODE)
_HAN = re.compile(r"[\u4e00-\u9fff]")
MAX_QUERY_TOKENS = 8


def _split(text: str, *, search_mode: bool) -> Iterable[str]:
    for chunk in _WORD.findall(text.lower()):
        if _HAN.search(chunk):
            yield from (jieba.cut_for_search(chunk) if search_mode else jieba.cut(chunk))
        else:
            yield chunk


def index_tokens(*texts: str | None) -> str:
    """Space-separated distinct tokens of the given texts, in first-seen order."""
    seen: dict[str, None] = {}
    for text in texts:
        if text:
            for token in _split(text, search_mode=True):
                token = token.strip()
                if token and _WORD.fullmatch(token):
                    seen.setdefault(token, None)
    return " ".join(seen)


def query_tokens(query: str) -> list[str]:
    """Distinct tokens of a user's query (at most MAX_QUERY_TOKENS); all must match."""
    seen: dict[str, None] = {}
    for token in _split(query, search_mode=False):
        token = token.strip()
        if token and _WORD.fullmatch(token):
            seen.setdefault(token, None)
    return list(seen)[:MAX_QUERY_TOKENS]
