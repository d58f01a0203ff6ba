import pytest
from django.contrib.auth import authenticate
from django.core.files.storage import default_storage

from agglo.access.models import Membership
from agglo.common.errors import Conflict, Forbidden, ValidationFailed
from agglo.registry.models import Admission, AdmissionDocument, Organization
from agglo.registry.services import (
    admission_apply,
    admission_approve,
    admission_reject,
    admission_request_info,
    admission_respond,
)
from tests.conftest import PDF, PNG, make_uscc, upload, user

pytestmark = pytest.mark.django_db
PASSWORD = "Str0ng-applicant-pass"


def application(email="Wang.Min@Yunqi.example", **org_overrides):
    org = {
        "name_zh": "杭州云启智能装备有限公司",
        "name_en": "Hangzhou Yunqi Intelligent Equipment Co., Ltd.",
        "kind": "tech_sme",
        "region": "330100",
        "uscc": make_uscc("330100", "MA2CDE0F1"),
        "founded_year": 2019,
        "headcount": 45,
        "tags": "机器人, 减速器",
    }
    org.update(org_overrides)
    return {
        "organization": org,
        "contact": {
            "contact_name": "王敏",
            "contact_email": email,
            "contact_phone": "+86 13800000000",
        },
        "password": PASSWORD,
        "message": "希望加入机器人产业链",
        "documents": [upload()],
    }


def apply(email="Wang.Min@Yunqi.example", **org_overrides):
    return admission_apply(actor=None, **application(email, **org_overrides))


def test_apply_creates_applicant_with_history_and_document(ref):
    admission = apply()
    org = admission.organization
    assert org.status == "applicant" and org.tags == ["机器人", "减速器"]
    assert admission.contact_email == "wang.min@yunqi.example"
    assert [e.status for e in admission.events.all()] == ["submitted"]
    doc = admission.documents.get()
    assert doc.content_type == "application/pdf" and default_storage.exists(doc.file.name)
    assert len(admission.tracking_token) >= 40


def test_operators_hear_of_applications_and_the_approval_mail_says_where_to_log_in(
    ref, operator, settings, django_capture_on_commit_callbacks
):
    from django.core import mail

    from agglo.common.models import Notification

    settings.AGGLO_TOTP_REQUIRED = True
    with django_capture_on_commit_callbacks(execute=True):
        admission = apply()
    told = Notification.objects.get(user=operator, verb="registry.admission_waiting")
    assert told.link == f"/review/{admission.pk}/" and admission.organization.name_zh in told.text
    with django_capture_on_commit_callbacks(execute=True):
        admission_approve(actor=operator, admission=admission)
    approved = mail.outbox[-1]
    assert approved.to == ["wang.min@yunqi.example"]
    assert f"{settings.AGGLO_BASE_URL.rstrip('/')}/login/" in approved.body
    assert "two-factor" in approved.body or "两步登录" in approved.body  # in the language applied in


def test_approval_makes_a_member_and_an_admin_who_can_log_in(ref, operator):
    admission = admission_approve(actor=operator, admission=apply(), note="资料齐全")
    assert admission.status == "approved" and admission.organization.status == "member"
    admin = authenticate(username="wang.min@yunqi.example", password=PASSWORD)
    assert admin is not None
    assert Membership.objects.get(user=admin).role == "admin"
    assert admission.admin_password_hash == ""
    assert [e.status for e in admission.events.all()] == ["submitted", "approved"]
    # the new member's own history begins with its admission, without its admin's login in it
    from agglo.profiles.selectors import history_list

    (first,) = history_list(actor=admin, organization=admission.organization)
    assert first.event == "registry.admission_approved" and "wang.min" not in str(first.payload)
    with pytest.raises(Conflict):
        admission_reject(actor=operator, admission=admission, reason="too late")


def test_a_credit_code_whose_division_names_no_province_is_refused(ref):
    from agglo.registry.uscc import check_character

    head = "91990000MA5FXXX12"
    with pytest.raises(ValidationFailed) as err:
        apply(uscc=head + check_character(head))
    assert err.value.errors["uscc"] == [
        "不是有效的统一社会信用代码：其行政区划代码 990000 不对应 GB/T 2260 中的任何省份。"
    ], err.value.errors


def test_a_password_like_the_login_is_refused_as_a_reset_would_refuse_it(ref, english):
    data = application("weak.login@yunqi.example")
    data["password"] = "weak.login@yunqi.example"
    with pytest.raises(ValidationFailed) as err:
        admission_apply(actor=None, **data)
    assert set(err.value.errors) == {"password"}
    assert "too similar" in err.value.errors["password"][0]
    assert Admission.objects.count() == 0


