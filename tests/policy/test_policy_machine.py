"""Random but realistic lives of government policies, driven through the real services by a Hypothesis state
machine: two agencies draft, change, publish and close policies; four firms apply, change their data (and are
matched again), file needs; the agencies decide, grant to every eligible member (免申即享) and answer needs. After
every step the invariants the services' docstrings, README and docs/architecture.md claim are checked.

The platform's clock (`django.utils.timezone.now`) is pinned to a fixed Tuesday morning and moved forward by the
machine's "time passes" rule. Each example runs in a savepoint that is rolled back at its end; nothing commits, so
the after-commit re-matching of a changed member (`tasks.organizations_rematch_task`) is run by the machine itself.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from agglo.access.models import DailyQuota, Membership
from agglo.common.errors import DomainError, Forbidden, NotFound
from agglo.common.models import AuditEvent, Notification
from agglo.ledger.entries import decode
from agglo.ledger.models import EntryParty, LogEntry
from agglo.policy import needs as needs_module
from agglo.policy.applications import application_decide, application_submit, policy_grant_eligible
from agglo.policy.facts import covers
from agglo.policy.management.commands.policy_match import Command as DailyMatching
from agglo.policy.matching import NEAR_MISS, members, organizations_rematch
from agglo.policy.models import Application, OrganizationFacts, Policy, PolicyMatch, PolicyNeed, rule_of_text
from agglo.policy.needs import need_answer, need_list, need_submit
from agglo.policy.selectors import (
    agency_workspace,
    application_get,
    application_list,
    grants_public,
    match_rows,
    policy_list,
)
from agglo.policy.selectors.facts import facts_for
from agglo.policy.services import policy_close, policy_create, policy_publish, policy_update
from agglo.registry.models import Organization
from agglo.registry.services import organization_update
from tests.conftest import make_uscc, user

pytestmark = [pytest.mark.long, pytest.mark.django_db]

A = Application.Status
P = Policy.Status
START = dt.datetime(2026, 3, 3, 9, 0)  # a Tuesday morning in the platform's zone

# name: (region, kind, founded_year, headcount); two agencies and four firms in three cities of two provinces
ORGS = {
    "ag": ("440300", "government", 2000, 200),
    "ag2": ("320500", "government", 2000, 150),
    "sz1": ("440300", "tech_sme", 2012, 80),
    "sz2": ("440300", "tech_sme", 2020, 300),
    "gz": ("440100", "tech_sme", 2016, 40),
    "su": ("320500", "enterprise", 2010, 150),
}
FIRMS = ("sz1", "sz2", "gz", "su")
AGENCIES = ("ag", "ag2")
RULES = (
    "founded_year <= 2016",
    "headcount <= 100",
    "headcount <= 200 and founded_year <= 2015",
    "founded_year >= 2018 or headcount <= 50",
    'kind in ["tech_sme"] and headcount < 250',
)
SCOPES = ([], ["440300"], ["440000"], ["320500"])
BUDGETS = (None, "100000", "250000")
AMOUNTS = (None, "", "0", "30000", "80000", "120000", "-5", "abc")


class Clock:
    """The platform's clock for the run, moved by the machine, and by a microsecond each time it is read."""

    def __init__(self) -> None:
        self.at = timezone.make_aware(START)
        self.ticks = 0

    def now(self) -> dt.datetime:
        self.ticks += 1
        return self.at + dt.timedelta(microseconds=self.ticks)


def build_world(make_org: Callable[..., Any], operator: Any) -> dict[str, Any]:
    """Two agencies and four firms, each with an admin; the first firm also has a plain (non-admin) member."""
    orgs, people = {}, {}
    for i, (name, (region, kind, founded, headcount)) in enumerate(ORGS.items()):
        orgs[name] = make_org(
            region=region,
            kind=kind,
            founded_year=founded,
            headcount=headcount,
            uscc=make_uscc(region, f"MA7P0000{'ABCDEFGH'[i]}"),
            name_zh=f"{name}政策机有限公司" if kind != "government" else f"{name}科技创新局",
            name_en=f"{name} Policy Machine Co., Ltd.",
        )
        people[name] = user(f"pm-{name}")
        Membership.objects.create(user=people[name], organization=orgs[name], role=Membership.Role.ADMIN)
    people["staff"] = user("pm-staff")
    Membership.objects.create(user=people["staff"], organization=orgs["sz1"], role=Membership.Role.MEMBER)
    return {"orgs": orgs, "people": people, "operator": operator}


