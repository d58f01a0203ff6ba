"""Background work of accounts: the password-reset mail."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.utils import translation
from django_tasks import task

from agglo.access import ratelimit


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
