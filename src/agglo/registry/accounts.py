"""Accounts as the admission sees them: whether an address already belongs to someone."""

from __future__ import annotations

from django.contrib.auth import get_user_model


def email_in_use(email: str) -> bool:
    """Whether an account logs in with, or is reached at, this e-mail: an application with it cannot be approved
    (a second account there would hand the address's mail, and a look-alike login, to whoever applied). Operators
    read it on the review page; the public form does not say it, so that it cannot be used to test addresses."""
    users = get_user_model().objects
    return users.filter(username__iexact=email).exists() or users.filter(email__iexact=email).exists()
