"""In-app notifications, with an e-mail copy sent after the transaction commits."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

from agglo.common.language import Phrase, languages_of
from agglo.common.models import Notification

TEXT_MAX = Notification._meta.get_field("text").max_length or 500


def cut(said: str) -> str:
    """A notice as its field holds it: one too long ends in an ellipsis, not in the middle of a word unmarked (the
    mail carries it whole)."""
    return said if len(said) <= TEXT_MAX else said[: TEXT_MAX - 1].rstrip() + "…"


def notify(users: Iterable[Any], *, verb: str, text: str | Phrase, link: str = "", email: bool = True) -> int:
    """Tell each user `text` in the app and, if asked and they have an address, by e-mail. Returns how many.

    A `Phrase` is written in each reader's own language; a plain string (someone's own words) goes as it is.
    """
    from agglo.common.tasks import notification_mail

    people = [u for u in users if u is not None]
    languages = languages_of(people)
    whole = {code: text.in_language(code) for code, _name in settings.LANGUAGES} if isinstance(text, Phrase) else {}
    every = {code: cut(said) for code, said in whole.items()}
    words: dict[str, str] = {}  # the mail's, whole; the notification keeps what its field holds
    for language in sorted(set(languages.values())):
        words[language] = whole.get(language) or str(text)
    Notification.objects.bulk_create(
        [
            Notification(user=u, verb=verb, text=cut(words[languages[u.pk]]), texts=every, link=link[:300])
            for u in people
        ]
    )
    for language, said in sorted(words.items()):
        addresses = sorted(
            {u.email for u in people if email and languages[u.pk] == language and getattr(u, "email", "")}
        )
        if addresses:
            transaction.on_commit(partial(notification_mail.enqueue, said, link[:300], addresses, language))
    return len(people)


def notification_list(*, user: Any, unread: bool = False) -> Any:
    """A user's notifications, newest first."""
    qs = Notification.objects.filter(user=user)
    return qs.filter(read_at__isnull=True) if unread else qs


def notifications_mark_read(*, user: Any, pk: int | None = None) -> int:
    """Mark a user's notifications read (one, with `pk`); returns how many changed."""
    from django.utils import timezone

    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if pk is not None:
        qs = qs.filter(pk=pk)
    return qs.update(read_at=timezone.now())
