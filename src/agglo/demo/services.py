"""Loads a generated cluster into the database, and the demo accounts for each role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from agglo.access.models import Membership, PlatformRole
from agglo.demo.factory import demo_factories_all
from agglo.demo.generator import Cluster, RegionRef, SegmentRef, generate
from agglo.registry import search_index
from agglo.registry.kinds import layer_of, size_class_for
from agglo.registry.models import Organization, Position, Region, Relation, Segment
from agglo.registry.services.organizations import codes_field

DEMO_PASSWORD = "agglo-demo-2026"
BATCH = 2000
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    organization: str = ""


def reference_refs() -> tuple[list[RegionRef], list[SegmentRef]]:
    """The shipped regions and segments as plain values for the generator."""
    regions = []
    for r in Region.objects.exclude(level=Region.Level.COUNTRY).order_by("code"):
        regions.append(
            RegionRef(r.code, r.parent_id if r.level == Region.Level.PREFECTURE else r.code, r.name_zh, r.name_en)
        )
    for r in Region.objects.filter(level=Region.Level.COUNTRY).exclude(code="CN").order_by("code"):
        regions.append(RegionRef(r.code, r.code, r.name_zh, r.name_en, country=r.code))
    segments = [
        SegmentRef(s.code, s.chain.code, s.stage) for s in Segment.objects.select_related("chain").order_by("code")
    ]
    return regions, segments


def _noop(stage: str, done: int, total: int) -> None:
    return None


@transaction.atomic
def demo_cluster_load(*, n: int, seed: int, progress: Progress = _noop) -> dict[str, int]:
    """Generate and insert `n` member organizations with positions, relations and an admin person each."""
    regions, segments = reference_refs()
    if not segments:
        raise RuntimeError("Load the reference data first (agglo load_reference).")
    cluster: Cluster = generate(n, seed, regions, segments)
    chain_of = {s.code: s.chain for s in segments}
    all_regions = list(Region.objects.select_related("parent"))
    region_area = {r.code: (r.parent_id if r.level == Region.Level.PREFECTURE else r.code) for r in all_regions}
    places = {r.code: search_index.place_words(r) for r in all_regions}
    now = timezone.now()
    orgs: list[Organization] = []
    for spec in cluster.organizations:
        org = Organization(
            uscc=spec.uscc,
            foreign_registry_id=spec.foreign_registry_id,
            name_zh=spec.name_zh,
            name_en=spec.name_en,
            kind=spec.kind,
            layer=layer_of(spec.kind).value,
            region_id=spec.region,
            area_id=region_area[spec.region],
            founded_year=spec.founded_year,
            headcount=spec.headcount,
            size_class=size_class_for(spec.headcount).value,
            website=spec.website,
            description=spec.description,
            tags=list(spec.tags),
            status=Organization.Status.MEMBER,
            contact_name=spec.contact_name,
            contact_email=spec.contact_email,
            contact_phone=spec.contact_phone,
            joined_at=now,
            chain_codes=codes_field(chain_of[code] for code, _role in spec.positions),
            segment_codes=codes_field(code for code, _role in spec.positions),
        )
        org.search_text = search_index.tokens_for(org, places[spec.region])
        orgs.append(org)
        if len(orgs) % BATCH == 0:
            progress("tokenize", len(orgs), n)
    progress("tokenize", n, n)
    for k in range(0, n, BATCH):
        chunk = orgs[k : k + BATCH]
        Organization.objects.bulk_create(chunk, batch_size=500)  # sets pk (RETURNING on SQLite and PostgreSQL)
        search_index.index_organizations((o.pk, o.search_text) for o in chunk)
        progress("organizations", min(n, k + BATCH), n)
    seg_ids = dict(Segment.objects.values_list("code", "id"))
    positions = [
        Position(organization_id=orgs[spec.index].pk, segment_id=seg_ids[code], role=role)
        for spec in cluster.organizations
        for code, role in spec.positions
    ]
    Position.objects.bulk_create(positions, batch_size=1000)
    progress("positions", len(positions), len(positions))
    relations = [
        Relation(
            source_org_id=orgs[r.source].pk,
            target_org_id=orgs[r.target].pk,
            kind=r.kind,
            started_on=dt.date(r.started_year, 1, 1),
            source=Relation.Source.IMPORTED,
            note="demo",
        )
        for r in cluster.relations
    ]
    Relation.objects.bulk_create(relations, batch_size=1000, ignore_conflicts=True)
    progress("relations", len(relations), len(relations))
    people = _people(orgs, progress)
    return {"organizations": n, "positions": len(positions), "relations": len(relations), "people": people}


@transaction.atomic
def demo_cluster_clear() -> int:
    """Delete every organization (with positions, relations, admissions) and the people who only belonged to them.
    What protects an organization goes first: a policy protects its issuer, planned work a factory's capability."""
    from agglo.factory.models import Order
    from agglo.policy.models import Policy

    User = get_user_model()
    members = set(Membership.objects.values_list("user_id", flat=True))
    Policy.objects.all().delete()
    Order.objects.all().delete()
    deleted, _ = Organization.objects.all().delete()
    search_index.clear()
    User.objects.filter(pk__in=members, is_staff=False, is_superuser=False, platform_roles__isnull=True).delete()
    return deleted


