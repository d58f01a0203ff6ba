"""Who stands where on the published policies: one policy against every member (on publication, and daily),
or every policy against the members whose data just changed.

Only the eligible members and the near misses are stored, each with whether every clause is met (shown in words
with the member's values: PolicyMatch.explained); everyone else sees their own standing on the policy page,
evaluated live.

A member suspended or withdrawn is matched no more, but keeps its matches as they stood (`AWAY`; readers take
`PolicyMatch.objects.in_good_standing()`): reinstated, it is matched again against them, and told only what is new
since, not again of every policy it was told of before.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy

from agglo.common.bulk import RawJSON, insert_rows
from agglo.common.language import Phrase
from agglo.common.notify import notify
from agglo.policy.facts import FACTS, covers
from agglo.policy.models import OrganizationFacts, Policy, PolicyMatch, rule_of_text
from agglo.policy.rules import MAX_DEPTH, Rule
from agglo.policy.screen_sql import nesting, screen_sql
from agglo.policy.selectors.facts import HEADCOUNT_STATED, Facts, facts_for, kept_row, stored_facts
from agglo.registry.models import Organization
from agglo.registry.models.bilingual import Bilingual

# A near miss lacks exactly this many clauses: close enough to be told what is missing.
NEAR_MISS = 1
CHUNK = 2000
_JSON_BOOL = {True: "true", False: "false"}
# News about more policies than this at once is told as one summary per organization.
SUMMARY_AFTER = 3
# Statuses whose matches are kept as they stood, neither evaluated nor dropped.
AWAY = (Organization.Status.SUSPENDED, Organization.Status.WITHDRAWN)


def _away(matches: Any) -> set[int]:
    """The organizations not in good standing among these matches' (their matches are left as they are)."""
    return set(matches.filter(organization__status__in=AWAY).values_list("organization_id", flat=True))


def members() -> Any:
    """Who policies are for: member organizations other than government agencies."""
    return Organization.objects.filter(status=Organization.Status.MEMBER).exclude(kind="government")


def _in_scope(policy: Policy) -> Any:
    scope = members()
    if policy.region_scope:
        scope = scope.filter(Q(region_id__in=policy.region_scope) | Q(area_id__in=policy.region_scope))
    return scope


class Match(NamedTuple):
    """A match worth storing: eligible, or one clause short."""

    policy_id: int
    organization_id: int
    eligible: bool
    missing: int
    clauses: str  # whether each clause is met, as JSON text (Rule.flags)


def _row(policy_id: int, org_id: int, rule: Rule, facts: Mapping[str, Any], screen: bool = False) -> Match | None:
    """The match worth storing, or None for a firm further off; `screen` first (cheaply) when most firms are."""
    if screen:
        eligible, missing = rule.screen(facts)
        if not eligible and missing > NEAR_MISS:
            return None
    eligible, missing, passed = rule.flags(facts)
    if not eligible and missing > NEAR_MISS:
        return None
    return Match(policy_id, org_id, eligible, missing, RawJSON("[" + ", ".join(_JSON_BOOL[p] for p in passed) + "]"))


def facts_refresh(organizations: Iterable[int] | QuerySet[Organization]) -> Facts:
    """Recompute the kept facts of these organizations from their data; returns them."""
    facts = facts_for(organizations)
    now = timezone.now()
    ids = list(facts)
    columns = ["organization_id", *FACTS, "headcount_stated", "refreshed_at"]
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            OrganizationFacts.objects.filter(organization_id__in=ids[start : start + CHUNK]).delete()
        insert_rows(
            OrganizationFacts,
            columns,
            ([o, *kept_row(facts[o]), bool(facts[o].get(HEADCOUNT_STATED)), now] for o in ids),
        )
    return facts


def _screened(policy: Policy, rule: Rule) -> Facts:
    """The kept facts of the members in scope that the database's screen lets through (see screen_sql); all of
    them for a rule stored under the older nesting limit, deeper than the screen's SQL may go."""
    in_scope = OrganizationFacts.objects.filter(organization_id__in=_in_scope(policy).values("pk"))
    if nesting(rule.tree) > MAX_DEPTH:
        return stored_facts(in_scope, only=rule.facts)
    table = connection.ops.quote_name(OrganizationFacts._meta.db_table)

    def column(name: str) -> str:
        return f"{table}.{connection.ops.quote_name(name)}"

    number: Any = float if connection.vendor == "sqlite" else (lambda d: d)
    least = "MIN" if connection.vendor == "sqlite" else "LEAST"
    eligible, eparams, failed, fparams = screen_sql(rule, column, number, least)
    rows = in_scope.annotate(may_pass=RawSQL(eligible, eparams), surely_failed=RawSQL(failed, fparams)).filter(
        Q(may_pass=1) | Q(surely_failed__lte=NEAR_MISS)
    )
    return stored_facts(rows, only=rule.facts)


def _store(rows: list[Match]) -> None:
    columns = ["policy_id", "organization_id", "eligible", "missing", "clauses", "evaluated_at"]
    now = timezone.now()
    insert_rows(
        PolicyMatch,
        columns,
        ((*row, now) for row in rows),
    )


