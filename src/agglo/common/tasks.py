"""Background work of the platform plumbing: e-mail copies of notifications."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from agglo.common.lines import one_line


@task()
def notification_mail(text: str, link: str, recipients: list[str], language: str = "") -> int:
    """E-mail a notification's text and link to each recipient separately, in their language; returns the number."""
    url = settings.AGGLO_BASE_URL.rstrip("/") + link if link.startswith("/") else link
    sent = 0
    with translation.override(language or settings.LANGUAGE_CODE):
        line = one_line(text)
        short = line if len(line) <= 80 else line[:79].rstrip() + "…"  # the whole text is in the body
        subject = _("Agglo: %(text)s") % {"text": short}
        body = f"{text}\n\n{url}" if url else text
        for address in recipients:
            sent += send_mail(subject, body, None, [address])
    return sent
