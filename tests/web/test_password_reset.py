"""A member who forgot its password sets a new one through a link sent by e-mail."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import authenticate
from django.core import mail

from agglo.common.models import AuditEvent
from tests.conftest import user

pytestmark = pytest.mark.django_db


def test_a_forgotten_password_is_reset_by_a_link_sent_to_the_accounts_address(
    client, settings, django_capture_on_commit_callbacks
):
    settings.AGGLO_BASE_URL = "https://agglo.example"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.test"]  # a host the deployment answers to anyway
    member = user("forgetful")  # forgetful@t.example
    from agglo.access.models import ApiToken
    from agglo.access.tokens import api_token_create

    api_token_create(actor=member, user=member, name="nightly")
    login = client.get("/login/").content.decode()
    assert 'href="/account/password/reset/"' in login
    # an unknown address gets the same answer, and no mail
    with django_capture_on_commit_callbacks(execute=True):  # the mail is queued once the request's work is saved
        r = client.post("/account/password/reset/", {"email": "nobody@t.example"}, follow=True)
    assert 'id="reset-sent"' in r.content.decode() and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            "/account/password/reset/", {"email": "Forgetful@T.example"}, follow=True, HTTP_HOST="evil.test"
        )
    assert 'id="reset-sent"' in r.content.decode()
    (sent,) = mail.outbox
    assert sent.to == ["forgetful@t.example"] and "evil.test" not in sent.body  # the platform's address, not the Host
    link = re.search(r"https://agglo\.example(/account/password/reset/\S+/\S+/)", sent.body).group(1)
    form = client.get(link, follow=True)
    assert 'id="password-set-form"' in form.content.decode()
    target = form.redirect_chain[-1][0] if form.redirect_chain else link
    short = client.post(target, {"new_password1": "x", "new_password2": "x"})
    assert short.status_code == 200 and 'id="password-set-form"' in short.content.decode()
    form = short.context["form"]  # the rules' complaint sits at the new password, not at its confirmation
    assert form.errors.get("new_password1") and not form.errors.get("new_password2")
    done = client.post(target, {"new_password1": "Remembered-2026", "new_password2": "Remembered-2026"}, follow=True)
    assert 'id="reset-complete"' in done.content.decode()
    # whoever had the account keeps no token (review 49 F5); the page says so
    assert not ApiToken.objects.filter(user=member, revoked_at__isnull=True).exists()
    assert "1 个 API 令牌已吊销" in done.content.decode()
    assert authenticate(username="forgetful", password="Remembered-2026") == member
    assert AuditEvent.objects.filter(event="access.password_reset", subject_id=str(member.pk)).exists()
    # the link works once
    again = client.get(link, follow=True).content.decode()
    assert 'id="reset-link-invalid"' in again


def test_every_address_gets_the_same_request_and_an_inbox_cannot_be_flooded(
    client, settings, django_capture_on_commit_callbacks
):
    from django_tasks.signals import task_enqueued

    settings.AGGLO_BASE_URL = "https://agglo.example"
    settings.AGGLO_RATE_LIMITS = {**settings.AGGLO_RATE_LIMITS, "reset": [1 / 20, 2]}
    user("forgetful")
    queued: list[tuple] = []

    def seen(sender, task_result, **kwargs):
        queued.append(task_result.args)

    task_enqueued.connect(seen)
    try:
        for address in ("nobody@t.example", "forgetful@t.example"):
            with django_capture_on_commit_callbacks(execute=True):
                client.post("/account/password/reset/", {"email": address})
    finally:
        task_enqueued.disconnect(seen)
    # the request queues the same one task for a stranger's address as for a member's: the lookup is the worker's
    assert [args[0] for args in queued] == ["nobody@t.example", "forgetful@t.example"]
    assert len(mail.outbox) == 1
    for _ in range(3):  # two mails per address here; asking again sends nothing, and the page says the same
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post("/account/password/reset/", {"email": "FORGETFUL@t.example"}, follow=True)
        assert 'id="reset-sent"' in r.content.decode()
    assert len(mail.outbox) == 2
