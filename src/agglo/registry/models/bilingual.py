"""Records named in Chinese and English show the name of the active language."""

from __future__ import annotations

from django.utils.translation import get_language


def prefers_chinese() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


class BilingualNameMixin:
    """`name` picks name_zh or name_en by the active language, falling back to the other."""

    name_zh: str
    name_en: str

    @property
    def name(self) -> str:
        first, second = (self.name_zh, self.name_en) if prefers_chinese() else (self.name_en, self.name_zh)
        return first or second

    def __str__(self) -> str:
        return self.name
