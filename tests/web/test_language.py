"""Each user reads the platform in their own language: the switch keeps it, login restores it, and what others'
actions write to them (notifications, e-mails) is in it, not in the language of whoever acted."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation

from agglo.access.models import Membership
from agglo.common.language import Phrase, language_of, language_remember
from agglo.common.models import LanguagePreference, Notification
from agglo.common.notify import notify
from agglo.registry.services import admission_approve
from tests.conftest import user
from tests.registry.test_admission_services import apply

pytestmark = pytest.mark.django_db

OFFERED_EN = "New work offered for order 网关"
OFFERED_ZH = "订单 网关 有新的任务邀约给您"


def test_each_reader_gets_a_notification_and_its_mail_in_their_own_language(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    english, chinese = user("reader-en"), user("reader-zh")
    language_remember(english, "en")
    phrase = Phrase(
        translation.gettext_lazy("New work offered for order %(product)s: answer on your job board."), product="网关"
    )
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        assert notify([english, chinese], verb="t", text=phrase, link="/x/") == 2
    said = dict(Notification.objects.values_list("user__username", "text"))
    assert said["reader-en"].startswith(OFFERED_EN)
    assert said["reader-zh"].startswith(OFFERED_ZH)
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects["reader-en@t.example"].startswith("Agglo: " + OFFERED_EN)
    assert subjects["reader-zh@t.example"].startswith("Agglo：" + OFFERED_ZH)


def test_the_list_follows_the_readers_switch(db: Any) -> None:
    reader = user("reader")
    phrase = Phrase(
        translation.gettext_lazy("New work offered for order %(product)s: answer on your job board."), product="网关"
    )
    notify([reader], verb="t", text=phrase)
    notify([reader], verb="t", text="原样的文字")
    assert Notification.objects.filter(text__startswith=OFFERED_ZH).exists()  # written in the default language
    c = Client()
    c.force_login(reader)
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = c.get("/notifications/").content.decode()
    assert OFFERED_EN in page and OFFERED_ZH not in page and "原样的文字" in page
    assert OFFERED_EN in c.get("/api/v1/notifications").content.decode()
    c.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert OFFERED_ZH in c.get("/notifications/").content.decode()


def test_someones_own_words_go_as_they_wrote_them(db: Any) -> None:
    english = user("reader-en")
    language_remember(english, "en")
    notify([english], verb="t", text="原样的文字")
    assert Notification.objects.get().text == "原样的文字"


def test_the_switch_keeps_a_logged_in_users_choice_and_login_restores_it(db: Any) -> None:
    reader = user("reader")
    c = Client()
    c.force_login(reader)
    assert c.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    assert language_of(reader) == "en"
    fresh = Client()  # another browser: no language cookie
    response = fresh.post("/login/", {"username": "reader", "password": "pw-for-tests-1"})
    assert response.status_code == 302 and response.cookies["django_language"].value == "en"
    assert '<html lang="en">' in fresh.get("/").content.decode()
    del fresh.cookies["django_language"]  # a browser restart drops it; the login (session) lasts longer
    assert '<html lang="en">' in fresh.get("/").content.decode()


def test_a_language_picked_before_the_first_login_is_kept(db: Any) -> None:
    user("reader")
    c = Client()
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert not LanguagePreference.objects.exists()  # nobody to keep it for yet
    c.post("/login/", {"username": "reader", "password": "pw-for-tests-1"})
    assert LanguagePreference.objects.get().language == "en"


def test_a_language_left_in_the_browser_by_someone_else_is_not_kept_for_the_next_user(db: Any) -> None:
    user("first")
    user("second")
    c = Client()
    c.post("/login/", {"username": "first", "password": "pw-for-tests-1"})
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    c.post("/logout/")
    assert c.cookies["django_language"].value == "en"  # the browser still holds it
    c.post("/login/", {"username": "second", "password": "pw-for-tests-1"})
    assert list(LanguagePreference.objects.values_list("user__username", "language")) == [("first", "en")]
    assert '<html lang="zh-hans">' in c.get("/").content.decode()  # their pages too: the default, not "en"


def test_a_language_picked_on_the_login_page_wins_over_the_kept_one(db: Any) -> None:
    reader = user("reader")
    language_remember(reader, "en")
    c = Client()
    c.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    response = c.post("/login/", {"username": "reader", "password": "pw-for-tests-1"})
    assert response.cookies["django_language"].value == "zh-hans"
    assert language_of(reader) == "zh-hans"


def test_pages_follow_the_kept_language_while_logged_in_without_the_cookie(db: Any) -> None:
    reader = user("reader")
    c = Client()
    c.post("/login/", {"username": "reader", "password": "pw-for-tests-1"})
    assert c.put("/api/v1/me/language", {"language": "en"}, content_type="application/json").status_code == 200
    assert not getattr(c.cookies.get("django_language"), "value", "")  # no cookie: the language is the session's
    assert '<html lang="en">' in c.get("/").content.decode()
    assert language_of(reader) == "en"


def test_a_regional_variant_is_kept_as_its_language(db: Any) -> None:
    reader = user("reader")
    c = Client()
    c.force_login(reader)
    c.post("/i18n/setlang/", {"language": "en-us", "next": "/"})
    assert language_of(reader) == "en"


def test_an_unknown_language_is_neither_switched_to_nor_kept(db: Any) -> None:
    reader = user("reader")
    c = Client()
    c.force_login(reader)
    c.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert not LanguagePreference.objects.exists()


def test_the_api_reads_and_sets_the_language_and_names_the_field_on_bad_input(db: Any) -> None:
    reader = user("reader")
    c = Client()
    assert c.put("/api/v1/me/language", {"language": "en"}, content_type="application/json").status_code == 403
    c.force_login(reader)
    assert c.get("/api/v1/me").json()["language"] == "zh-hans"
    bad = c.put("/api/v1/me/language", {"language": "fr"}, content_type="application/json")
    assert bad.status_code == 422 and "language" in str(bad.json())
    assert not LanguagePreference.objects.exists()
    ok = c.put("/api/v1/me/language", {"language": "en"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["language"] == "en"
    assert language_of(reader) == "en"


def test_an_applicant_hears_the_decision_in_the_language_they_applied_in(
    ref: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with translation.override("en"):
        admission = apply()
    assert admission.language == "en"
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        admission_approve(actor=operator, admission=admission)
    assert mail.outbox[0].subject.startswith("Agglo admission:"), mail.outbox[0].subject
    admin = Membership.objects.get(organization=admission.organization).user
    assert language_of(admin) == "en"
    # the status link from the e-mail, opened in a fresh browser, reads in the language applied in
    page = Client().get(f"/apply/status/{admission.tracking_token}/").content.decode()
    assert '<html lang="en">' in page


def test_a_long_notification_is_cut_in_the_mail_subject_with_an_ellipsis_and_whole_in_the_body(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    reader = user("reader")
    text = "订单" + "很长的产品名称" * 30
    with django_capture_on_commit_callbacks(execute=True):
        notify([reader], verb="t", text=text)
    [message] = mail.outbox
    assert message.subject.endswith("…") and len(message.subject) < 90
    assert text in message.body


def test_a_title_with_line_breaks_still_reaches_every_inbox(db: Any, django_capture_on_commit_callbacks: Any) -> None:
    """Review 49 F7: a member's title with a line break in the subject failed every copy of the batch."""
    readers = [user("reader-a"), user("reader-b")]
    with django_capture_on_commit_callbacks(execute=True):
        notify(readers, verb="t", text="寻求合作\r\nBcc: x@evil.example", link="/x/")
    assert sorted(m.to[0] for m in mail.outbox) == ["reader-a@t.example", "reader-b@t.example"]
    assert all("\n" not in m.subject and "\r" not in m.subject for m in mail.outbox)
    assert mail.outbox[0].subject.endswith("寻求合作 Bcc: x@evil.example") and not mail.outbox[0].bcc


