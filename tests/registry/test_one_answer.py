"""Credit codes registered nationally, misspelt multipart fields, and the organization form's one answer."""

from __future__ import annotations

import pytest
from django.test import Client

from agglo.registry import selectors
from tests.conftest import make_uscc, user
from tests.registry.test_admission_services import apply

pytestmark = pytest.mark.django_db


def test_a_nationally_registered_code_is_not_flagged_as_from_another_province_without_a_word(ref):
    """A code registered nationally (division 10) names no province, so it raises no other-province question."""
    admission = apply(uscc=make_uscc("100000", "MA2CDE0F1"))  # e.g. a central SOE's 91100000… code
    org = admission.organization
    flagged, explained = selectors.code_issued_elsewhere(org), selectors.code_province_mismatch(org)
    operator = user("r24-op", role="operator")
    c = Client()
    c.force_login(operator)
    c.cookies["django_language"] = "en"
    queue = c.get("/review/").content.decode()
    assert not flagged or explained is not None, (flagged, "code from another province" in queue, explained)


def test_a_misspelt_field_in_an_admission_sent_to_the_api_is_refused(ref, client):
    data = {
        "name_zh": "杭州拼错测试有限公司",
        "kind": "tech_sme",
        "region": "330100",
        "uscc": make_uscc("330100", "MA2CDE0F7"),
        "headcont": "45",  # misspelt
        "contact_name": "王敏",
        "contact_email": "typo@r24.example",
        "password": "Str0ng-applicant-pass",
    }
    from tests.conftest import upload

    r = client.post("/api/v1/admissions", {**data, "documents": upload()})
    from agglo.registry.models import Organization

    org = Organization.objects.filter(name_zh="杭州拼错测试有限公司").first()
    assert r.status_code == 422, (r.status_code, org and org.headcount)


def test_the_organization_form_names_every_problem_in_one_answer(org_admin, english):
    admin, org = org_admin
    c = Client()
    c.force_login(admin)
    c.cookies["django_language"] = "en"
    r = c.post(f"/organizations/{org.pk}/edit/", {"org-name_zh": "", "org-headcount": "1e5", "org-founded_year": "99"})
    text = r.content.decode()
    said = {m: m in text for m in ("This field is required.", "Must be a whole number.", "Must be between")}
    assert all(said.values()), said
