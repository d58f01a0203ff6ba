"""A member changes its own password: the old one first, the platform's rules for the new one."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import user

pytestmark = pytest.mark.django_db


def test_a_member_changes_its_password_and_logs_in_with_the_new_one() -> None:
    member = user("changer")
    member.set_password("Old-pass-2026")
    member.save()
    c = Client()
    assert c.get("/account/password/")["Location"].startswith("/login/")  # members only
    c.force_login(member)
    assert 'id="change-password"' in c.get("/account/two-factor/").content.decode()
    r = c.post(
        "/account/password/",
        {"old_password": "wrong", "new_password1": "New-pass-2026x", "new_password2": "New-pass-2026x"},
    )
    assert r.status_code == 200 and "old_password" in r.context["form"].errors
    r = c.post("/account/password/", {"old_password": "Old-pass-2026", "new_password1": "abc", "new_password2": "abc"})
    assert "密码长度太短" in r.content.decode()
    r = c.post(
        "/account/password/",
        {"old_password": "Old-pass-2026", "new_password1": "New-pass-2026x", "new_password2": "New-pass-2026x"},
        follow=True,
    )
    assert "密码已修改。" in r.content.decode()
    member.refresh_from_db()
    assert member.check_password("New-pass-2026x") and not member.check_password("Old-pass-2026")
    from agglo.common.models import AuditEvent

    assert AuditEvent.objects.filter(event="access.password_changed", actor=member).count() == 1


def test_changing_the_password_revokes_the_api_tokens_unless_told_not_to(english) -> None:
    """Review 49 F5: a token outlived the password change that was meant to lock someone out."""
    from agglo.access.models import ApiToken
    from agglo.access.tokens import api_token_create

    member = user("changer")
    member.set_password("Old-pass-2026")
    member.save()
    c = Client()
    c.force_login(member)
    c.cookies["django_language"] = "en"
    assert 'name="revoke_tokens"' not in c.get("/account/password/").content.decode()  # none to revoke
    api_token_create(actor=member, user=member, name="kept")
    page = c.get("/account/password/").content.decode()
    assert 'name="revoke_tokens"' in page and "checked" in page.split('name="revoke_tokens"')[1].split(">")[0]
    data = {"old_password": "Old-pass-2026", "new_password1": "New-pass-2026x", "new_password2": "New-pass-2026x"}
    c.post("/account/password/", data)  # the box unticked: a form leaves it out
    assert ApiToken.objects.filter(user=member, revoked_at__isnull=True).count() == 1
    data = {"old_password": "New-pass-2026x", "new_password1": "New-pass-2027y", "new_password2": "New-pass-2027y"}
    r = c.post("/account/password/", {**data, "revoke_tokens": "on"}, follow=True)
    assert "Your 1 API token was revoked" in r.content.decode()
    assert not ApiToken.objects.filter(user=member, revoked_at__isnull=True).exists()