def test_bad_application_reports_every_field_and_saves_nothing(ref, english):
    data = application(uscc="91330100MA2CDE0F10", region="000000", kind="pirate")
    data["contact"]["contact_email"] = "not-an-email"
    data["password"] = "123"
    data["documents"] = [upload("virus.exe", b"MZ\x90\x00" * 10, "application/pdf")]
    with pytest.raises(ValidationFailed) as err:
        admission_apply(actor=None, **data)
    assert {"region", "kind", "contact_email", "password", "documents"} <= set(err.value.errors)
    assert "not a PDF, PNG or JPEG" in err.value.errors["documents"][0]
    assert Organization.objects.count() == 0 and Admission.objects.count() == 0
    assert AdmissionDocument.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "body", "ok"),
    [
        ("whole.png", PNG, True),
        ("whole.pdf", PDF, True),
        ("page.png", b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", False),  # a signature glued on
        ("cut.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n" + b"x" * 4000, False),  # no %%EOF: not a whole PDF
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 100 + b"\xff\xd9", True),
        ("fake.jpg", b"\xff\xd8\xff" + b"<?php ?>" * 20, False),
    ],
)
def test_an_upload_must_end_as_its_format_ends(english, name, body, ok):
    from agglo.common.uploads import check_documents

    errors: dict[str, list[str]] = {}
    check_documents([upload(name, body, "application/octet-stream")], errors)
    assert (errors == {}) is ok, errors


def test_oversized_upload_is_refused_with_the_limit(ref, english, settings):
    settings.AGGLO_UPLOAD_MAX_BYTES = 100
    data = application()
    data["documents"] = [upload("big.png", PNG + b"\x00" * 200, "image/png")]
    with pytest.raises(ValidationFailed) as err:
        admission_apply(actor=None, **data)
    assert err.value.errors["documents"][0] == f"big.png is {len(PNG) + 200}\xa0bytes; the limit is 100\xa0bytes."


def test_document_is_required(ref):
    data = application()
    data["documents"] = []
    with pytest.raises(ValidationFailed) as err:
        admission_apply(actor=None, **data)
    assert "documents" in err.value.errors


def test_same_code_twice_is_a_conflict_but_reapplying_after_rejection_works(ref, operator, client):
    first = apply()
    with pytest.raises(Conflict) as err:
        apply(email="someone@else.example", name_zh="另一个名字有限公司")
    assert "uscc" in err.value.errors and "杭州" not in str(err.value.errors)  # no name of the holder leaks
    # the same e-mail on another application is taken: the form tells nobody what it is in use for (review 49 F6)
    other = apply(uscc=make_uscc("330100", "MA2CDE0F2"), name_zh="杭州另一家公司")
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    assert 'id="same-email"' in client.get(f"/review/{other.pk}/").content.decode()
    admission_reject(actor=operator, admission=other, reason="重复申请")
    admission_reject(actor=operator, admission=first, reason="营业执照不清晰")
    with pytest.raises(Conflict):  # only the original contact may take the rejected record up again
        apply(email="someone@else.example")
    second = apply(name_zh="杭州云启智能装备有限公司（新）")
    assert second.organization_id == first.organization_id
    assert second.pk != first.pk
    # the review page shows what was decided then (review 47 F5)
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    page = client.get(f"/review/{second.pk}/").content.decode()
    block = page.split('id="earlier-applications"')[1].split("</div>")[0]
    assert f"its application #{first.pk}: Rejected" in block and "营业执照不清晰" in block
    assert "applied before" in client.get("/review/").content.decode()  # and in the queue (review 48)


def test_an_existing_account_is_never_handed_to_an_applicant(ref, operator):
    # whether an address has an account, as its login or its mail, the public form does not say (it would tell
    # anyone which addresses have accounts; review 49 F6): the operator is told, and approval is refused
    user("ceo@real.example")
    by_login = apply(email="CEO@real.example")
    with pytest.raises(Conflict):
        admission_approve(actor=operator, admission=by_login)
    named = user("sme-boss")
    named.email = "boss@firm.example"
    named.save(update_fields=["email"])
    admission = apply(email="Boss@Firm.example", uscc=make_uscc("330100", "MA2CDE0F2"), name_zh="杭州另一家公司")
    from django.test import Client

    from agglo.common.errors import Conflict as Refused

    desk = Client()
    desk.force_login(operator)
    assert 'id="email-in-use"' in desk.get(f"/review/{admission.pk}/").content.decode()
    with pytest.raises(Refused):
        admission_approve(actor=operator, admission=admission)


