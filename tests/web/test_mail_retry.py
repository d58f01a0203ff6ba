"""A mail server that is away does not lose mail: the task is enqueued again later, with only the recipients not
yet mailed, and given up (logged) after about a day (review 53 F4)."""

from __future__ import annotations

import socket

from django.core import mail
from django.test import override_settings
from django_tasks import default_task_backend

from agglo.common.mailing import RETRY_MINUTES
from agglo.common.tasks import notification_mail

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@override_settings(
    TASKS=DUMMY,
    EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    EMAIL_HOST="127.0.0.1",
    EMAIL_PORT=closed_port(),
    EMAIL_TIMEOUT=2,
)
def test_a_refused_mail_is_enqueued_again_later_and_given_up_in_the_end(caplog):
    assert notification_mail.call("订单已更新", "/factory/", ["a@x.example", "b@x.example"], "zh-hans") == 0
    again = default_task_backend.results[-1]
    assert again.kwargs == {"attempt": 1} and again.args[2] == ["a@x.example", "b@x.example"]
    assert again.task.run_after is not None
    count = len(default_task_backend.results)
    last = len(RETRY_MINUTES)
    assert notification_mail.call("订单已更新", "/factory/", ["a@x.example"], "zh-hans", attempt=last) == 0
    assert len(default_task_backend.results) == count  # not again
    assert any("given up" in r.message for r in caplog.records)


@override_settings(TASKS=DUMMY)
def test_the_recipients_already_mailed_are_not_mailed_again(monkeypatch):
    from agglo.common import tasks

    def flaky(subject, body, sender, to):
        if to == ["b@x.example"]:
            raise ConnectionRefusedError("away")
        mail.outbox.append(to)
        return 1

    monkeypatch.setattr(tasks, "send_mail", flaky)
    assert notification_mail.call("文本", "", ["a@x.example", "b@x.example", "c@x.example"], "en") == 1
    assert default_task_backend.results[-1].args[2] == ["b@x.example", "c@x.example"]


@override_settings(TASKS=DUMMY)
def test_an_address_refused_for_good_does_not_hold_back_the_others(monkeypatch):
    # a 550 for the second of three recipients kept the third from its mail, retried until given up (recheck 54)
    import smtplib

    from agglo.common import tasks

    def picky(subject, body, sender, to):
        if to == ["gone@x.example"]:
            raise smtplib.SMTPRecipientsRefused({"gone@x.example": (550, b"no such user")})
        mail.outbox.append(to)
        return 1

    monkeypatch.setattr(tasks, "send_mail", picky)
    before = len(default_task_backend.results)
    assert notification_mail.call("文本", "", ["a@x.example", "gone@x.example", "c@x.example"], "en") == 2
    assert len(default_task_backend.results) == before  # nothing to try again
