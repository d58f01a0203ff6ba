"""Government for the demo: an agency admin, a published R&D subsidy matched against the members, and the
bilingual sample of policy needs (policy/data/needs.json) filed by demo firms over the last months."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

from django.utils import timezone

from agglo.policy import needs as policy_needs
from agglo.policy.models import Policy, PolicyNeed
from agglo.policy.services import policy_create, policy_publish
from agglo.registry.models import Organization

SAMPLE = Path(policy_needs.__file__).with_name("data") / "needs.json"
SUBSIDY = {
    "kind": "subsidy",
    "title_zh": "科技型中小企业研发投入后补助",
    "title_en": "R&D expense subsidy for technology-based SMEs",
    "summary_zh": (
        "对研发投入强度不低于 5% 且拥有发明专利或多项知识产权的科技型中小企业，按研发费用的 10% 给予补助，"
        "每家最高 50 万元。"
    ),
    "summary_en": (
        "10 % of R&D expenses, at most 500,000 yuan a firm, for tech SMEs spending at least 5 % of revenue on R&D "
        "and holding patents."
    ),
    # as its title says: tech SMEs (registered in China), not any enterprise
    "rule": "tech_sme and headcount <= 500 and rd_intensity >= 5% and (ip_invention >= 1 or ip_total >= 5)",
    "budget": "20000000",
    # the summary's 10 % of R&D expenses, reckoned by the platform for each grant, at most 500,000 yuan a firm
    "grant_basis": "rd_expense",
    "grant_rate": "10",
    "grant_cap": "500000",
}


def demo_agency(near: Organization | None = None) -> Organization | None:
    """A government member, in `near`'s province where there is one (the demo SME's, so that its admin sees the
    subsidy as a firm in scope would)."""
    agencies = Organization.objects.filter(status=Organization.Status.MEMBER, kind="government").order_by("id")
    if near is not None and (same := agencies.filter(area_id=near.area_id).first()) is not None:
        return same
    return agencies.first()


def demo_policy_ensure(agency_admin: Any, agency: Organization | None) -> Policy | None:
    """Through the real services, once: the subsidy drafted and published for the agency's province (members
    matched and told)."""
    if agency is None:
        return None
    existing = Policy.objects.filter(issuer=agency, title_zh=SUBSIDY["title_zh"]).first()
    if existing is not None:
        return existing
    today = timezone.localdate()
    data = {
        **SUBSIDY,
        "starts_on": today.isoformat(),
        "ends_on": (today + dt.timedelta(days=365)).isoformat(),
        # an agency pays firms in its own area, not the country's (policy review 58 H5)
        "region_scope": [agency.area_id or agency.region_id],
    }
    policy = policy_create(actor=agency_admin, issuer=agency, data=data)
    return policy_publish(actor=agency_admin, policy=policy)


def demo_needs_ensure(seed: int = 42) -> int:
    """The sample needs, filed by demo tech SMEs over the last six months (once)."""
    if PolicyNeed.objects.exists():
        return 0
    firms = list(Organization.objects.filter(status=Organization.Status.MEMBER, kind="tech_sme").order_by("id")[:200])
    if not firms:
        return 0
    rng = random.Random(seed)
    rows = json.loads(SAMPLE.read_text(encoding="utf-8"))
    vectors = policy_needs.encoder().encode([text for _topic, _theme, text in rows])
    now = timezone.now()
    created = []
    for (topic, _theme, text), vector in zip(rows, vectors, strict=True):
        firm = rng.choice(firms)
        need = PolicyNeed.objects.create(
            organization=firm, topic=topic, area_id=firm.area_id, text=text, embedding=vector.tobytes()
        )
        created.append((need.pk, now - dt.timedelta(days=rng.randrange(0, 180))))
    for pk, when in created:
        PolicyNeed.objects.filter(pk=pk).update(created_at=when)
    return len(created)
