"""`agglo check --deploy`: what a deployment must set that the platform cannot refuse at start."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from django.core.checks import Warning


def mail_configured(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Without a mail server the platform writes its mails to the log: a password-reset link in a log file is a
    way into the account for whoever reads the log (review 102)."""
    from django.conf import settings

    problems = []
    if not settings.EMAIL_HOST:
        problems.append(
            Warning(
                "No mail server (AGGLO_EMAIL_HOST): every mail, password-reset links among them, is written to the "
                "worker's log.",
                hint="Set AGGLO_EMAIL_HOST (and AGGLO_EMAIL_FROM, AGGLO_EMAIL_USER, AGGLO_EMAIL_PASSWORD, "
                "AGGLO_EMAIL_TLS or AGGLO_EMAIL_SSL as the server needs).",
                id="agglo.W103",
            )
        )
    elif parseaddr(settings.DEFAULT_FROM_EMAIL)[1].endswith("@localhost"):  # "Agglo <x@localhost>" as well
        problems.append(
            Warning(
                f"Mails are sent from {settings.DEFAULT_FROM_EMAIL}, which no one can answer and many servers refuse.",
                hint="Set AGGLO_EMAIL_FROM to an address of the platform's domain.",
                id="agglo.W104",
            )
        )
    return problems
