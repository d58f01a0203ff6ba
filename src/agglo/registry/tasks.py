"""Background work of the registry: tell applicants what happened to their application."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from agglo.common.mailing import sent_or_retried
from agglo.registry.models import Admission


@task()
def admission_notify(admission_id: int, status_url: str, attempt: int = 0) -> int:
    """Email the applicant the new status and the reviewer's reason, in the language they applied in."""
    admission = Admission.objects.select_related("organization").filter(pk=admission_id).first()
    if admission is None:
        return 0
    with translation.override(admission.language or settings.LANGUAGE_CODE):
        subject = _("Agglo admission: %(status)s") % {"status": admission.get_status_display()}
        lines = [
            _("Application of %(name)s: %(status)s.")
            % {"name": admission.organization.name, "status": admission.get_status_display()},
        ]
        if admission.reason:
            lines.append(_("Reviewer's note: %(reason)s") % {"reason": admission.reason})
        if admission.status == Admission.Status.APPROVED:
            login = settings.AGGLO_BASE_URL.rstrip("/") + "/login/"
            lines.append(
                _("Log in at %(url)s with %(email)s and the password you chose.")
                % {"url": login, "email": admission.contact_email}
            )
            if settings.AGGLO_TOTP_REQUIRED:
                lines.append(
                    _(
                        "As the organization's admin you will set up two-factor login at the first login: have an "
                        "authenticator app at hand (such as Google Authenticator, Microsoft Authenticator or FreeOTP)."
                    )
                )
        lines.append(_("Follow the application: %(url)s") % {"url": status_url})
    body = "\n\n".join(lines)
    sent = sent_or_retried(
        lambda: send_mail(subject, body, None, [admission.contact_email]),
        admission_notify,
        (admission_id, status_url),
        attempt,
    )
    return sent or 0
