"""Random but realistic lives of needs and offers, driven through the real services by a Hypothesis state machine:
four members publish listings (public, to members, to partners; anonymous or not; open to some regions only),
the operators review them where the platform says so, others answer them through what they can see, the owners
move, accept and decline the answers, renew, change and close their listings, and listings expire. After every
step the invariants the services' docstrings and `lifecycle.py` claim are checked.

The platform's clock is pinned and moved by the machine, as in tests/factory/test_lifecycle_machine.py. Each
example runs in a savepoint that is rolled back at its end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
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

from agglo.access.models import Membership
from agglo.common.errors import DomainError, Forbidden, NotFound
from agglo.common.models import AuditEvent, Notification
from agglo.ledger.models import LogEntry
from agglo.market import lifecycle, selectors, services
from agglo.market.lifecycle import DECIDED, TRANSITIONS, InterestStatus, Status
from agglo.market.models import Interest, Listing
from agglo.market.services.listings import MAX_RENEW_DAYS
from tests.conftest import make_uscc, user

pytestmark = [pytest.mark.long, pytest.mark.django_db]

START = dt.datetime(2026, 3, 3, 9, 0)
# name: (region, province); four members in three provinces
ORGS = {"a": ("440300", "440000"), "b": ("320500", "320000"), "c": ("440100", "440000"), "d": ("510100", "510000")}
FIRMS = tuple(ORGS)
# every (from, to) a listing's status may take, by `lifecycle.TRANSITIONS`
MOVES = {(before, target) for allowed, target in TRANSITIONS.values() for before in allowed}


class Clock:
    def __init__(self) -> None:
        self.at = timezone.make_aware(START)
        self.ticks = 0

    def now(self) -> dt.datetime:
        self.ticks += 1
        return self.at + dt.timedelta(microseconds=self.ticks)


def build_members(make_org: Callable[..., Any], operator: Any) -> dict[str, Any]:
    """Four members, each with an admin; the first also with a plain member, who may not manage its listings."""
    orgs, people = {}, {}
    for i, (name, (region, _province)) in enumerate(ORGS.items()):
        orgs[name] = make_org(
            region=region,
            uscc=make_uscc(region, f"MA7M0000{'ABCDEFGH'[i]}"),
            name_zh=f"{name}市场机有限公司",
            name_en=f"{name} Market Machine Co., Ltd.",
        )
        people[name] = user(f"mm-{name}")
        Membership.objects.create(user=people[name], organization=orgs[name], role=Membership.Role.ADMIN)
    people["staff"] = user("mm-staff")
    Membership.objects.create(user=people["staff"], organization=orgs["a"], role=Membership.Role.MEMBER)
    return {"orgs": orgs, "people": people, "operator": operator}


def snapshot() -> tuple[Any, ...]:
    """Everything a market service may write: a refused call must leave all of it as it was."""
    return (
        list(Listing.objects.order_by("pk").values_list()),
        list(Interest.objects.order_by("pk").values_list()),
        AuditEvent.objects.count(),
        Notification.objects.count(),
        LogEntry.objects.count(),
    )


class MarketLife(RuleBasedStateMachine):
    world: dict[str, Any]
    clock: Clock

    def __init__(self) -> None:
        super().__init__()
        self.clock.at = timezone.make_aware(START)
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._review: Any = None
        self.people = self.world["people"]
        self.orgs = self.world["orgs"]
        self.name_of = {o.pk: n for n, o in self.orgs.items()}
        self.status_seen: dict[int, str] = {}
        self.decided: dict[int, tuple[Any, ...]] = {}
        self.turn = 0

    def teardown(self) -> None:
        if self._review is not None:
            self._review.disable()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def call(self, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
        before = snapshot()
        try:
            return fn(**kwargs)
        except DomainError as exc:
            assert snapshot() == before, f"{fn.__name__} refused ({exc!r}) but changed the database"
            return exc

    def pick(self, qs: Any, i: int) -> Any:
        rows = list(qs.order_by("pk"))
        return rows[i % len(rows)] if rows else None

    def owner(self, listing: Listing, who: int) -> Any:
        """0: the owner's admin; 1: another member's admin; 2: the owner's plain member (or another admin);
        3: an operator."""
        name = self.name_of[listing.organization_id]
        other = FIRMS[(FIRMS.index(name) + 1) % len(FIRMS)]
        staff = self.people["staff"] if name == "a" else self.people[other]
        return [self.people[name], self.people[other], staff, self.world["operator"]][who]

    # ------------------------------------------------------------------ listings

    @initialize(
        review=st.booleans(),
        visibility=st.lists(st.sampled_from(["public", "members", "partners"]), min_size=3, max_size=3),
        anonymous=st.lists(st.booleans(), min_size=3, max_size=3),
    )
    def platform(self, review: bool, visibility: list[str], anonymous: list[bool]) -> None:
        """Whether the operators review listings before they are published (`AGGLO_MARKET_REVIEW`); and three
        listings published to start from, by the first three members (each run has something to answer)."""
        self._review = override_settings(AGGLO_MARKET_REVIEW=review)
        self._review.enable()
        for firm, shown, hidden in zip(FIRMS, visibility, anonymous, strict=False):
            self.create(firm, "need", shown, hidden, ("anywhere", []), None, True, False)
            listing = Listing.objects.order_by("pk").last()
            if listing.status == Status.REVIEW:
                services.listing_review(actor=self.world["operator"], listing=listing, approve=True)

    @precondition(lambda self: Listing.objects.count() < 8)
    @rule(
        firm=st.sampled_from(FIRMS),
        side=st.sampled_from(["need", "offer"]),
        visibility=st.sampled_from(["public", "members", "partners", "partners"]),
        anonymous=st.booleans(),
        regions=st.sampled_from([("anywhere", []), ("only", ["440000"]), ("exclude", ["440000"])]),
        deadline=st.sampled_from([None, 5, 40]),
        submit=st.booleans(),
        stranger=st.integers(0, 6).map(lambda n: n == 0),
    )
    def create(
        self,
        firm: str,
        side: str,
        visibility: str,
        anonymous: bool,
        regions: tuple[str, list[str]],
        deadline: int | None,
        submit: bool,
        stranger: bool,
    ) -> None:
        other = FIRMS[(FIRMS.index(firm) + 1) % len(FIRMS)]
        actor = self.people[("staff" if firm == "a" else other) if stranger else firm]
        data = {
            "side": side,
            "kind": "technology",
            "title_zh": f"{firm}的{side}",
            "description_zh": "寻求碳化硅器件可靠性测试合作。",
            "visibility": visibility,
            "anonymous": anonymous,
            "region_rule": regions[0],
            "regions": regions[1],
            "deadline": None if deadline is None else (timezone.localdate() + dt.timedelta(days=deadline)).isoformat(),
        }
        listing = self.call(services.listing_create, actor=actor, organization=self.orgs[firm], data=data)
        if stranger:
            assert isinstance(listing, Forbidden), listing
            return
        assert isinstance(listing, Listing), listing
        if submit:
            self.call(services.listing_submit, actor=actor, listing=listing)

    @rule(i=st.integers(0, 10), who=st.sampled_from([0, 0, 0, 1, 2, 3]))
    def submit(self, i: int, who: int) -> None:
        listing = self.pick(Listing.objects.all(), i)
        if listing is not None:
            result = self.call(services.listing_submit, actor=self.owner(listing, who), listing=listing)
            if who in (1, 2):
                assert isinstance(result, Forbidden), result

    @rule(i=st.integers(0, 10), approve=st.booleans(), note=st.sampled_from(["", "请补充说明"]), who=st.booleans())
    def review(self, i: int, approve: bool, note: str, who: bool) -> None:
        listing = self.pick(Listing.objects.all(), i)
        if listing is not None:
            actor = self.world["operator"] if who else self.owner(listing, 0)
            result = self.call(services.listing_review, actor=actor, listing=listing, approve=approve, note=note)
            if not who:
                assert isinstance(result, Forbidden), result

    @rule(
        i=st.integers(0, 10),
        who=st.sampled_from([0, 0, 0, 1, 2]),
        field=st.sampled_from(["visibility", "anonymous", "deadline", "title_zh", "regions"]),
        value=st.integers(0, 5),
    )
    def change(self, i: int, who: int, field: str, value: int) -> None:
        listing = self.pick(Listing.objects.all(), i)
        if listing is None:
            return
        data = {
            "visibility": {"visibility": ["public", "members", "partners"][value % 3]},
            "anonymous": {"anonymous": bool(value % 2)},
            "deadline": {"deadline": (timezone.localdate() + dt.timedelta(days=value * 10 - 5)).isoformat()},
            "title_zh": {"title_zh": f"改名{value}"},
            "regions": {
                "region_rule": ["only", "exclude", "anywhere"][value % 3],
                "regions": [[], ["320000"]][value % 3 < 2],
            },
        }[field]
        result = self.call(services.listing_update, actor=self.owner(listing, who), listing=listing, data=data)
        if who in (1, 2):
            assert isinstance(result, Forbidden), result

    @rule(i=st.integers(0, 10), who=st.sampled_from([0, 0, 0, 1, 2]), days=st.sampled_from([None, 30, 400]))
    def renew(self, i: int, who: int, days: int | None) -> None:
        listing = self.pick(Listing.objects.all(), i)
        if listing is None:
            return
        result = self.call(services.listing_renew, actor=self.owner(listing, who), listing=listing, days=days)
        if who in (1, 2):
            assert isinstance(result, Forbidden), result
        if isinstance(result, Listing):
            assert (days or 90) <= MAX_RENEW_DAYS
            assert (
                result.status == Status.PUBLISHED
                and result.expires_on >= timezone.localdate()
                or (result.deadline is not None and result.expires_on == result.deadline)
            ), result

    @rule(
        i=st.integers(0, 10),
        who=st.sampled_from([0, 0, 0, 1, 2]),
        outcome=st.sampled_from(["fulfilled", "no_match", "withdrawn", "won"]),
        really=st.integers(0, 2).map(lambda n: n == 0),
    )
    def close(self, i: int, who: int, outcome: str, really: bool) -> None:
        listing = self.pick(Listing.objects.all(), i)
        if listing is None or not really:
            return
        waiting = set(listing.interests.exclude(status__in=DECIDED).values_list("pk", flat=True))
        result = self.call(
            services.listing_close, actor=self.owner(listing, who), listing=listing, outcome=outcome, note="结束"
        )
        if who in (1, 2):
            assert isinstance(result, Forbidden), result
        if isinstance(result, Listing):
            # the answers still open were declined, their senders told
            lapsed = Interest.objects.filter(pk__in=waiting)
            assert all(x.status == InterestStatus.DECLINED for x in lapsed), lapsed

    @precondition(lambda self: self.clock.at < timezone.make_aware(START) + dt.timedelta(days=400))
    @rule(days=st.sampled_from([1, 10, 40, 100]))
    def time_passes(self, days: int) -> None:
        self.clock.at += dt.timedelta(days=days)
        services.listings_expire()
        assert services.listings_expire() == 0, "listings expired twice"
        late = Listing.objects.filter(status=Status.PUBLISHED, expires_on__lt=timezone.localdate())
        assert not late.exists(), "published listings past their expiry after the daily job"

    # ------------------------------------------------------------------ answers

    @rule(
        i=st.integers(0, 10),
        firm=st.sampled_from(FIRMS),
        cooperation=st.sampled_from(["joint_rnd", "supply", "juggling"]),
        message=st.sampled_from(["我们有相关测试能力。", "我们有相关测试能力。", ""]),
        staff=st.integers(0, 5).map(lambda n: n == 0),
    )
    def express(self, i: int, firm: str, cooperation: str, message: str, staff: bool) -> None:
        """A member answers a listing it finds (mostly a published one): the page or the API reads it through
        `listing_get` first."""
        listing = self.pick(Listing.objects.filter(status=Status.PUBLISHED) if i % 3 else Listing.objects.all(), i)
        if listing is None:
            return
        actor = self.people["staff"] if staff else self.people[firm]
        org = self.orgs["a" if staff else firm]
        try:
            seen = selectors.listing_get(actor=actor, pk=listing.pk)
        except NotFound:
            assert not self.may_see(org.pk, listing), f"{firm} may see listing {listing.pk} but was refused"
            return
        data = {"organization": org.pk, "cooperation": cooperation, "message": message}
        result = self.call(services.interest_express, actor=actor, listing=seen, data=data)
        if isinstance(result, Interest):
            listing.refresh_from_db()
            assert listing.status == Status.PUBLISHED and org.pk != listing.organization_id, listing
            assert lifecycle.region_allows(listing.region_rule, frozenset(listing.regions), org.area_id)

    @rule(
        i=st.integers(0, 20),
        action=st.sampled_from(["contacted", "evaluated", "accept", "decline", "decline", "case", "new"]),
        reason=st.sampled_from(["", "暂不需要"]),
        who=st.sampled_from([0, 0, 0, 0, 1, 2, 3]),
        anything=st.integers(0, 3).map(lambda n: n == 0),
    )
    def handle(self, i: int, action: str, reason: str, who: int, anything: bool) -> None:
        """The owner moves an answer along its board, accepts or declines it, or starts a case from it."""
        qs = Interest.objects.all() if anything else Interest.objects.exclude(status__in=DECIDED)
        interest = self.pick(qs.select_related("listing"), i)
        if interest is None:
            return
        actor = self.owner(interest.listing, who)
        was = interest.status  # the services read the answer again in place
        if action == "accept":
            result = self.call(services.interest_accept, actor=actor, interest=interest)
        elif action == "decline":
            result = self.call(services.interest_decline, actor=actor, interest=interest, reason=reason)
        elif action == "case":
            result = self.call(services.interest_case_draft, actor=actor, interest=interest)
            if not isinstance(result, DomainError):
                assert was == InterestStatus.ACCEPTED, "a case from an answer not accepted"
        else:
            result = self.call(services.interest_advance, actor=actor, interest=interest, status=action)
        if who in (1, 2):
            assert isinstance(result, Forbidden), result
        if isinstance(result, Interest) and action in ("accept", "decline", "contacted", "evaluated"):
            assert was not in DECIDED, f"answer {interest.pk} was {was} and was handled again"

    # ------------------------------------------------------------------ invariants

    def partners(self, org_id: int) -> set[int]:
        """The other sides of its accepted answers (the only partnerships in this world)."""
        accepted = Interest.objects.filter(status=InterestStatus.ACCEPTED)
        out = set(accepted.filter(listing__organization_id=org_id).values_list("organization_id", flat=True))
        return out | set(accepted.filter(organization_id=org_id).values_list("listing__organization_id", flat=True))

    def may_see(self, org_id: int, listing: Listing) -> bool:
        """`selectors.visible` as its docstring says it, for a member's people."""
        if listing.organization_id == org_id:
            return True
        status = listing.status
        if status == Status.PUBLISHED:
            if listing.visibility in ("public", "members"):
                return True
            if listing.organization_id in self.partners(org_id):
                return True
        answers = listing.interests.filter(organization_id=org_id)
        if answers.filter(status=InterestStatus.ACCEPTED).exists() and status in (
            Status.PUBLISHED,
            Status.CLOSED,
            Status.EXPIRED,
        ):
            return True
        return answers.exists() and status in (Status.CLOSED, Status.EXPIRED)

    @invariant()
    def holds(self) -> None:
        self.listings_move_as_the_lifecycle_says()
        self.answers_are_decided_once()
        self.readers_see_what_they_may()

    def listings_move_as_the_lifecycle_says(self) -> None:
        for x in Listing.objects.all():
            was = self.status_seen.get(x.pk, Status.DRAFT)
            assert was == x.status or (was, x.status) in MOVES, f"listing {x.pk}: {was} → {x.status}"
            self.status_seen[x.pk] = x.status
            if x.status in (Status.PUBLISHED, Status.EXPIRED):
                assert x.published_at is not None and x.expires_on is not None, x
                if x.deadline is not None:
                    assert x.expires_on <= x.deadline, (x, x.expires_on, x.deadline)
            if x.status == Status.CLOSED:
                assert x.outcome and x.closed_at is not None, x
                assert not x.interests.exclude(status__in=DECIDED).exists(), f"closed listing {x.pk} has open answers"
            else:
                assert not x.outcome and x.closed_at is None, x

    def answers_are_decided_once(self) -> None:
        accepted = 0
        for a in Interest.objects.select_related("listing"):
            assert a.organization_id != a.listing.organization_id, a
            if a.status in DECIDED:
                assert a.decided_at is not None, a
                row = (a.status, a.decided_at, a.decline_reason)
                assert self.decided.setdefault(a.pk, row) == row, f"decided answer {a.pk} changed"
            else:
                assert a.decided_at is None, a
            accepted += a.status == InterestStatus.ACCEPTED
        # each acceptance is on the log, sealed, with its audit event on both sides
        assert LogEntry.objects.filter(type="market.interest_accepted").count() == accepted
        assert AuditEvent.objects.filter(event="market.interest_accepted").count() == 2 * accepted

    def readers_see_what_they_may(self) -> None:
        """One member a step, in turn: the listings it lists are those it may see; it reads its own answers only,
        and no other owner's board; an anonymous owner is named to it only as `owner_revealed` says."""
        self.turn += 1
        name = FIRMS[self.turn % len(FIRMS)]
        reader, org_id = self.people[name], self.orgs[name].pk
        listed = set(selectors.listing_list(actor=reader).values_list("pk", flat=True))
        for x in Listing.objects.all():
            assert (x.pk in listed) == self.may_see(org_id, x), f"{name} and listing {x.pk} ({x.status})"
            if x.organization_id != org_id:
                with pytest.raises(NotFound):
                    selectors.interest_board(actor=reader, listing=x)
                accepted = x.interests.filter(organization_id=org_id, status=InterestStatus.ACCEPTED).exists()
                assert selectors.owner_revealed(reader, x) == (not x.anonymous or accepted), (name, x.pk)
        for other in FIRMS:
            by_owner = set(
                selectors.listing_list(actor=reader, organization_id=self.orgs[other].pk).values_list("pk", flat=True)
            )
            for pk in by_owner:
                x = Listing.objects.get(pk=pk)
                assert other == name or selectors.owner_revealed(reader, x), f"{name} found {other}'s anonymous {pk}"
        mine = set(Interest.objects.filter(organization_id=org_id).values_list("pk", flat=True))
        assert set(selectors.my_interests(actor=reader).values_list("pk", flat=True)) == mine
        for a in Interest.objects.exclude(listing__organization_id=org_id):
            with pytest.raises(NotFound):
                selectors.interest_get(actor=reader, pk=a.pk)


MarketLife.TestCase.settings = settings(
    max_examples=16,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def machine(make_org: Any, operator: Any, monkeypatch: pytest.MonkeyPatch) -> type[MarketLife]:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock.now)
    MarketLife.clock = clock
    MarketLife.world = build_members(make_org, operator)
    return MarketLife


def test_market_life(machine: type[MarketLife]) -> None:
    run_state_machine_as_test(machine, settings=machine.TestCase.settings)
