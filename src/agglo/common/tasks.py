"""Background work of the platform plumbing: e-mail copies of notifications."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from agglo.common.lines import one_line
from agglo.common.mailing import sent_or_retried


@task()
def notification_mail(text: str, link: str, recipients: list[str], language: str = "", attempt: int = 0) -> int:
    """E-mail a notification's text and link to each recipient separately, in their language; returns the number.
    When the mail server fails, those not yet mailed are tried again later (`common.mailing`)."""
    url = settings.AGGLO_BASE_URL.rstrip("/") + link if link.startswith("/") else link
    sent = 0
    with translation.override(language or settings.LANGUAGE_CODE):
        line = one_line(text)
        short = line if len(line) <= 80 else line[:79].rstrip() + "…"  # the whole text is in the body
        subject = _("Agglo: %(text)s") % {"text": short}
        body = f"{text}\n\n{url}" if url else text
        for n, address in enumerate(recipients):
            done = sent_or_retried(
                lambda a=address: send_mail(subject, body, None, [a]),
                notification_mail,
                (text, link, recipients[n:], language),
                attempt,
            )
            if done is None:  # failed: the rest go with the retry (or are given up with it)
                break
            sent += done  # 0: this address refused for good; the others still get theirs
    return sent
