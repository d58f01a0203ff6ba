import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agglo.access.models import Membership
from agglo.demo.generator import RegionRef, SegmentRef, generate
from agglo.demo.services import DEMO_PASSWORD, demo_accounts_ensure, demo_cluster_load, reference_refs
from agglo.registry.models import Organization, Position, Relation
from agglo.registry.uscc import is_valid
from tests.factory.conftest import cluster  # noqa: F401 - a fixture

REGIONS = [
    RegionRef("440300", "440000", "深圳市", "Shenzhen"),
    RegionRef("320500", "320000", "苏州市", "Suzhou"),
    RegionRef("110000", "110000", "北京市", "Beijing"),
    RegionRef("DE", "DE", "德国", "Germany", country="DE"),
]
SEGMENTS = [
    SegmentRef("ic-eda", "ic", "upstream"),
    SegmentRef("ic-design", "ic", "midstream"),
    SegmentRef("ic-consumer", "ic", "downstream"),
    SegmentRef("pv-cells", "pv", "midstream"),
]


def test_generator_is_deterministic_and_valid():
    a, b = generate(400, 7, REGIONS, SEGMENTS), generate(400, 7, REGIONS, SEGMENTS)
    assert a == b
    assert generate(400, 8, REGIONS, SEGMENTS) != a
    names = [o.name_zh for o in a.organizations]
    assert len(set(names)) == len(names)
    for org in a.organizations:
        assert (org.uscc is None) == (org.region == "DE")
        assert org.uscc is None or is_valid(org.uscc)
        assert org.uscc is None or org.uscc[2:8] == org.region
    assert all(r.source != r.target for r in a.relations)
    assert {o.kind for o in a.organizations} >= {"tech_sme", "enterprise", "university", "bank"}


def test_generator_refuses_an_empty_cluster():
    with pytest.raises(ValueError):
        generate(0, 1, REGIONS, SEGMENTS)


@pytest.mark.django_db
def test_loader_builds_a_searchable_cluster_and_demo_logins(ref, client):
    counts = demo_cluster_load(n=120, seed=3)
    assert counts["organizations"] == 120 == Organization.objects.filter(status="member").count()
    assert Position.objects.count() == counts["positions"] > 100
    assert Relation.objects.count() > 0
    logins = demo_accounts_ensure()
    expected = {"operator", "gov", "auditor", "sme-admin", "sme-member", "agency-admin"}
    assert {login.username for login in logins} == expected
    # Government's demo: a published subsidy, and the bilingual sample of needs.
    from agglo.policy.models import Policy, PolicyNeed

    subsidy = Policy.objects.get(status="published")
    assert subsidy.issuer.kind == "government" and subsidy.published_at
    assert PolicyNeed.objects.count() == 48 and not PolicyNeed.objects.filter(embedding=None).exists()
    demo_accounts_ensure()  # again: nothing twice
    assert Policy.objects.count() == 1 and PolicyNeed.objects.count() == 48
    for login in logins:
        assert client.login(username=login.username, password=DEMO_PASSWORD), login.username
    any_name = Organization.objects.order_by("id").first().name_zh[:2]
    assert client.get("/api/v1/organizations", {"q": any_name}).json()["count"] >= 1
    regions, segments = reference_refs()
    assert len(segments) >= 50 and any(r.country == "DE" for r in regions)


@pytest.mark.django_db
def test_every_demo_factory_has_an_admin_login_so_any_plan_can_be_answered(ref, client):
    from agglo.demo.factory import demo_factory_load
    from agglo.factory.models import Capability

    demo_cluster_load(n=60, seed=3)
    demo_factory_load(seed=3)
    logins = [login for login in demo_accounts_ensure() if login.role == "factory admin"]
    factories = set(Capability.objects.values_list("organization_id", flat=True))
    assert len(logins) == len(factories) >= 3
    admins = {
        m.organization_id
        for m in Membership.objects.filter(user__username__in=[login.username for login in logins], role="admin")
    }
    assert admins == factories
    assert client.login(username=logins[-1].username, password=DEMO_PASSWORD)


@pytest.mark.django_db
def test_demo_command_checks_its_range(ref):
    with pytest.raises(CommandError, match="--orgs"):
        call_command("demo", "--orgs", "10")


@pytest.mark.django_db
def test_the_demo_is_refused_in_production(make_org, settings):
    # its accounts share the password the README publishes, and --replace deletes every member (review 53 F5)
    real = make_org()
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="AGGLO_PRODUCTION"):
        call_command("demo", "--orgs", "50", "--quiet", "--replace")
    assert Organization.objects.filter(pk=real.pk).exists()


def test_replacing_the_demo_clears_what_protects_its_organizations(make_org):
    """A policy protects its issuer from deletion: `--replace` takes the policies out first."""
    import datetime as dt

    from agglo.demo.policy import SUBSIDY
    from agglo.policy.models import Policy
    from agglo.policy.services import policy_create
    from tests.conftest import user

    agency = make_org(kind="government")
    officer = user("agency-officer")
    Membership.objects.create(user=officer, organization=agency, role=Membership.Role.ADMIN)
    today = dt.date.today()
    data = {**SUBSIDY, "starts_on": today.isoformat(), "ends_on": (today + dt.timedelta(days=30)).isoformat()}
    policy_create(actor=officer, issuer=agency, data=data)
    call_command("demo", "--replace", "--orgs", "50", "--seed", "4", "--quiet")
    assert not Organization.objects.filter(pk=agency.pk).exists()
    assert Organization.objects.count() >= 50 and not Policy.objects.filter(issuer_id=agency.pk).exists()


def test_replacing_the_demo_after_an_order_was_planned(cluster):  # noqa: F811
    """Planned work protects the factories' capabilities: `--replace` takes the orders out first."""
    from agglo.demo.orders import BOARD, HOUSING
    from agglo.factory.models import Allocation
    from tests.factory.test_plan_flow import planned

    order = planned(cluster)
    assert Allocation.objects.exists()
    call_command("demo", "--replace", "--orgs", "50", "--seed", "4", "--quiet")
    assert Organization.objects.count() >= 50 and not Allocation.objects.filter(order_id=order.pk).exists()
    # what is left is the new demo's own orders
    assert set(Allocation.objects.values_list("order__product", flat=True)) <= {HOUSING["product"], BOARD["product"]}


def test_the_demo_market_reads_like_what_firms_write(ref):
    """Each listing is about a catalogue term of the sort its kind names, and its title says which (review 56:
    the synthetic writer's titles read as nonsense)."""
    from agglo.demo.listing_texts import TERM_KINDS
    from agglo.market.models import Listing
    from agglo.profiles.models import CapabilityTerm

    call_command("demo", "--orgs", "120", "--seed", "7", "--quiet")
    terms = {t.code: t for t in CapabilityTerm.objects.all()}
    listings = list(Listing.objects.all())
    assert len(listings) >= 30
    assert sum(1 for x in listings if x.title_zh) >= 0.8 * len(listings)  # mostly written in Chinese
    for x in listings:
        assert x.title_zh or x.title_en
        for code in x.terms:
            term = terms[code]
            assert term.kind in TERM_KINDS[x.kind], (x.kind, term.kind)
            assert term.name_zh in x.title_zh or term.name_en.lower() in x.title_en.lower(), (x.title_zh, x.title_en)
