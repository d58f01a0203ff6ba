"""An application carries its materials (申报材料): sent with it or while it waits, read by the member that sent
them, the policy's agency and operators, and kept as they were once it is decided."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.models import AuditEvent, Notification
from agglo.policy.applications import application_decide, application_documents_add, application_submit
from agglo.policy.models import Application, ApplicationDocument
from agglo.policy.services import policy_create, policy_publish
from tests.conftest import upload
from tests.policy.test_services import agency, firm, policy_data  # noqa: F401 (agency is a fixture)
from tests.registry.test_api import bearer, problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_policy(agency):  # noqa: F811
    admin, org = agency
    return policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=policy_data()))


def test_a_member_applies_with_its_materials_and_the_agency_reads_them(agency, member_of, open_policy):  # noqa: F811
    admin, _org = agency
    applicant_admin, applicant = firm(member_of, "applicant-firm", rd=1_200_000, invention=True)
    other_admin, _other = firm(member_of, "other-firm", rd=1_200_000, invention=True)
    page = Client()
    page.force_login(applicant_admin)
    sent = page.post(
        f"/policies/{open_policy.pk}/apply/",
        {"organization": applicant.pk, "note": "请审核", "files": [upload("申报书.pdf"), upload("营业执照.pdf")]},
    )
    assert sent.status_code == 302
    application = Application.objects.get(policy=open_policy, organization=applicant)
    docs = list(application.documents.all())
    assert [d.original_name for d in docs] == ["申报书.pdf", "营业执照.pdf"]
    assert AuditEvent.objects.filter(event="policy.application_documents_added").count() == 1
    url = f"/applications/documents/{docs[0].pk}/"
    agency_page = Client()
    agency_page.force_login(admin)
    detail = agency_page.get(f"/policies/{open_policy.pk}/").content.decode()
    assert url in detail and "申报书.pdf" in detail
    got = agency_page.get(url)
    assert got.status_code == 200 and got["Content-Disposition"].startswith("attachment")
    assert got["Cache-Control"] == "private, no-store" and b"".join(got.streaming_content).startswith(b"%PDF")
    assert page.get(url).status_code == 200  # the member that sent it
    stranger = Client()
    stranger.force_login(other_admin)
    assert stranger.get(url).status_code == 404  # another member: not even that it exists
    assert Client().get(url).status_code == 302  # to the login page
    # the API shows them with the application, and serves the file to the agency alone of the two
    listed = Client().get(f"/api/v1/policies/{open_policy.pk}/applications", **bearer(admin)).json()
    assert [d["original_name"] for d in listed[0]["documents"]] == ["申报书.pdf", "营业执照.pdf"]
    assert Client().get(f"/api/v1/application-documents/{docs[0].pk}", **bearer(admin)).status_code == 200
    problem(Client().get(f"/api/v1/application-documents/{docs[0].pk}", **bearer(other_admin)), 404)


def test_a_bad_file_keeps_nothing_not_even_the_application(agency, member_of, open_policy, english):  # noqa: F811
    applicant_admin, applicant = firm(member_of, "applicant-firm", rd=1_200_000, invention=True)
    with pytest.raises(ValidationFailed) as refused:
        application_submit(
            actor=applicant_admin,
            policy=open_policy,
            organization_id=applicant.pk,
            files=[upload("申报书.pdf"), upload("notes.pdf", b"just text", "application/pdf")],
        )
    assert list(refused.value.errors) == ["files"] and "notes.pdf" in refused.value.errors["files"][0]
    assert not Application.objects.exists() and not ApplicationDocument.objects.exists()


def test_more_materials_while_it_waits_and_none_once_decided(agency, member_of, open_policy, english):  # noqa: F811
    admin, _org = agency
    applicant_admin, applicant = firm(member_of, "applicant-firm", rd=1_200_000, invention=True)
    application = application_submit(actor=applicant_admin, policy=open_policy, organization_id=applicant.pk)
    with pytest.raises(Forbidden):  # the agency does not add to a member's application
        application_documents_add(actor=admin, application=application, files=[upload()])
    api = Client().post(
        f"/api/v1/applications/{application.pk}/documents",
        {"files": [upload("补充材料.pdf")]},
        **bearer(applicant_admin),
    )
    assert api.status_code == 201 and api.json()[0]["original_name"] == "补充材料.pdf"
    assert Notification.objects.filter(verb="policy.application_documents", user=admin).exists()
    with pytest.raises(ValidationFailed) as too_many, translation.override("en"):
        application_documents_add(actor=applicant_admin, application=application, files=[upload()] * 10)
    assert "1 are attached already" in too_many.value.errors["files"][0]
    application_decide(actor=admin, application=application, grant=True, amount="100000")
    with pytest.raises(ValidationFailed) as late:
        application_documents_add(actor=applicant_admin, application=application, files=[upload()])
    assert list(late.value.errors) == ["status"]
    assert application.documents.count() == 1


def test_a_documents_url_serves_the_file_to_a_token(agency, member_of, open_policy):  # noqa: F811
    # review 112: the `url` was the page's address, which answers a token with the login page
    admin, _org = agency
    applicant_admin, applicant = firm(member_of, "applicant-firm", rd=1_200_000, invention=True)
    application_submit(
        actor=applicant_admin, policy=open_policy, organization_id=applicant.pk, files=[upload("申报书.pdf")]
    )
    for who in (admin, applicant_admin):
        (listed,) = Client().get(f"/api/v1/policies/{open_policy.pk}/applications", **bearer(who)).json()
        (doc,) = listed["documents"]
        assert doc["url"] == f"/api/v1/application-documents/{doc['id']}"
        got = Client().get(doc["url"], **bearer(who))
        assert got.status_code == 200 and b"".join(got.streaming_content).startswith(b"%PDF")
