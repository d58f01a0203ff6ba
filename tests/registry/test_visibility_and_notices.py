import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from agglo.access.models import Membership
from agglo.ledger.entries import decode, digest, sealed
from agglo.ledger.models import LogEntry
from agglo.registry.models import Organization
from agglo.registry.selectors import contacts_visible
from agglo.registry.services import admission_approve, admission_reject, relation_add
from tests.conftest import user
from tests.registry.test_admission_services import apply

pytestmark = pytest.mark.django_db


def member_of(org, name):
    u = user(name)
    Membership.objects.create(user=u, organization=org, role=Membership.Role.ADMIN)
    return u


def test_contact_visibility_levels(make_org, operator):
    owner, partner, stranger = make_org(), make_org(), make_org()
    owner_user, partner_user, stranger_user = (member_of(o, f"u{o.pk}") for o in (owner, partner, stranger))
    gov = user("officer", role="government")
    anonymous = type("Anon", (), {"is_authenticated": False})()
    relation_add(actor=owner_user, source=owner, target_id=partner.pk, kind="partner")

    def who_sees(level):
        Organization.objects.filter(pk=owner.pk).update(contacts_visibility=level)
        owner.refresh_from_db()
        people = {
            "owner": owner_user,
            "partner": partner_user,
            "stranger": stranger_user,
            "gov": gov,
            "operator": operator,
            "anonymous": anonymous,
        }
        return {name for name, u in people.items() if contacts_visible(actor=u, organization=owner)}

    assert who_sees("public") == {"owner", "partner", "stranger", "gov", "operator", "anonymous"}
    assert who_sees("members") == {"owner", "partner", "stranger", "gov", "operator"}
    assert who_sees("partners") == {"owner", "partner", "operator"}
    assert who_sees("private") == {"owner", "operator"}


def test_decisions_email_the_applicant(ref, operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admission = apply()
    # on submission already: the private status link, which a closed tab would otherwise lose
    applicant = [m for m in mail.outbox if m.to == ["wang.min@yunqi.example"]]
    assert len(applicant) == 1 and f"/apply/status/{admission.tracking_token}/" in applicant[0].body
    assert [m.to for m in mail.outbox if m not in applicant] == [[operator.email]]  # the reviewers hear of it
    with django_capture_on_commit_callbacks(execute=True):
        admission_reject(actor=operator, admission=admission, reason="营业执照模糊，请重新上传")
    assert len(mail.outbox) == 3
    message = mail.outbox[2]
    assert message.to == ["wang.min@yunqi.example"]
    assert "营业执照模糊" in message.body and "/apply/status/" in message.body


def test_the_log_seals_a_decisions_reason_under_a_key_only_the_applicant_and_operators_see(ref, operator, client):
    reason = "营业执照模糊"
    admission = admission_reject(actor=operator, admission=apply(), reason=reason)
    assert len(admission.text_key) == 32
    payload = decode(bytes(LogEntry.objects.get(type="registry.admission_rejected").data))["payload"]
    assert payload["reason"] == sealed(reason, admission.text_key)
    assert payload["reason"] != digest(reason.encode())  # a plain digest would let anyone test a guess
    tracked = client.get(f"/api/v1/admissions/track/{admission.tracking_token}").json()
    assert tracked["text_key"] == admission.text_key
    page = client.get(f"/apply/status/{admission.tracking_token}/").content.decode()
    assert admission.text_key in page
    client.force_login(user("member"))  # anyone but the applicant and operators: no way to the key
    assert client.get("/api/v1/admissions").status_code == 403
    client.force_login(operator)
    assert [a["text_key"] for a in client.get("/api/v1/admissions?status=rejected").json()] == [admission.text_key]


def test_approval_email_names_the_login(ref, operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admission_approve(actor=operator, admission=apply())
    assert "wang.min@yunqi.example" in mail.outbox[0].body


def test_api_tokens_are_issued_listed_and_revoked(org_admin, client):
    admin, _ = org_admin
    assert client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json").status_code == 401
    client.force_login(admin)
    created = client.post("/api/v1/tokens", {"name": "erp sync"}, content_type="application/json").json()
    assert created["token"].startswith("agg_")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {created['token']}"}
    client.logout()
    assert client.get("/api/v1/me", **bearer).json()["username"] == "orgadmin"
    assert [t["name"] for t in client.get("/api/v1/tokens", **bearer).json()] == ["erp sync"]
    assert client.delete(f"/api/v1/tokens/{created['id']}", **bearer).status_code == 204
    assert client.get("/api/v1/me", **bearer).status_code == 401
    body = client.post("/api/v1/tokens", {"name": ""}, content_type="application/json", **bearer)
    assert body.status_code == 401


def test_token_name_is_validated(org_admin, client):
    admin, _ = org_admin
    client.force_login(admin)
    response = client.post("/api/v1/tokens", {"name": "  "}, content_type="application/json")
    assert response.status_code == 422 and "name" in response.json()["errors"]


def test_the_token_command_issues_none_for_a_deactivated_account(org_admin):
    admin, _ = org_admin
    admin.is_active = False
    admin.save()
    with pytest.raises(CommandError, match="deactivated"):
        call_command("token", admin.username)


def test_admin_actions_go_through_the_service(make_org, client):
    org = make_org()
    staff = user("staff-op", role="operator")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get(f"/admin/registry/organization/{org.pk}/change/").status_code == 200
    client.post("/admin/registry/organization/", {"action": "set_suspended", "_selected_action": [org.pk]})
    org.refresh_from_db()
    assert org.status == "suspended"


def test_demo_command_refuses_to_mix_clusters(make_org):
    make_org()
    with pytest.raises(CommandError, match="--replace"):
        call_command("demo", "--orgs", "50", "--quiet")
    call_command("demo", "--orgs", "50", "--quiet", "--replace")
    assert Organization.objects.count() == 50


def test_a_claimed_partnership_does_not_open_partner_data(make_org):
    owner, claimant = make_org(), make_org()
    owner_admin, claimant_admin = member_of(owner, "owner-admin"), member_of(claimant, "claimant-admin")
    Organization.objects.filter(pk=owner.pk).update(contacts_visibility="partners")
    owner.refresh_from_db()
    relation_add(actor=claimant_admin, source=claimant, target_id=owner.pk, kind="partner")
    assert not contacts_visible(actor=claimant_admin, organization=owner)
    relation_add(actor=owner_admin, source=owner, target_id=claimant.pk, kind="partner")  # the owner declares it
    claimant_admin = type(claimant_admin).objects.get(pk=claimant_admin.pk)  # fresh request, fresh role cache
    assert contacts_visible(actor=claimant_admin, organization=owner)


def test_people_of_a_withdrawn_organization_lose_member_rights(make_org, operator):
    from agglo.registry.services import organization_set_status

    owner, former = make_org(), make_org()
    person = member_of(former, "former-admin")
    assert contacts_visible(actor=person, organization=owner)  # members-level contacts
    organization_set_status(actor=operator, organization=former, status="withdrawn")
    person = type(person).objects.get(pk=person.pk)
    assert not contacts_visible(actor=person, organization=owner)


def test_pages_answer_404_not_500_for_missing_records(org_admin, client):
    admin, _ = org_admin
    client.force_login(admin)
    assert client.post("/organizations/999999/positions/", {"pos-segment": "ic-eda"}).status_code == 404
    assert client.get("/organizations/999999/edit/").status_code == 404
    assert client.get("/api/v1/regions", {"offset": 10**20}).status_code == 422