def policy_match(policy: Policy, *, tell: bool = False) -> tuple[int, int]:
    """Evaluate the policy for every member in scope and store the eligible ones and the near misses, explained.

    Returns (eligible, near misses)."""
    rule = rule_of_text(policy.rule)
    scope = _in_scope(policy)
    unknown = scope.exclude(pk__in=OrganizationFacts.objects.values("organization_id"))
    if unknown.exists():  # members loaded in bulk, past the signals
        facts_refresh(unknown)
    rows = [
        row
        for org_id, org_facts in _screened(policy, rule).items()
        if (row := _row(policy.pk, org_id, rule, org_facts)) is not None
    ]
    with transaction.atomic():
        away = _away(PolicyMatch.objects.filter(policy=policy))
        rows = [r for r in rows if r.organization_id not in away]  # suspended since it was read: left as it was
        stale = PolicyMatch.objects.filter(policy=policy).exclude(organization_id__in=away)
        before = _standing(stale) if tell else {}
        stale.delete()
        _store(rows)
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
        return covers(self.scope, facts)


def running(today: dt.date, prefix: str = "") -> Q:
    """Published and not ended on `today` (`prefix`: the path to the policy, as "policy__")."""
    ended = Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": today})
    return Q(**{f"{prefix}status": Policy.Status.PUBLISHED}) & ended


def live_policies(today: dt.date | None = None) -> list[Live]:
    """Every published policy that has not ended, its rule parsed (once per process per rule text)."""
    rows = Policy.objects.filter(running(today or timezone.localdate())).values_list("pk", "region_scope", "rule")
    return [Live(pk, frozenset(scope or ()), rule_of_text(rule)) for pk, scope, rule in rows]


def organizations_rematch(organization_ids: Iterable[int], *, tell: bool = True) -> tuple[int, int]:
    """Re-evaluate every live policy for these organizations after their data changed; tell the newly eligible
    and the new near misses. Returns (eligible, near misses) over all of them."""
    ids = sorted(set(organization_ids))
    today = timezone.localdate()
    policies = live_policies(today)
    eligible = near = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        facts = facts_refresh(members().filter(pk__in=chunk))
        rows = [
            row
            for org_id, org_facts in facts.items()
            for p in policies
            if p.covers(org_facts) and (row := _row(p.pk, org_id, p.rule, org_facts, screen=True)) is not None
        ]
        # only the live policies' matches, which are evaluated again: an ended policy's stay for the record (the
        # daily job matches it again), not dropped and then told anew as news
        stale = PolicyMatch.objects.filter(running(today, "policy__"), organization_id__in=chunk)
        with transaction.atomic():
            away = _away(stale)
            rows = [r for r in rows if r.organization_id not in away]
            stale = stale.exclude(organization_id__in=away)
            before = _standing(stale)
            stale.delete()
            _store(rows)
        if tell:
            titles = Policy.objects.in_bulk({r.policy_id for r in rows})
            _tell_changes(before, rows, titles)
        eligible += sum(r.eligible for r in rows)
        near += sum(not r.eligible for r in rows)
    return eligible, near


def _standing(matches: Any) -> dict[tuple[int, int], bool]:
    """(policy, organization) → eligible, for the stored matches."""
    return {(p, o): e for p, o, e in matches.values_list("policy_id", "organization_id", "eligible")}


def _tell_changes(before: Mapping[tuple[int, int], bool], rows: list[Match], policies: Mapping[int, Any]) -> None:
    """Notify the newly eligible, and the near misses who were not near before; nobody twice for the same news."""
    news: dict[tuple[int, bool], list[int]] = defaultdict(list)
    for row in rows:
        was = before.get((row.policy_id, row.organization_id))
        if row.eligible and was is not True or not row.eligible and was is None:
            news[(row.policy_id, row.eligible)].append(row.organization_id)
    if len({policy_id for policy_id, _eligible in news}) > SUMMARY_AFTER:
        _tell_summary(news)
        return
    for (policy_id, now_eligible), orgs in sorted(news.items()):
        policy = policies.get(policy_id)
        if policy is not None:
            _tell(policy, orgs, now_eligible)


def _tell_summary(news: Mapping[tuple[int, bool], list[int]]) -> None:
    """One notice per organization when its news concern many policies at once (a changed statement can make a
    firm eligible for dozens): how many, and a link to its list."""
    from agglo.access.models import Membership

    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for (_policy_id, eligible), orgs in news.items():
        for org in orgs:
            counts[org][0 if eligible else 1] += 1
    admins: dict[int, list[Any]] = defaultdict(list)
    for m in Membership.objects.filter(organization_id__in=counts, role="admin").select_related("user"):
        admins[m.organization_id].append(m.user)
    for org, (eligible, near) in sorted(counts.items()):
        if admins[org]:
            text = gettext_lazy(
                "Your data changed: you are now eligible for %(eligible)d policies and nearly qualify for %(near)d."
            )
            notify(
                admins[org],
                verb="policy.match",
                text=Phrase(text, eligible=eligible, near=near),
                link="/#policies-for-me",
            )


def _tell(policy: Policy, orgs: list[int], eligible: bool) -> None:
    from agglo.access.models import Membership

    text = (
        gettext_lazy("You are eligible for the policy “%(title)s”.")
        if eligible
        else gettext_lazy("You nearly qualify for the policy “%(title)s”: see what is missing.")
    )
    admins = [m.user for m in Membership.objects.filter(organization_id__in=orgs, role="admin").select_related("user")]
    if admins:
        notify(
            admins,
            verb="policy.match",
            text=Phrase(text, title=Bilingual(policy.title_zh, policy.title_en)),
            link=f"/policies/{policy.pk}/",
        )
