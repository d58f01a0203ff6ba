"""Every way in that could write an organization's status other than `organization_set_status` refuses to, naming
the field and the rule: the API's organization bodies, the services that change or create one, the organizations
import (page, API and command share its service), the Django admin's change form, and an admission approved for an
organization that is no longer an applicant."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from agglo.common.errors import Conflict, ValidationFailed
from agglo.common.models import AuditEvent
from agglo.profiles import services as profiles
from agglo.profiles.tabular import write_csv
from agglo.registry.models import Organization
from agglo.registry.services import admission_approve, organization_update
from agglo.registry.validation import STATUS_RULE
from tests.conftest import make_uscc
from tests.registry.test_admission_services import apply
from tests.registry.test_api import bearer, problem

pytestmark = pytest.mark.django_db

RULE_ZH = "状态不能在此变更：由运营方暂停、恢复机构或将其标记为已退出"
CHANGED = "registry.organization_status_changed"


def _unchanged(org: Organization, status: str = "member") -> None:
    org.refresh_from_db()
    assert org.status == status
    assert not AuditEvent.objects.filter(event=CHANGED, organization_id=org.pk).exists()


def test_the_api_refuses_a_status_in_an_organizations_body_naming_the_field_and_the_rule(
    org_admin: Any, operator: Any
) -> None:
    admin, org = org_admin
    for who in (operator, admin):
        body = problem(
            Client().patch(
                f"/api/v1/organizations/{org.pk}",
                {"status": "withdrawn", "name_en": "Renamed"},
                content_type="application/json",
                **bearer(who),
            ),
            422,
        )
        assert list(body["errors"]) == ["status"], body
        assert body["errors"]["status"][0].startswith(RULE_ZH), body
        assert "POST /api/v1/organizations/{id}/status" in body["errors"]["status"][0]
        _unchanged(org)
    assert org.name_en != "Renamed"  # nothing half-saved
    made = problem(
        Client().post(
            "/api/v1/organizations",
            {"name_zh": "深圳新成员科技有限公司", "kind": "tech_sme", "region": "440300", "status": "suspended"},
            content_type="application/json",
            **bearer(operator),
        ),
        422,
    )
    assert made["errors"]["status"][0].startswith(RULE_ZH), made
    assert not Organization.objects.filter(name_zh="深圳新成员科技有限公司").exists()
    # null counts as left out, as in every body: the status stays as it is; the status endpoint changes it
    left = Client().patch(
        f"/api/v1/organizations/{org.pk}", {"status": None}, content_type="application/json", **bearer(operator)
    )
    assert left.status_code == 200 and left.json()["status"] == "member", left.content
    done = Client().post(
        f"/api/v1/organizations/{org.pk}/status",
        {"status": "suspended"},
        content_type="application/json",
        **bearer(operator),
    )
    assert done.status_code == 200 and done.json()["status"] == "suspended", done.content


def test_the_update_service_refuses_a_status_for_operators_and_admins_alike(
    org_admin: Any, operator: Any, english: Any
) -> None:
    admin, org = org_admin
    with pytest.raises(ValidationFailed) as refused:
        organization_update(actor=operator, organization=org, data={"status": "withdrawn"})
    assert refused.value.errors == {"status": [str(STATUS_RULE)]}
    with pytest.raises(ValidationFailed) as refused:
        organization_update(actor=admin, organization=org, data={"status": "withdrawn", "kind": "bank"})
    assert refused.value.errors["status"] == [str(STATUS_RULE)]
    assert refused.value.errors["kind"] == ["Only platform operators may change this field."]
    assert str(STATUS_RULE).startswith("The status is not changed here: an operator suspends, reinstates")
    _unchanged(org)


def test_an_organizations_file_with_a_status_column_is_refused_whole_naming_the_column_and_the_rule(
    make_org: Any, operator: Any, english: Any, tmp_path: Path
) -> None:
    org = make_org()
    body = write_csv(
        ("uscc", "name_zh", "kind", "region", "status"),
        [
            (org.uscc, org.name_zh, "tech_sme", "440300", "withdrawn"),
            (make_uscc("440300", "MA7DXXXX7"), "深圳导入新成员科技有限公司", "tech_sme", "440300", "suspended"),
        ],
    )
    for dry_run in (True, False):
        result = profiles.import_file(
            actor=operator, kind="organizations", body=body, filename="orgs.csv", dry_run=dry_run
        )
        assert [(e.row, e.column, e.rule) for e in result.errors] == [(1, "status", "status_elsewhere")]
        assert result.errors[0].message == str(STATUS_RULE)
        assert not result.applied
    _unchanged(org)
    assert not Organization.objects.filter(name_zh="深圳导入新成员科技有限公司").exists()
    # the command line, on the same service, says so too
    path = tmp_path / "orgs.csv"
    path.write_bytes(body)
    out = io.StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_data", "organizations", str(path), "--as", operator.username, stdout=out)
    assert "row 1\tstatus\tstatus_elsewhere\tThe status is not changed here" in out.getvalue(), out.getvalue()
    _unchanged(org)


def test_the_admin_change_form_changes_no_status_its_list_actions_go_through_the_service(
    member_of: Any, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _owner, org = member_of("admin-form")
    operator.is_staff = operator.is_superuser = True
    operator.save()
    client = Client()
    client.force_login(operator)
    url = f"/admin/registry/organization/{org.pk}/change/"
    form = {
        "name_zh": org.name_zh,
        "kind": org.kind,
        "region": org.region_id,
        "status": "withdrawn",
        "positions-TOTAL_FORMS": "0",
        "positions-INITIAL_FORMS": "0",
    }
    assert client.post(url, form).status_code == 403  # read-only, a superuser's too
    _unchanged(org)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/registry/organization/", {"action": "set_withdrawn", "_selected_action": [org.pk]})
    org.refresh_from_db()
    assert org.status == "withdrawn"
    change = AuditEvent.objects.get(event=CHANGED, organization_id=org.pk)
    assert change.payload == {"before": "member", "after": "withdrawn", "reason": ""} and change.actor_id == operator.pk


def test_an_admission_is_not_approved_for_an_organization_no_longer_an_applicant(
    ref: None, operator: Any, english: Any
) -> None:
    admission = apply()
    org = admission.organization
    Organization.objects.filter(pk=org.pk).update(status="withdrawn")  # around the services
    with pytest.raises(Conflict) as refused:
        admission_approve(actor=operator, admission=admission)
    assert "no longer an applicant (its status is Withdrawn)" in refused.value.message
    assert refused.value.errors == {"status": [str(STATUS_RULE)]}
    org.refresh_from_db()
    admission.refresh_from_db()
    assert org.status == "withdrawn" and org.joined_at is None and admission.status == "submitted"
