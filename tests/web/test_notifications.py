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