def test_an_account_made_between_the_check_and_the_save_is_the_same_refusal(ref, operator, monkeypatch):
    # Two applications with one address approved at the same moment both pass the check (review 53 R9): the
    # second's save breaks the unique login, which is the same conflict, not a server error.
    from agglo.registry.models import Admission
    from agglo.registry.services import admission as admitting

    admission = apply(email="race@firm.example")
    user("race@firm.example")
    monkeypatch.setattr(admitting, "email_in_use", lambda email: False)
    with pytest.raises(Conflict) as exc:
        admission_approve(actor=operator, admission=admission)
    assert set(exc.value.errors) == {"contact_email"}
    assert Admission.objects.get(pk=admission.pk).status != "approved"


def test_near_identical_name_in_the_same_region_is_flagged(make_org):
    existing = make_org(name_zh="杭州云启智能装备股份有限公司", region="330100", uscc=make_uscc("330100", "MA2YYY0F1"))
    admission = apply()
    assert admission.duplicate_flags and admission.duplicate_flags[0]["organization"] == existing.pk
    assert admission.duplicate_flags[0]["reason"] == "similar_name" and admission.duplicate_flags[0]["matched"] == "zh"


def test_a_shared_english_name_is_flagged_as_such(make_org, operator, client):
    existing = make_org(
        name_zh="杭州某某装备有限公司",
        name_en="Hangzhou Yunqi Intelligent Equipment Co., Ltd.",
        region="330100",
        uscc=make_uscc("330100", "MA2YYY0F3"),
    )
    admission = apply()  # a different Chinese name, the same English one
    (flag,) = admission.duplicate_flags
    assert (flag["organization"], flag["matched"]) == (existing.pk, "en")
    client.force_login(operator)
    page = client.get(f"/review/{admission.pk}/").content.decode()
    assert "英文名称相似：Hangzhou Yunqi Intelligent Equipment Co., Ltd." in page


def test_request_info_then_answer_returns_to_queue(ref, operator):
    admission = admission_request_info(actor=operator, admission=apply(), note="请补充法人身份证明")
    assert admission.status == "needs_info"
    with pytest.raises(ValidationFailed):
        admission_respond(admission=admission, note="  ")
    admission = admission_respond(admission=admission, note="已上传", documents=[upload("id.png", PNG, "image/png")])
    assert admission.status == "submitted"
    assert admission.documents.count() == 2
    with pytest.raises(Conflict):
        admission_respond(admission=admission, note="again")
    # the applicant's page reads the old request as answered, not as a reason for anything
    from django.test import Client

    page = Client().get(f"/apply/status/{admission.tracking_token}/").content.decode()
    assert "审核人曾要求（已答复）" in page and "请补充法人身份证明" in page


def test_reviewing_needs_an_operator_and_a_reason(ref, operator):
    admission = apply()
    with pytest.raises(Forbidden):
        admission_approve(actor=user("nobody"), admission=admission)
    with pytest.raises(ValidationFailed) as err:
        admission_reject(actor=operator, admission=admission, reason="")
    assert "reason" in err.value.errors
    admission.refresh_from_db()
    assert admission.status == "submitted"


def test_a_flagged_application_links_the_earlier_one_and_an_approved_one_its_member(ref, operator, client):
    """Walk review 45 F9: the flag named a similar organization but not its rejected application, and an approved
    application's page did not lead to the new member."""
    first = apply(uscc=make_uscc("330100", "MA2FQRYT1"))
    admission_reject(actor=operator, admission=first, reason="材料不全")
    second = apply(email="wm2@yunqi.example", uscc=make_uscc("330100", "MA2HECND2"))  # another code, the same name
    assert second.duplicate_flags[0]["organization"] == first.organization_id
    client.force_login(operator)
    client.cookies["django_language"] = "en"
    page = client.get(f"/review/{second.pk}/").content.decode()
    assert f'href="/review/{first.pk}/">its application #{first.pk}: Rejected</a> (材料不全)' in page
    admission_approve(actor=operator, admission=second)
    page = client.get(f"/review/{second.pk}/").content.decode()
    assert f'href="/organizations/{second.organization_id}/" id="member-page"' in page