def _people(orgs: list[Organization], progress: Progress) -> int:
    """One admin person per organization (its contact), without a usable password."""
    User = get_user_model()
    taken = set(User.objects.filter(username__in=[o.contact_email for o in orgs]).values_list("username", flat=True))
    users = [
        User(
            username=o.contact_email,
            email=o.contact_email,
            first_name=o.contact_name,
            password="!demo-no-login",
        )
        for o in orgs
        if o.contact_email not in taken
    ]
    User.objects.bulk_create(users, batch_size=1000)
    ids = dict(User.objects.filter(username__in=[u.username for u in users]).values_list("username", "id"))
    Membership.objects.bulk_create(
        [
            Membership(user_id=ids[o.contact_email], organization_id=o.pk, role=Membership.Role.ADMIN, title="联系人")
            for o in orgs
            if o.contact_email in ids
        ],
        batch_size=1000,
    )
    progress("people", len(users), len(users))
    return len(users)


# what each platform role's demo login is for, as `agglo up` lists it
ROLE_SAID = {
    PlatformRole.Role.GOVERNMENT: "government officer: reads members' data and policy needs (agency-admin publishes)",
}


@transaction.atomic
def demo_accounts_ensure(password: str = DEMO_PASSWORD) -> list[DemoLogin]:
    """Accounts to try each role: operator, government officer, auditor, org admin, org member."""
    User = get_user_model()
    hashed = make_password(password)
    logins: list[DemoLogin] = []

    def account(username: str, first_name: str, staff: bool = False) -> object:
        user, _ = User.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "email": f"{username}@demo.agglo"}
        )
        user.password, user.is_staff = hashed, staff or user.is_staff
        user.save(update_fields=["password", "is_staff"])
        return user

    for username, role, label, staff in (
        ("operator", PlatformRole.Role.OPERATOR, "平台运营", True),
        ("gov", PlatformRole.Role.GOVERNMENT, "政府官员", False),
        ("auditor", PlatformRole.Role.AUDITOR, "审计员", False),
    ):
        user = account(username, label, staff)
        PlatformRole.objects.get_or_create(user=user, role=role)
        logins.append(DemoLogin(username, password, ROLE_SAID.get(role, role)))
    operator = User.objects.get(username="operator")
    if not operator.is_superuser:
        operator.is_superuser = True
        operator.save(update_fields=["is_superuser"])
    firm = (
        Organization.objects.filter(status=Organization.Status.MEMBER, kind="tech_sme", region__country_code="CN")
        .order_by("id")
        .first()
    )
    if firm is not None:
        for username, role in (("sme-admin", Membership.Role.ADMIN), ("sme-member", Membership.Role.MEMBER)):
            user = account(username, firm.contact_name if role == Membership.Role.ADMIN else "员工")
            Membership.objects.get_or_create(user=user, organization=firm, defaults={"role": role})
            logins.append(DemoLogin(username, password, f"org {role}", firm.name_zh))
    # Every demo factory gets a login, so that whichever factories a demo order's plan picks can answer it:
    # the first two lie in different provinces, the rest follow in the order the directory lists them.
    for n, (factory, processes) in enumerate(demo_factories_all(), start=1):
        user = account(f"factory{n}-admin", factory.contact_name or "厂长")
        Membership.objects.get_or_create(user=user, organization=factory, defaults={"role": Membership.Role.ADMIN})
        logins.append(DemoLogin(f"factory{n}-admin", password, "factory admin", f"{factory.name_zh} ({processes})"))
    sme, factory1 = (
        User.objects.filter(username="sme-admin").first(),
        User.objects.filter(username="factory1-admin").first(),
    )
    if sme is not None and factory1 is not None:
        from agglo.demo.ledger import demo_agreement_ensure

        demo_agreement_ensure(sme, factory1)
    from agglo.demo.policy import demo_agency, demo_needs_ensure, demo_policy_ensure

    held = Membership.objects.filter(user__username="agency-admin").select_related("organization").first()
    agency = held.organization if held is not None else demo_agency(near=firm)
    if agency is not None:
        user = account("agency-admin", "科技局管理员")
        Membership.objects.get_or_create(user=user, organization=agency, defaults={"role": Membership.Role.ADMIN})
        logins.append(DemoLogin("agency-admin", password, "government agency admin", agency.name_zh))
        demo_policy_ensure(user, agency)
        demo_needs_ensure()
    if sme is not None and factory1 is not None:
        from agglo.demo.orders import demo_orders_ensure

        # last: the orders' planning turns are held until this transaction ends, and an organization's row locked
        # after them (the agency's, as its policy is published) would be taken in the reverse of the order a change
        # of standing takes them in, the row and then the turns (`demo_orders_ensure`)
        demo_orders_ensure(sme)
    return logins
