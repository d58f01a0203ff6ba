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


def notify(users: Iterable[Any], *, verb: str, text: str | Phrase, link: str = "", email: bool = True) -> int:
    """Tell each user `text` in the app and, if asked and they have an address, by e-mail. Returns how many.

    A `Phrase` is written in each reader's own language; a plain string (someone's own words) goes as it is.
    """
    from agglo.common.tasks import notification_mail

    people = [u for u in users if u is not None]
    languages = languages_of(people)
    every = (
        {code: text.in_language(code)[:TEXT_MAX] for code, _name in settings.LANGUAGES}
        if isinstance(text, Phrase)
        else {}
    )
    words: dict[str, str] = {}
    for language in sorted(set(languages.values())):
        words[language] = every.get(language) or str(text)[:TEXT_MAX]
    Notification.objects.bulk_create(
        [Notification(user=u, verb=verb, text=words[languages[u.pk]], texts=every, link=link[:300]) for u in people]
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
