"""Review 103 (this session's changes read again): an answer refused because another agency answered says why and
keeps the text; a percentage's size limit is told in percent; a stored rule sent back by a form reads as it was
accepted; a granted policy is not also "one condition missing". (Its deadlock test is with review 99's races.)"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agglo.policy import rules
from agglo.policy.applications import application_decide, application_submit
from agglo.policy.facts import FACTS
from agglo.policy.models import Policy
from agglo.policy.needs import need_answer, need_submit
from agglo.policy.services import policy_create, policy_publish, policy_update
from tests.policy.test_services import agency, firm, policy_data  # noqa: F401 - fixtures


@pytest.mark.django_db
def test_an_answer_refused_because_another_agency_answered_says_why(agency: Any, member_of: Any) -> None:  # noqa: F811
    admin, _org = agency
    other_admin, _other = member_of("agency2-admin", kind="government", name_zh="广东省工业和信息化厅")
    asker_admin, asker = member_of("asker103")
    need = need_submit(
        actor=asker_admin,
        organization_id=asker.pk,
        data={"topic": "tax", "text": "研发费用加计扣除申报流程复杂，材料太多"},
    )
    need_answer(actor=other_admin, need=need, answer="请参阅省厅的指引。")
    c = Client()
    c.force_login(admin)
    c.cookies["django_language"] = "en"
    page = c.post(f"/policies/needs/{need.pk}/answer/", {"answer": "Our answer", "policy": ""}).content.decode()
    back = page.split('id="answer-back"')[1].split("</div>")[0]
    assert "has answered this need" in back and "Our answer" in back


def test_a_percentages_size_limit_is_told_in_percent() -> None:
    rules.parse("rd_intensity >= 99999999999999999%", FACTS)
    with pytest.raises(rules.RuleError) as refused:
        rules.parse("rd_intensity >= 999999999999999999%", FACTS)
    assert refused.value.params["limit"] == "100,000,000,000,000,000 %"


@pytest.mark.django_db
def test_a_stored_rule_sent_back_by_a_form_reads_as_it_was_accepted(agency: Any) -> None:  # noqa: F811
    admin, org = agency
    policy = policy_create(actor=admin, issuer=org, data=policy_data(rule="headcount >= 1\nand tech_sme"))
    Policy.objects.filter(pk=policy.pk).update(rule="headcount >= 1 %\nand tech_sme")  # saved before the check
    policy.refresh_from_db()
    changed = policy_update(
        actor=admin, policy=policy, data={"rule": "headcount >= 1 %\r\nand tech_sme", "title_zh": "新标题"}
    )
    assert changed.title_zh == "新标题"


@pytest.mark.django_db
def test_a_granted_policy_is_not_also_one_condition_missing(agency: Any, member_of: Any) -> None:  # noqa: F811
    admin, org = agency
    applicant_admin, applicant = firm(member_of, "granted-near", rd=1_200_000, invention=False)
    rule = "ip_invention >= 1"  # a near miss: one clause short
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=policy_data(rule=rule)))
    application = application_submit(actor=applicant_admin, policy=policy, organization_id=applicant.pk)
    application_decide(actor=admin, application=application, grant=True, amount="1000")
    c = Client()
    c.force_login(applicant_admin)
    c.cookies["django_language"] = "en"
    home = c.get("/").content.decode().split('id="policies-for-me"')[1].split("</section>")[0]
    assert "granted" in home and "one condition missing" not in home
