"""Review 100 (a browser walk through the platform): an answer to a need sent with a fault comes back on that need,
as typed; "policies for you" says where an application stands and which clauses an alternative makes unneeded; a
grant by formula asks before it is made and says the sum it made."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from agglo.policy.applications import application_submit
from agglo.policy.needs import need_submit
from agglo.policy.services import policy_create, policy_publish
from tests.policy.test_services import agency, firm, policy_data  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_an_answer_sent_with_a_fault_comes_back_on_its_need(agency: Any, member_of: Any) -> None:  # noqa: F811
    admin, _org = agency
    asker_admin, asker = member_of("asker")
    for text in ("研发费用加计扣除申报流程复杂", "招不到芯片设计工程师"):
        need = need_submit(actor=asker_admin, organization_id=asker.pk, data={"topic": "tax", "text": text})
    c = Client()
    c.force_login(admin)
    answer = c.post(f"/policies/needs/{need.pk}/answer/", {"answer": "x", "policy": ""})
    page = answer.content.decode()
    assert answer.status_code == 422
    form = page.split(f'id="answer-{need.pk}"')[1].split("</form>")[0]
    assert 'aria-describedby="answer-back"' in form and "2 到 4,000" in page.split('id="answer-back"')[1]
    assert re.search(r'<textarea name="answer"[^>]*aria-invalid="true"[^>]*>x</textarea>', form)
    assert "研发费用加计扣除申报流程复杂" not in page.split('id="needs"')[1].split("</table>")[0]  # that need alone
    assert 'id="answer-back"' in page


def test_policies_for_you_say_where_an_application_stands(agency: Any, member_of: Any) -> None:  # noqa: F811
    admin, org = agency
    applicant_admin, applicant = firm(member_of, "home-firm", rd=1_200_000, invention=True)
    rule = "ip_invention >= 1 or ip_total >= 5"  # the first holds: the second is not needed
    policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=policy_data(rule=rule)))
    c = Client()
    c.force_login(applicant_admin)
    home = c.get("/").content.decode().split('id="policies-for-me"')[1].split("</section>")[0]
    assert "符合条件" in home or "eligible" in home
    assert "无需满足：已满足另一备选条件" in home or "not needed: an alternative is met" in home
    from agglo.policy.models import Policy

    policy = Policy.objects.get()
    application_submit(actor=applicant_admin, policy=policy, organization_id=applicant.pk)
    c.cookies["django_language"] = "en"
    home = c.get("/").content.decode().split('id="policies-for-me"')[1].split("</section>")[0]
    assert "applied: awaiting the decision" in home


def test_a_grant_by_formula_asks_first_and_tells_the_sum(agency: Any, member_of: Any) -> None:  # noqa: F811
    admin, org = agency
    applicant_admin, applicant = firm(member_of, "formula-home", rd=1_200_000, invention=True)
    data = policy_data(grant_basis="ip_invention", grant_rate="5000")
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=data))
    application = application_submit(actor=applicant_admin, policy=policy, organization_id=applicant.pk)
    c = Client()
    c.force_login(admin)
    c.cookies["django_language"] = "en"
    page = c.get(f"/policies/{policy.pk}/").content.decode()
    assert "Grant the sum the formula reckons (" in page and "Left empty: the sum the formula reckons." in page
    done = c.post(f"/applications/{application.pk}/decide/", {"grant": "1", "amount": "", "reason": ""}, follow=True)
    assert "Granted 5,000 yuan to" in done.content.decode()
