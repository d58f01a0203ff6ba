"""Possible-duplicate detection for organization names within one region."""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

# Legal-form and filler words that make two names of one firm look different; removed before comparing.
_NOISE_ZH = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团",
    "股份",
    "公司",
    "分公司",
    "（",
    "）",
    "(",
    ")",
)
_NOISE_EN = (
    "co",
    "ltd",
    "limited",
    "inc",
    "corp",
    "corporation",
    "company",
    "group",
    "llc",
    "the",
    "and",
    "of",
)
SIMILAR = 0.88


def normalize_name(name: str) -> str:
    """Lower-case, width-folded, without legal forms, spaces or punctuation."""
    text = unicodedata.normalize("NFKC", name).lower()
    for noise in _NOISE_ZH:
        text = text.replace(noise, "")
    words = [w for w in re.split(r"[^\w]+", text) if w and w not in _NOISE_EN]
    return "".join(words)


def name_similarity(a: str, b: str) -> float:
    """0..1: how alike two organization names are once legal forms are removed."""
    na, nb = normalize_name(a), normalize_name(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    return SequenceMatcher(None, na, nb).ratio()


def is_probable_duplicate(a: str, b: str) -> bool:
    return name_similarity(a, b) >= SIMILAR