def test_names_and_titles_are_one_line(db: Any, member_of: Any, english: Any) -> None:
    """Recheck 50 N6: a name or title with a line break went on to mail subjects and single-line cells."""
    from agglo.common.errors import ValidationFailed
    from agglo.market.services import listing_create
    from agglo.registry.services import organization_update

    admin, org = member_of("liner-admin")
    with pytest.raises(ValidationFailed) as refused:
        organization_update(actor=admin, organization=org, data={"name_en": "Acme\r\nBcc: x@evil.example"})
    assert refused.value.errors["name_en"] == ["Must be one line: no line breaks, tabs or other control characters."]
    with pytest.raises(ValidationFailed) as refused:
        listing_create(
            actor=admin, organization=org, data={"side": "need", "kind": "technology", "title_zh": "寻求\n合作"}
        )
    assert "title_zh" in refused.value.errors
    multi = listing_create(
        actor=admin,
        organization=org,
        data={"side": "need", "kind": "technology", "title_zh": "寻求合作", "description_zh": "一\n二"},
    )
    assert multi.description_zh == "一\n二"  # descriptions keep their lines
    from agglo.common.lines import is_one_line

    # C1 controls and bidirectional overrides too (recheck 51 R9): a name that reads otherwise than it is
    assert not is_one_line("Acme\x85Bcc") and not is_one_line("Acme \u202egnp.exe") and is_one_line("华芯 SiC")
