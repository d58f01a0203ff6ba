"""Background work of the professional database: remind owners of stale facts."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from agglo.common.lines import one_line
from agglo.common.mailing import sent_or_retried
from agglo.registry.models import Organization


@task()
def stale_reminder_notify(
    organization_id: int, facts: int, recipients: list[str], language: str = "", attempt: int = 0
) -> int:
    """E-mail admins, in `language`, that `facts` of the organization's facts are stale or due; returns mails sent."""
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None or not recipients:
        return 0
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = one_line(_("Agglo: %(n)d facts of %(name)s need updating") % {"n": facts, "name": org.name})
        url = settings.AGGLO_BASE_URL.rstrip("/") + reverse("profiles:organization", args=[org.pk])
        body = _(
            "%(n)d facts of %(name)s are past their validity or will be within 30 days. "
            "Members see them marked stale until you update them: %(url)s"
        ) % {"n": facts, "name": org.name, "url": url}
    sent = sent_or_retried(
        lambda: send_mail(subject, body, None, recipients),
        stale_reminder_notify,
        (organization_id, facts, recipients, language),
        attempt,
    )
    return sent or 0
