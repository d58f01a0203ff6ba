"""Opening a notification marks it read and takes the reader to what it is about, on this site only."""

from __future__ import annotations

import pytest
from django.test import Client

from agglo.common.models import Notification
from agglo.common.notify import notify
from tests.conftest import user

pytestmark = pytest.mark.django_db


def test_opening_a_notification_marks_it_read_and_follows_its_link() -> None:
    reader, other = user("reader"), user("other")
    notify([reader], verb="test", text="有新的任务邀约", link="/factory/jobs/", email=False)
    notify([reader], verb="test", text="外部链接", link="https://evil.example/", email=False)
    notify([reader], verb="test", text="伪装链接", link="/\\evil.example/", email=False)
    notify([other], verb="test", text="别人的", link="/factory/jobs/", email=False)
    mine, outside, disguised = Notification.objects.filter(user=reader).order_by("id")
    theirs = Notification.objects.get(user=other)
    c = Client()
    c.force_login(reader)
    page = c.get("/notifications/").content.decode()
    assert f'href="/notifications/{mine.pk}/"' in page
    r = c.get(f"/notifications/{mine.pk}/")
    assert r.status_code == 302 and r["Location"] == "/factory/jobs/"
    mine.refresh_from_db()
    outside.refresh_from_db()
    assert mine.read_at is not None and outside.read_at is None  # only the one opened
    assert c.get(f"/notifications/{outside.pk}/")["Location"] == "/notifications/"  # never off the site
    assert c.get(f"/notifications/{disguised.pk}/")["Location"] == "/notifications/"
    assert c.get(f"/notifications/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_notice_too_long_for_its_field_ends_in_an_ellipsis_and_its_mail_is_whole(
    django_capture_on_commit_callbacks,
) -> None:
    from django.core import mail
    from django.utils import translation

    from agglo.common.language import Joined, Phrase, language_remember
    from agglo.common.notify import TEXT_MAX

    reader = user("reader")
    language_remember(reader, "en")
    orders = [f"Gateway housing batch {n:03d}" for n in range(40)]
    long = Phrase(translation.gettext_lazy("Your orders %(orders)s were called off."), orders=Joined(orders))
    with django_capture_on_commit_callbacks(execute=True):
        notify([reader], verb="test", text=long)
    kept = Notification.objects.get(user=reader)
    assert len(kept.text) == TEXT_MAX and kept.text.endswith("…") and len(kept.texts["en"]) == TEXT_MAX
    assert "Gateway housing batch 039" in mail.outbox[0].body  # the mail names every one

    # a list that names its first ten and counts the rest stays whole, in each reader's language
    short = Phrase(long.message, orders=Joined(orders, most=10))
    assert short.in_language("en").endswith("batch 009 and 30 more were called off.")
    assert "等（另有 30 项）" in short.in_language("zh-hans")
    assert str(Joined(orders[:10], most=10)).endswith("batch 009")  # ten are named, none counted
