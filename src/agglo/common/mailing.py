"""Mail that survives a mail server being away: a mail task whose sending fails is enqueued again with a growing
delay, instead of being lost (review 53 F4: a failed task was never retried)."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django_tasks import default_task_backend

logger = logging.getLogger("agglo.mail")

# Minutes before each new attempt: about a day in all, then the mail is given up (and logged as an error).
RETRY_MINUTES = (1, 5, 15, 60, 240, 720)
FAILURES = (smtplib.SMTPException, OSError)  # refused, timed out, unreachable, a bad answer


def sent_or_retried(send: Callable[[], int], task: Any, args: tuple[Any, ...], attempt: int) -> int | None:
    """`send()`, or when the mail server fails, the same task enqueued again later with `attempt + 1` (its last
    keyword argument). Returns what `send` returned; 0 when the server refused the recipient for good (a 5xx
    answer to the address: trying again would not help, and it must not hold back the others); None when it
    failed otherwise (retried later, or given up). With a backend that runs tasks at once (development), a failure
    is logged and not retried."""
    try:
        return send()
    except smtplib.SMTPRecipientsRefused as exc:
        if all(code >= 500 for code, _said in exc.recipients.values()):
            logger.error("mail %s: recipient refused for good: %s", task.name, exc.recipients)
            return 0
        _later(task, args, attempt, exc)
        return None
    except FAILURES as exc:
        _later(task, args, attempt, exc)
        return None


def _later(task: Any, args: tuple[Any, ...], attempt: int, exc: BaseException) -> None:
    if attempt >= len(RETRY_MINUTES) or not default_task_backend.supports_defer:
        logger.error("mail %s given up after %d attempts: %s", task.name, attempt + 1, exc)
        return
    later = timezone.now() + dt.timedelta(minutes=RETRY_MINUTES[attempt])
    task.using(run_after=later).enqueue(*args, attempt=attempt + 1)
    logger.warning("mail %s failed (%s); attempt %d at %s", task.name, exc, attempt + 2, later.isoformat())
