"""Who stands where on the published policies: one policy against every member (on publication, and daily),
or every policy against the members whose data just changed.

Only the eligible members and the near misses are stored, each with its clauses explained; everyone else can see
their own standing on the policy page, evaluated live.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.common.notify import notify
from agglo.policy.facts import FACTS
from agglo.policy.models import Policy, PolicyMatch
from agglo.policy.rules import Rule, parse
from agglo.policy.selectors.facts import facts_for
from agglo.registry.models import Organization

# A near miss lacks exactly this many clauses: close enough to be told what is missing.
NEAR_MISS = 1
CHUNK = 2000


@lru_cache(maxsize=4096)
def compiled(text: str) -> Rule:
    """A stored rule, parsed once per process (rules are checked when saved, and a Rule is immutable)."""
    return parse(text, FACTS)


def _members() -> Any:
    return Organization.objects.filter(status=Organization.Status.MEMBER).exclude(kind="government")


def _in_scope(policy: Policy) -> Any:
    members = _members()
    if policy.region_scope:
        members = members.filter(Q(region_id__in=policy.region_scope) | Q(area_id__in=policy.region_scope))
    return members


def _row(policy_id: int, org_id: int, rule: Rule, facts: Mapping[str, Any]) -> PolicyMatch | None:
    """The match worth storing (eligible, or one clause short), explained; None for anyone further off."""
    eligible, missing = rule.screen(facts)
    if not eligible and missing > NEAR_MISS:
        return None
    return PolicyMatch(
        policy_id=policy_id,
        organization_id=org_id,
        eligible=eligible,
        missing=missing,
        clauses=rule.evaluate(facts).rows(),
    )


def policy_match(policy: Policy, *, tell: bool = False) -> tuple[int, int]:
    """Evaluate the policy for every member in scope and store the eligible ones and the near misses, explained.

    Returns (eligible, near misses)."""
    rule = compiled(policy.rule)
    rows = [
        row
        for org_id, org_facts in facts_for(_in_scope(policy)).items()
        if (row := _row(policy.pk, org_id, rule, org_facts)) is not None
    ]
    with transaction.atomic():
        before = _standing(PolicyMatch.objects.filter(policy=policy))
        PolicyMatch.objects.filter(policy=policy).delete()
        PolicyMatch.objects.bulk_create(rows, batch_size=CHUNK)
    if tell:
        _tell_changes(before, rows, {policy.pk: policy})
    return sum(r.eligible for r in rows), sum(not r.eligible for r in rows)


@dataclass(frozen=True)
class Live:
    """A published, running policy as matching needs it."""

    pk: int
    scope: frozenset[str]
    rule: Rule

    def covers(self, facts: Mapping[str, Any]) -> bool:
        return not self.scope or facts.get("region") in self.scope or facts.get("province") in self.scope


def live_policies(today: dt.date | None = None) -> list[Live]:
    """Every published policy that has not ended, its rule parsed (once per process per rule text)."""
    today = today or timezone.localdate()
    rows = (
        Policy.objects.filter(status=Policy.Status.PUBLISHED)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .values_list("pk", "region_scope", "rule")
    )
    return [Live(pk, frozenset(scope or ()), compiled(rule)) for pk, scope, rule in rows]


def organizations_rematch(organization_ids: Iterable[int], *, tell: bool = True) -> tuple[int, int]:
    """Re-evaluate every live policy for these organizations after their data changed; tell the newly eligible
    and the new near misses. Returns (eligible, near misses) over all of them."""
    ids = sorted(set(organization_ids))
    policies = live_policies()
    eligible = near = 0
    if not policies:
        return eligible, near
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        members = set(_members().filter(pk__in=chunk).values_list("pk", flat=True))
        facts = facts_for(members) if members else {}
        rows = [
            row
            for org_id, org_facts in facts.items()
            for p in policies
            if p.covers(org_facts) and (row := _row(p.pk, org_id, p.rule, org_facts)) is not None
        ]
        stale = PolicyMatch.objects.filter(organization_id__in=chunk, policy__status=Policy.Status.PUBLISHED)
        with transaction.atomic():
            before = _standing(stale)
            stale.delete()
            PolicyMatch.objects.bulk_create(rows, batch_size=CHUNK)
        if tell:
            titles = Policy.objects.in_bulk({r.policy_id for r in rows})
            _tell_changes(before, rows, titles)
        eligible += sum(r.eligible for r in rows)
        near += sum(not r.eligible for r in rows)
    return eligible, near


def _standing(matches: Any) -> dict[tuple[int, int], bool]:
    """(policy, organization) → eligible, for the stored matches."""
    return {(p, o): e for p, o, e in matches.values_list("policy_id", "organization_id", "eligible")}


def _tell_changes(before: Mapping[tuple[int, int], bool], rows: list[PolicyMatch], policies: Mapping[int, Any]) -> None:
    """Notify the newly eligible, and the near misses who were not near before; nobody twice for the same news."""
    news: dict[tuple[int, bool], list[int]] = defaultdict(list)
    for row in rows:
        was = before.get((row.policy_id, row.organization_id))
        if row.eligible and was is not True or not row.eligible and was is None:
            news[(row.policy_id, row.eligible)].append(row.organization_id)
    for (policy_id, now_eligible), orgs in sorted(news.items()):
        policy = policies.get(policy_id)
        if policy is not None:
            _tell(policy, orgs, now_eligible)


def _tell(policy: Policy, orgs: list[int], eligible: bool) -> None:
    from agglo.access.models import Membership

    text = (
        _("You are eligible for the policy “%(title)s”.")
        if eligible
        else _("You nearly qualify for the policy “%(title)s”: see what is missing.")
    )
    admins = [m.user for m in Membership.objects.filter(organization_id__in=orgs, role="admin").select_related("user")]
    if admins:
        notify(admins, verb="policy.match", text=text % {"title": policy.title}, link=f"/policies/{policy.pk}/")
