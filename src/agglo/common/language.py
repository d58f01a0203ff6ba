"""Each user's own language: their pages once logged in, and what the platform writes to them, are in it.

Whoever acts (a factory declining, an agency answering) is often not whoever is told, so a message for others is
kept as a `Phrase`, untranslated, and put into words once per reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.models import LanguagePreference

# The session's page language: picked with the switch, or restored at login from the kept one.
SESSION_LANGUAGE = "agglo_language"


class Phrase:
    """A translatable message with its parameters, put into words only when shown to a reader.

    `message` is a `gettext_lazy` or `ngettext_lazy(..., "key")` string. Parameters may be lazy too (a choice's
    label), and are rendered in the same language.
    """

    def __init__(self, message: Any, **params: Any) -> None:
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return str(self.message % self.params) if self.params else str(self.message)

    def in_language(self, language: str) -> str:
        with translation.override(language):
            return str(self)


LISTED = 10  # the items a notice's list names before it counts the rest ("… and 12 more")


class Joined:
    """Phrases listed in one parameter of another ("99 units in the week of …; 1 unit in the week of …"), joined
    in the reader's language by `separator` (a lazy string; "; " unless given). With `most`, a longer list names
    its first `most` and counts the rest ("… and 12 more"), so that a notice about many orders stays whole."""

    def __init__(self, items: Iterable[Any], separator: Any = None, *, most: int | None = None) -> None:
        self.items = list(items)
        self.separator = separator
        self.most = most

    def __str__(self) -> str:
        separator = translation.gettext("; ") if self.separator is None else str(self.separator)
        shown = self.items if self.most is None else self.items[: self.most]
        said = separator.join(str(item) for item in shown)
        rest = len(self.items) - len(shown)
        if rest:
            said = translation.ngettext("%(items)s and %(n)d more", "%(items)s and %(n)d more", rest) % {
                "items": said,
                "n": rest,
            }
        return said


def language_valid(code: Any) -> bool:
    return isinstance(code, str) and code in dict(settings.LANGUAGES)


def languages_of(users: Iterable[Any]) -> dict[int, str]:
    """Each user's language by id: the one they chose, else the platform's default."""
    ids = {u.pk for u in users if u is not None and u.pk is not None}
    chosen = dict(LanguagePreference.objects.filter(user_id__in=ids).values_list("user_id", "language"))
    return {pk: chosen.get(pk) or settings.LANGUAGE_CODE for pk in ids}


def language_of(user: Any) -> str:
    return languages_of([user]).get(getattr(user, "pk", None), settings.LANGUAGE_CODE)


def language_chosen(user: Any) -> str | None:
    """The language the user chose, or None if they never did."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return LanguagePreference.objects.filter(user=user).values_list("language", flat=True).first()


def language_remember(user: Any, code: Any) -> str:
    """Keep `code` as the logged-in user's language and return it."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise Forbidden(_("Log in to choose your language."))
    if not language_valid(code):
        raise ValidationFailed(
            {"language": [_("Must be one of: %(codes)s.") % {"codes": ", ".join(dict(settings.LANGUAGES))}]}
        )
    LanguagePreference.objects.update_or_create(user=user, defaults={"language": code})
    return str(code)


def choice_words(pairs: Iterable[tuple[Any, Any]]) -> str:
    """The choices an error names: each label in the reader's language, with the code an API client sends
    ("Capital (capital), …"), so that neither a page nor a client is left with the other's words."""
    return ", ".join(f"{label} ({code})" for code, label in pairs)