def snapshot() -> tuple[Any, ...]:
    """Everything a policy service may write: a refused call must leave all of it as it was."""
    return (
        list(Policy.objects.order_by("pk").values_list()),
        list(Application.objects.order_by("pk").values_list()),
        list(PolicyMatch.objects.order_by("pk").values_list()),
        list(PolicyNeed.objects.order_by("pk").values_list()),
        list(OrganizationFacts.objects.order_by("pk").values_list()),
        list(Organization.objects.order_by("pk").values_list()),
        list(DailyQuota.objects.order_by("pk").values_list()),
        AuditEvent.objects.count(),
        Notification.objects.count(),
        LogEntry.objects.count(),
    )


def expected_matches(policy: Policy, members_facts: dict[int, dict[str, Any]]) -> dict[int, tuple[bool, int]]:
    """What `policy_match` should store for a policy, recomputed from the members' facts today: the eligible and
    the near misses among the members in its regions."""
    rule = rule_of_text(policy.rule)
    out = {}
    for org, facts in members_facts.items():
        if not covers(policy.region_scope or (), facts):
            continue
        eligible, missing, _passed = rule.flags(facts)
        if eligible or missing <= NEAR_MISS:
            out[org] = (eligible, missing)
    return out


class PolicyLife(RuleBasedStateMachine):
    """Policies from draft to close, applications from submission to decision, grants, needs and answers."""

    world: dict[str, Any]
    clock: Clock

    def __init__(self) -> None:
        super().__init__()
        self.clock.at = timezone.make_aware(START)
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.people = self.world["people"]
        self.orgs = self.world["orgs"]
        self.admin_of = {o.pk: self.people[n] for n, o in self.orgs.items()}
        self.status_seen: dict[int, str] = {}  # policy: last status seen
        self.published_at: dict[int, dt.datetime] = {}
        self.decided: dict[int, tuple[Any, ...]] = {}  # application: its decided row, which never changes
        self.closed_matches: dict[int, set[tuple[Any, ...]]] = {}  # closed policy: its matches, frozen
        self.answered_by: dict[int, int] = {}  # need: the agency that answered first
        self.created = 0
        self.turn = 0
        self.rematched: set[int] = set()  # policies matched again in this step (changed, or the daily job)
        self.ended_matches: dict[int, set[tuple[Any, ...]]] = {}  # published policy past its end: its matches
        self.told = 0  # the last notification checked
        self.facts: dict[int, dict[str, Any]] | None = None  # the members' facts, until their data or the date move

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # ------------------------------------------------------------------ helpers

    def call(self, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
        """A service call: refused only with the platform's own errors, and then with nothing changed."""
        before = snapshot()
        try:
            return fn(**kwargs)
        except DomainError as exc:
            assert snapshot() == before, f"{fn.__name__} refused ({exc!r}) but changed the database"
            return exc

    def pick(self, qs: Any, i: int) -> Any:
        rows = list(qs.order_by("pk"))
        return rows[i % len(rows)] if rows else None

    def issuer_admin(self, policy: Policy, who: int) -> Any:
        """0: the issuing agency's admin; 1: the other agency's; 2: a firm's admin; 3: the operator."""
        other = next(n for n in AGENCIES if self.orgs[n].pk != policy.issuer_id)
        return [self.admin_of[policy.issuer_id], self.people[other], self.people["sz1"], self.world["operator"]][who]

    def today(self) -> dt.date:
        return timezone.localdate()

    # ------------------------------------------------------------------ the agencies' policies

    @initialize(
        rule_text=st.sampled_from(RULES),
        scope=st.sampled_from(SCOPES),
        budget=st.sampled_from(BUDGETS),
        auto_budget=st.sampled_from(BUDGETS),
    )
    def running(self, rule_text: str, scope: list[str], budget: str | None, auto_budget: str | None) -> None:
        """Each run starts with two running policies of the first agency: one to apply for, one granted to every
        eligible member without application."""
        for auto, money in ((False, budget), (True, auto_budget)):
            self.draft("ag", False, rule_text, scope, money, auto, -30, 120, True)

    @precondition(lambda self: self.created < 6)
    @rule(
        agency=st.sampled_from(AGENCIES),
        stranger=st.integers(0, 6).map(lambda n: n == 0),
        rule_text=st.sampled_from(RULES),
        scope=st.sampled_from(SCOPES),
        budget=st.sampled_from(BUDGETS),
        auto=st.booleans(),
        starts=st.sampled_from([-30, 0, 3]),
        ends=st.sampled_from([None, 2, 20, 90]),
        publish=st.booleans(),
    )
    def draft(
        self,
        agency: str,
        stranger: bool,
        rule_text: str,
        scope: list[str],
        budget: str | None,
        auto: bool,
        starts: int,
        ends: int | None,
        publish: bool,
    ) -> None:
        actor = self.people["gz" if stranger else agency]
        today = self.today()
        data = {
            "kind": "subsidy",
            "title_zh": f"政策{self.created}",
            "starts_on": (today + dt.timedelta(days=starts)).isoformat(),
            "ends_on": None if ends is None else (today + dt.timedelta(days=max(starts, 0) + ends)).isoformat(),
            "budget": budget,
            "rule": rule_text,
            "region_scope": scope,
            "auto_grant": auto,
        }
        policy = self.call(policy_create, actor=actor, issuer=self.orgs[agency], data=data)
        if stranger:
            assert isinstance(policy, Forbidden), policy
            return
        assert isinstance(policy, Policy), policy
        self.created += 1
        if publish:
            self.call(policy_publish, actor=actor, policy=policy)

    @rule(i=st.integers(0, 10), who=st.sampled_from([0, 0, 0, 1, 2, 3]))
    def publish(self, i: int, who: int) -> None:
        policy = self.pick(Policy.objects.all(), i)
        if policy is None:
            return
        result = self.call(policy_publish, actor=self.issuer_admin(policy, who), policy=policy)
        if who in (1, 2):
            assert isinstance(result, Forbidden), result

    @rule(
        i=st.integers(0, 10),
        who=st.sampled_from([0, 0, 0, 0, 1, 2]),
        field=st.sampled_from(["rule", "budget", "ends_on", "starts_on", "region_scope", "auto_grant"]),
        value=st.integers(0, 20),
    )
    def change(self, i: int, who: int, field: str, value: int) -> None:
        policy = self.pick(Policy.objects.all(), i)
        if policy is None:
            return
        today = self.today()
        data: dict[str, Any] = {
            "rule": {"rule": RULES[value % len(RULES)]},
            "budget": {"budget": (None, "50000", "150000", "400000")[value % 4]},
            "ends_on": {"ends_on": (today + dt.timedelta(days=value - 5)).isoformat()},
            "starts_on": {"starts_on": (today + dt.timedelta(days=value - 15)).isoformat()},
            "region_scope": {"region_scope": SCOPES[value % len(SCOPES)]},
            "auto_grant": {"auto_grant": bool(value % 2)},
        }[field]
        granted = Application.objects.filter(policy=policy, status=A.GRANTED).aggregate(s=Sum("amount"))["s"]
        result = self.call(policy_update, actor=self.issuer_admin(policy, who), policy=policy, data=data)
        if who in (1, 2):
            assert isinstance(result, Forbidden), result
        if isinstance(result, Policy):
            self.rematched.add(policy.pk)
        if isinstance(result, Policy) and field == "budget" and result.budget is not None and granted:
            assert result.budget >= granted, (result.budget, granted)

    @rule(i=st.integers(0, 10), who=st.sampled_from([0, 0, 0, 1, 2]), really=st.integers(0, 2).map(lambda n: n == 0))
    def close(self, i: int, who: int, really: bool) -> None:
        """Now and then (a closing ends a policy's story), and then and again by someone not allowed to."""
        policy = self.pick(Policy.objects.all(), i)
        if policy is None or not really:
            return
        result = self.call(policy_close, actor=self.issuer_admin(policy, who), policy=policy)
        if who in (1, 2):
            assert isinstance(result, Forbidden), result

    # ------------------------------------------------------------------ the members' applications

    @rule(
        i=st.integers(0, 10),
        firm=st.sampled_from(FIRMS),
        how=st.sampled_from(["own", "own", "own", "own", "own", "other", "staff"]),
        anything=st.integers(0, 3).map(lambda n: n == 0),
    )
    def apply(self, i: int, firm: str, how: str, anything: bool) -> None:
        """Mostly to a policy that takes applications; now and then to any."""
        open_ = Policy.objects.filter(status=P.PUBLISHED, auto_grant=False)
        policy = self.pick(Policy.objects.all() if anything else open_, i)
        if policy is None:
            return
        actor = self.people["staff" if how == "staff" else firm]
        org = self.orgs["sz1" if how == "staff" else "su" if how == "other" and firm != "su" else firm]
        if how == "other" and firm == "su":
            org = self.orgs["gz"]
        p = Policy.objects.get(pk=policy.pk)  # the terms in force when the member applies
        result = self.call(application_submit, actor=actor, policy=policy, organization_id=org.pk, note="请审核")
        if how != "own":
            assert isinstance(result, Forbidden), result
            return
        if isinstance(result, Application):
            # taken only where the docs say it may be: published, begun, not ended, in scope, not automatic
            assert p.status == P.PUBLISHED and not p.auto_grant and p.begun and not p.ended, p
            facts = facts_for([org.pk])[org.pk]
            assert covers(p.region_scope or (), facts), (p.region_scope, facts.get("region"))
            assert result.status == A.SUBMITTED and not result.automatic

    @rule(
        i=st.integers(0, 30),
        grant=st.booleans(),
        amount=st.sampled_from(AMOUNTS),
        reason=st.sampled_from(["", "材料不全"]),
        who=st.sampled_from([0, 0, 0, 0, 1, 2, 3]),
        anything=st.integers(0, 4).map(lambda n: n == 0),
    )
    def decide(self, i: int, grant: bool, amount: str | None, reason: str, who: int, anything: bool) -> None:
        qs = Application.objects.all() if anything else Application.objects.filter(status=A.SUBMITTED)
        application = self.pick(qs.select_related("policy"), i)
        if application is None:
            return
        policy = application.policy
        granted = Application.objects.filter(policy=policy, status=A.GRANTED).aggregate(s=Sum("amount"))["s"] or 0
        actor = self.issuer_admin(policy, who)
        if who == 2:
            actor = self.admin_of[application.organization_id]  # the applicant decides its own
        result = self.call(
            application_decide, actor=actor, application=application, grant=grant, reason=reason, amount=amount
        )
        if who in (1, 2):
            assert isinstance(result, Forbidden), result
        if isinstance(result, Application):
            assert application.status == A.SUBMITTED, "a decided application was decided again"
            if grant and policy.budget is not None:
                assert result.amount is not None, "a grant on a budgeted policy names no sum"
                assert granted + result.amount <= policy.budget, (granted, result.amount, policy.budget)

    @rule(i=st.integers(0, 10), amount=st.sampled_from(AMOUNTS), who=st.sampled_from([0, 0, 0, 0, 1, 2]))
    def grant_everyone(self, i: int, amount: str | None, who: int) -> None:
        """免申即享: every eligible member without an application yet receives the benefit (now and then asked of a
        policy that is not one)."""
        policy = self.pick(Policy.objects.all() if i % 4 == 0 else Policy.objects.filter(auto_grant=True), i // 4)
        if policy is None:
            return
        done = set(Application.objects.filter(policy=policy).values_list("organization_id", flat=True))
        due = set(
            PolicyMatch.objects.filter(policy=policy, eligible=True)
            .exclude(organization_id__in=done)
            .values_list("organization_id", flat=True)
        )
        before = set(Application.objects.values_list("pk", flat=True))
        result = self.call(policy_grant_eligible, actor=self.issuer_admin(policy, who), policy=policy, amount=amount)
        if who in (1, 2):
            assert isinstance(result, Forbidden), result
        if isinstance(result, int):
            p = Policy.objects.get(pk=policy.pk)
            assert p.auto_grant and p.status == P.PUBLISHED and p.begun and not p.ended, p
            new = Application.objects.exclude(pk__in=before)
            assert result == len(due) == new.count(), (result, due)
            assert set(new.values_list("organization_id", flat=True)) == due
            for a in new:
                assert a.policy_id == p.pk and a.automatic and a.status == A.GRANTED, a

    # ------------------------------------------------------------------ the members' data and needs

    @rule(firm=st.sampled_from(FIRMS), field=st.sampled_from(["founded_year", "headcount"]), value=st.integers(0, 6))
    def data_changes(self, firm: str, field: str, value: int) -> None:
        """A firm corrects its data; after the commit the platform matches it again against every live policy."""
        number = {"founded_year": 2008 + 2 * value, "headcount": (30, 60, 90, 120, 180, 240, 400)[value]}[field]
        org = Organization.objects.get(pk=self.orgs[firm].pk)
        result = self.call(organization_update, actor=self.people[firm], organization=org, data={field: number})
        if isinstance(result, Organization):
            self.facts = None
            organizations_rematch([org.pk])  # what `tasks.organizations_rematch_task` does after the commit

    @rule(
        firm=st.sampled_from(FIRMS),
        topic=st.sampled_from(["financing", "tax", "tax", "fun"]),
        stranger=st.integers(0, 3).map(lambda n: n == 0),
    )
    def file_need(self, firm: str, topic: str, stranger: bool) -> None:
        org = self.orgs["su" if stranger and firm != "su" else "gz" if stranger else firm]
        text = "研发费用加计扣除流程太复杂，希望简化"
        result = self.call(
            need_submit, actor=self.people[firm], organization_id=org.pk, data={"topic": topic, "text": text}
        )
        if stranger:
            assert isinstance(result, Forbidden), result

    @rule(
        i=st.integers(0, 10),
        who=st.sampled_from(["ag", "ag", "ag2", "sz1", "operator"]),
        link=st.integers(0, 10),
        linked=st.booleans(),
    )
    def answer_need(self, i: int, who: str, link: int, linked: bool) -> None:
        need = self.pick(PolicyNeed.objects.all(), i)
        if need is None:
            return
        policy = self.pick(Policy.objects.all(), link) if linked else None
        actor = self.world["operator"] if who == "operator" else self.people[who]
        result = self.call(
            need_answer, actor=actor, need=need, answer="已出台相关政策。", policy_id=policy.pk if policy else None
        )
        if who in ("sz1", "operator"):
            assert isinstance(result, Forbidden), result
        if isinstance(result, PolicyNeed):
            assert policy is None or Policy.objects.get(pk=policy.pk).status == P.PUBLISHED
            first = self.answered_by.setdefault(need.pk, result.answered_by_id)
            assert result.answered_by_id == first == self.orgs[who].pk, "another agency's answer was replaced"

    @precondition(lambda self: self.clock.at < timezone.make_aware(START) + dt.timedelta(days=200))
    @rule(days=st.sampled_from([1, 4, 25]))
    def time_passes(self, days: int) -> None:
        """The clock moves on, and the daily job re-matches every published policy (`agglo policy_match`)."""
        self.clock.at += dt.timedelta(days=days)
        self.facts = None  # some facts follow the date (years of membership)
        DailyMatching(stdout=StringIO()).handle()  # as `call_command`, without finding the command each time
        self.rematched |= set(Policy.objects.filter(status=P.PUBLISHED).values_list("pk", flat=True))

    # ------------------------------------------------------------------ invariants

    @invariant()
    def holds(self) -> None:
        self.policies_move_forward_only()
        self.applications_are_well_formed_and_decided_once()
        self.grants_stay_within_budgets()
        self.every_grant_is_logged_and_audited()
        self.matches_are_what_the_rule_says()
        self.readers_see_only_what_they_may()
        self.the_workspace_counts_add_up()
        self.nobody_is_told_of_what_they_cannot_get()
        self.rematched.clear()

    def policies_move_forward_only(self) -> None:
        """draft → published → closed, never back; published once (its date stays)."""
        order = [P.DRAFT, P.PUBLISHED, P.CLOSED]
        for p in Policy.objects.all():
            was = self.status_seen.get(p.pk, P.DRAFT)
            assert order.index(p.status) >= order.index(was), f"policy {p.pk}: {was} → {p.status}"
            self.status_seen[p.pk] = p.status
            if p.status != P.DRAFT:
                assert p.published_at is not None, p
                assert self.published_at.setdefault(p.pk, p.published_at) == p.published_at, "published again"
            else:
                assert p.published_at is None and not p.matches.exists() and not p.applications.exists(), p
            if p.ends_on is not None:
                assert p.starts_on <= p.ends_on, p

    def applications_are_well_formed_and_decided_once(self) -> None:
        for a in Application.objects.select_related("policy"):
            if a.status == A.SUBMITTED:
                assert a.decided_at is None and a.amount is None and not a.automatic, a
            elif a.status == A.GRANTED:
                assert a.decided_at is not None, a
            else:
                assert a.decided_at is not None and a.reason and a.amount is None and not a.automatic, a
            if a.automatic:
                assert a.status == A.GRANTED, a
            if a.amount is not None:
                assert a.amount >= 0, a
            row = (a.status, a.amount, a.automatic, a.decided_at, a.reason)
            if a.status != A.SUBMITTED:
                assert self.decided.setdefault(a.pk, row) == row, f"decided application {a.pk} changed"
            assert a.organization_id in {o.pk for n, o in self.orgs.items() if n in FIRMS}, a

    def grants_stay_within_budgets(self) -> None:
        for p in Policy.objects.exclude(budget=None):
            spent = p.applications.filter(status=A.GRANTED).aggregate(s=Sum("amount"))["s"] or 0
            assert spent <= p.budget, f"policy {p.pk} granted {spent} of a budget of {p.budget}"

    def every_grant_is_logged_and_audited(self) -> None:
        """Each grant is one `policy.granted` entry on the transparency log, with the agency and the member as
        parties and the amount granted; each state change has its audit event."""
        logged = Counter()
        for entry in LogEntry.objects.filter(type="policy.granted"):
            payload = decode(bytes(entry.data))["payload"]
            parties = set(EntryParty.objects.filter(entry=entry).values_list("organization_id", flat=True))
            policy = Policy.objects.get(pk=payload["policy"])
            assert parties == {policy.issuer_id, payload["organization"]}, (parties, payload)
            logged[(payload["policy"], payload["organization"], payload["amount"], payload["automatic"])] += 1
        granted = Counter(
            (a.policy_id, a.organization_id, None if a.amount is None else str(a.amount), a.automatic)
            for a in Application.objects.filter(status=A.GRANTED)
        )
        assert logged == granted, f"log {dict(logged)} vs grants {dict(granted)}"
        events = Counter(AuditEvent.objects.filter(event__startswith="policy.").values_list("event", flat=True))
        applications = Application.objects.filter(automatic=False)
        assert events["policy.created"] == Policy.objects.count()
        assert events["policy.published"] == Policy.objects.exclude(status=P.DRAFT).count()
        assert events["policy.closed"] == Policy.objects.filter(status=P.CLOSED).count()
        assert events["policy.applied"] == applications.count()
        assert events["policy.granted"] == applications.filter(status=A.GRANTED).count()
        assert events["policy.rejected"] == applications.filter(status=A.REJECTED).count()
        assert events["policy.need_filed"] == PolicyNeed.objects.count()

    def matches_are_what_the_rule_says(self) -> None:
        """A running published policy's matches are the eligible members and near misses in its regions, by its
        rule in force and the members' data now (changed data are matched again at once); a closed policy is
        matched no more."""
        if self.facts is None:
            self.facts = facts_for(list(members().values_list("pk", flat=True)))
        facts = self.facts
        for p in Policy.objects.exclude(status=P.DRAFT):
            stored = {m.organization_id: (m.eligible, m.missing) for m in p.matches.all()}
            if p.status == P.PUBLISHED and not p.ended:
                assert stored == expected_matches(p, facts), f"policy {p.pk} ({p.rule}, {p.region_scope})"
            matched = p.matches.values_list("organization_id", "eligible", "missing", "clauses")
            rows = {(o, e, m, tuple(c)) for o, e, m, c in matched}
            if p.status == P.CLOSED:
                assert self.closed_matches.setdefault(p.pk, rows) == rows, f"closed policy {p.pk} matched again"
            if p.status == P.PUBLISHED and p.ended:
                # kept for the record: only matching the policy again (its change, the daily job) changes them
                if p.pk in self.rematched:
                    self.ended_matches[p.pk] = rows
                kept = self.ended_matches.setdefault(p.pk, rows)
                assert kept == rows, f"ended policy {p.pk}: matches {sorted(kept)} became {sorted(rows)}"
            else:
                self.ended_matches.pop(p.pk, None)

    def readers_see_only_what_they_may(self) -> None:
        """A member reads its own applications and needs only; drafts are their agency's; matches the agency's.
        One firm and one agency a step, in turn (every reader every step would take most of the run)."""
        self.turn += 1
        name, agency = FIRMS[self.turn % len(FIRMS)], AGENCIES[self.turn % len(AGENCIES)]
        reader, org_id = self.people[name], self.orgs[name].pk
        policies = list(Policy.objects.order_by("pk"))
        if policies:
            p = policies[self.turn % len(policies)]
            everyone = set(p.applications.values_list("pk", flat=True))
            issuer = self.admin_of[p.issuer_id]
            assert set(application_list(actor=issuer, policy=p).values_list("pk", flat=True)) == everyone
        for p in policies:
            own = set(p.applications.filter(organization_id=org_id).values_list("pk", flat=True))
            seen = set(application_list(actor=reader, policy=p).values_list("pk", flat=True))
            assert seen == own, (name, seen, own)
            with pytest.raises(Forbidden):
                match_rows(actor=reader, policy=p)
            granted = set(p.applications.filter(status=A.GRANTED).values_list("pk", flat=True))
            assert {g.pk for g in grants_public(actor=AnonymousUser(), policy=p)} == granted
        for a in Application.objects.exclude(organization_id=org_id):
            with pytest.raises(NotFound):
                application_get(actor=reader, pk=a.pk)
        drafts = set(Policy.objects.filter(status=P.DRAFT).values_list("pk", "issuer_id"))
        for who in (name, agency):
            listed = set(policy_list(actor=self.people[who]).values_list("pk", flat=True))
            for pk, issuer in drafts:
                assert (pk in listed) == (issuer == self.orgs[who].pk), (who, pk)
        own_needs = set(PolicyNeed.objects.filter(organization_id=org_id).values_list("pk", flat=True))
        assert set(need_list(actor=reader).values_list("pk", flat=True)) == own_needs

    def the_workspace_counts_add_up(self) -> None:
        """The agency workspace's counts per policy are what the rows say."""
        counts: Counter[tuple[int, str]] = Counter()
        amounts: defaultdict[int, Decimal] = defaultdict(Decimal)
        for policy_id, status, amount in Application.objects.values_list("policy_id", "status", "amount"):
            counts[policy_id, status] += 1
            if status == A.GRANTED:
                amounts[policy_id] += amount or 0
        for policy_id, eligible in PolicyMatch.objects.values_list("policy_id", "eligible"):
            counts[policy_id, "eligible" if eligible else "near"] += 1
        for block in agency_workspace(actor=self.people[AGENCIES[self.turn % len(AGENCIES)]]):
            for p in block["policies"]:
                said = (p.submitted, p.granted, p.granted_amount, p.eligible, p.near)
                rows = (
                    counts[p.pk, A.SUBMITTED],
                    counts[p.pk, A.GRANTED],
                    amounts[p.pk],
                    counts[p.pk, "eligible"],
                    counts[p.pk, "near"],
                )
                assert said == rows, f"policy {p.pk}: workspace {said}, rows {rows}"

    def nobody_is_told_of_what_they_cannot_get(self) -> None:
        """A member is told it is eligible or nearly so only of a published policy that has not ended."""
        for n in Notification.objects.filter(pk__gt=self.told, verb="policy.match", link__startswith="/policies/"):
            p = Policy.objects.get(pk=int(n.link.strip("/").split("/")[1]))
            assert p.status == P.PUBLISHED and not p.ended, f"told of policy {p.pk} ({p.status}, ended {p.ends_on})"
        self.told = Notification.objects.order_by("pk").values_list("pk", flat=True).last() or 0


# A few seconds per example on two cores. Derandomized, so that CI runs the same sequences every time; the rules
# draw the same values whatever the database holds and a rule with nothing to act on does nothing.
PolicyLife.TestCase.settings = settings(
    max_examples=16,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def machine(make_org: Any, operator: Any, monkeypatch: pytest.MonkeyPatch) -> type[PolicyLife]:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock.now)
    # the need's embedding only helps the dashboard group needs, which embeds what it lacks: not loaded here
    monkeypatch.setattr(needs_module, "_embedded", lambda text: None)
    # the daily matching limit is tested on its own (test_matching_limit.py); here it would end runs early
    limits = {**django_settings.AGGLO_DAILY_LIMITS, DailyQuota.Kind.POLICY_MATCH: 10_000}
    monkeypatch.setattr(django_settings, "AGGLO_DAILY_LIMITS", limits)
    PolicyLife.clock = clock
    PolicyLife.world = build_world(make_org, operator)
    return PolicyLife


def test_policy_life(machine: type[PolicyLife]) -> None:
    run_state_machine_as_test(machine, settings=machine.TestCase.settings)


# ---------------------------------------------------------------------- findings, one plain test each


@pytest.fixture
def world(make_org: Any, operator: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The machine's agencies and firms at its pinned clock."""
    monkeypatch.setattr(timezone, "now", Clock().now)
    return build_world(make_org, operator)


def ended_policy(world: dict[str, Any], rule_text: str) -> Policy:
    """A published policy of the first agency whose last day was yesterday."""
    agency = world["people"]["ag"]
    today = timezone.localdate()
    data = {
        "kind": "subsidy",
        "title_zh": "已结束的补贴",
        "starts_on": (today - dt.timedelta(days=30)).isoformat(),
        "ends_on": (today + dt.timedelta(days=5)).isoformat(),
        "rule": rule_text,
    }
    policy = policy_publish(actor=agency, policy=policy_create(actor=agency, issuer=world["orgs"]["ag"], data=data))
    Policy.objects.filter(pk=policy.pk).update(ends_on=today - dt.timedelta(days=1))
    policy.refresh_from_db()
    assert policy.ended
    return policy


def test_a_members_data_change_keeps_its_match_on_an_ended_policy(world: dict[str, Any]) -> None:
    policy = ended_policy(world, "founded_year <= 2016")
    sz1, admin = world["orgs"]["sz1"], world["people"]["sz1"]
    assert PolicyMatch.objects.filter(policy=policy, organization=sz1, eligible=True).exists()
    told = Notification.objects.filter(user=admin, verb="policy.match").count()
    # a change that has nothing to do with the policy; the re-match after the commit evaluates live policies only
    organization_update(actor=admin, organization=sz1, data={"headcount": 90})
    organizations_rematch([sz1.pk])
    # it dropped the member's match on the ended policy too: the agency's record of who was eligible shrank
    assert PolicyMatch.objects.filter(policy=policy, organization=sz1, eligible=True).exists()
    # and the daily job, finding it eligible "again", told it of a policy it can no longer get
    DailyMatching(stdout=StringIO()).handle()
    assert Notification.objects.filter(user=admin, verb="policy.match").count() == told


def test_the_daily_job_tells_nobody_of_an_ended_policy(world: dict[str, Any]) -> None:
    policy = ended_policy(world, "headcount <= 100 and founded_year >= 2018")
    su, admin = world["orgs"]["su"], world["people"]["su"]  # 150 people, founded 2010: two clauses short
    assert not PolicyMatch.objects.filter(policy=policy, organization=su).exists()
    organization_update(actor=admin, organization=su, data={"headcount": 90, "founded_year": 2019})
    organizations_rematch([su.pk])
    DailyMatching(stdout=StringIO()).handle()
    # matched again for the record, as a change of the policy does (`policy_update`), but not told
    assert PolicyMatch.objects.filter(policy=policy, organization=su, eligible=True).exists()
    assert not Notification.objects.filter(user=admin, verb="policy.match", link=f"/policies/{policy.pk}/").exists()
