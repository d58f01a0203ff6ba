"""Records named in Chinese and English show the name of the active language."""

from __future__ import annotations

from django.utils.translation import get_language


def prefers_chinese() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def in_language(name_zh: str, name_en: str) -> str:
    """The name in the active language, or the other one when that is empty."""
    first, second = (name_zh, name_en) if prefers_chinese() else (name_en, name_zh)
    return first or second


class Bilingual:
    """A name in both languages, chosen only when shown: as a notification's parameter it reads in each reader's
    language, not in that of whoever acted."""

    def __init__(self, name_zh: str, name_en: str) -> None:
        self.name_zh, self.name_en = name_zh, name_en

    def __str__(self) -> str:
        return in_language(self.name_zh, self.name_en)


class BilingualNameMixin:
    """`name` picks name_zh or name_en by the active language, falling back to the other."""

    name_zh: str
    name_en: str

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)

    def __str__(self) -> str:
        return self.name
