"""Background work of accounts: the password-reset mail, and invitations to act for an organization."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.utils import timezone, translation
from django_tasks import task

from agglo.access import ratelimit
from agglo.common.mailing import sent_or_retried


@task()
def password_reset_mail(address: str, base: str, language: str = "", network: str = "") -> bool:
    """Send the reset link to the account with this address, if there is one. The lookup and the mail happen here,
    outside the request, so that how long the answer takes says nothing about whether the address has an account;
    an address gets at most AGGLO_RATE_LIMITS["reset"] mails asked from one network (an inbox cannot be flooded by
    strangers asking, and strangers elsewhere cannot use up the member's own allowance). Returns whether a mail
    went out."""
    try:
        ratelimit.check("reset", f"{address.strip().lower()}|{network}")
    except ratelimit.RateLimited:
        return False
    form = PasswordResetForm({"email": address})
    if not form.is_valid() or not any(form.get_users(form.cleaned_data["email"])):
        return False
    with translation.override(language or settings.LANGUAGE_CODE):
        form.save(
            domain_override="agglo",  # unused: the mail's link is built on `base`, the platform's own address
            subject_template_name="web/password_reset_subject.txt",
            email_template_name="web/password_reset_email.txt",
            extra_email_context={"base": base},
        )
    return True


@task()
def invitation_mail(invitation_id: int, attempt: int = 0) -> int:
    """Mail an invitation's link, in the language it was made in, with its token made here (see
    `people.invitation_token`): every attempt mails the same link."""
    from django.core.mail import send_mail
    from django.utils.translation import gettext as _

    from agglo.access import people
    from agglo.access.models import Invitation

    invitation = Invitation.objects.select_related("organization", "invited_by").filter(pk=invitation_id).first()
    if (
        invitation is None
        or invitation.accepted_at
        or invitation.revoked_at
        or not people.inviter_still_admin(invitation)
    ):
        return 0
    token = people.invitation_token(invitation)
    link = f"{settings.AGGLO_BASE_URL.rstrip('/')}/invitations/{token}/"
    with translation.override(invitation.language or settings.LANGUAGE_CODE):
        subject = _("Agglo: an invitation to act for %(organization)s") % {"organization": invitation.organization.name}
        body = "\n\n".join(
            [
                # the platform's words first: the name is the inviting member's text (recheck 54 N6)
                _(
                    "Agglo, the virtual industrial cluster platform: %(organization)s invites you to act for it as "
                    "%(role)s."
                )
                % {"organization": invitation.organization.name, "role": people.role_words(invitation.role)},
                _("The invitation is addressed to: %(name)s.") % {"name": invitation.name},
                _("Accept by %(day)s: %(link)s")
                % {"day": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d %H:%M"), "link": link},
                _("If you did not expect this, ignore this mail: nothing happens unless the link is followed."),
            ]
        )
    sent = sent_or_retried(
        lambda: send_mail(subject, body, None, [invitation.email]), invitation_mail, (invitation_id,), attempt
    )
    return sent or 0
