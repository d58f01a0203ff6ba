"""The demo cluster's shared capacity: about one firm in three runs one to three processes, with costs, grades
and certifications drawn from a seeded generator, so that an order entered on a new platform gets a plan."""

from __future__ import annotations

import random
from decimal import Decimal

from django.db import transaction

from agglo.factory.models import Capability, Process
from agglo.factory.synthetic import PROCESSES
from agglo.registry.models import Organization

CERTS = (("ISO9001", 0.7), ("ISO14001", 0.3), ("IATF16949", 0.15), ("ISO13485", 0.08))


@transaction.atomic
def demo_factory_load(*, seed: int) -> dict[str, int]:
    """Capabilities for a third of the member firms in China; nothing when some already exist."""
    if Capability.objects.exists() or not Process.objects.exists():
        return {"factory capabilities": 0}
    rng = random.Random(seed)
    firms = list(
        Organization.objects.filter(
            status=Organization.Status.MEMBER, kind__in=("tech_sme", "enterprise"), region__country_code="CN"
        ).order_by("pk")
    )
    codes = sorted(PROCESSES)
    rows = []
    for n, org in enumerate(firms):
        # the first firm is the demo buyer (sme-admin); the next ones are always factories, so the demo has some
        if n == 0 or (n > 6 and rng.random() > 0.33):
            continue
        certs = [c for c, p in CERTS if rng.random() < p]
        for process in rng.sample(codes, rng.choice((1, 1, 2, 3))):
            unit = Decimal(PROCESSES[process]) * Decimal(str(round(rng.uniform(0.8, 1.3), 2)))
            rows.append(
                Capability(
                    organization=org,
                    process_id=process,
                    weekly_capacity=rng.randint(20, 80) * 10,
                    unit_cost=unit.quantize(Decimal("0.01")),
                    setup_cost=(unit * rng.randint(40, 120)).quantize(Decimal("0.01")),
                    min_lot=rng.choice((10, 20, 50)),
                    quality_grade=rng.choice((1, 2, 2, 3)),
                    certifications=certs,
                    lead_weeks=rng.choice((0, 0, 0, 1)),
                )
            )
    Capability.objects.bulk_create(rows)
    return {"factory capabilities": len(rows)}


def demo_factories() -> list[Organization]:
    """The first two demo factories in different provinces, whose admins get demo logins."""
    chosen: list[Organization] = []
    provinces: set[str] = set()
    ids = Capability.objects.order_by("organization_id").values_list("organization_id", flat=True).distinct()
    for org in Organization.objects.filter(pk__in=list(ids)[:40]).select_related("area").order_by("pk"):
        province = org.area_id[:2]
        if province not in provinces:
            chosen.append(org)
            provinces.add(province)
        if len(chosen) == 2:
            break
    return chosen


def demo_factories_all() -> list[tuple[Organization, str]]:
    """Every demo factory with the processes it runs: the two of `demo_factories` first, then the others."""
    first = demo_factories()
    runs: dict[int, list[str]] = {}
    for org_id, process in Capability.objects.order_by("organization_id", "process_id").values_list(
        "organization_id", "process_id"
    ):
        runs.setdefault(org_id, []).append(process)
    rest = Organization.objects.filter(pk__in=list(runs)).exclude(pk__in=[o.pk for o in first]).order_by("pk")
    return [(org, ", ".join(runs.get(org.pk, []))) for org in [*first, *rest]]
