"""Professional-database benchmark: bulk import of financial statements and the full profile page.

`import_rows_per_s`: N statement rows from a CSV file through the real import path (parsing, the field rules and
the cross-field rules, natural-key matching, bulk writes and one history event per row), as an operator.
The baseline imports a sample of the same rows one by one through the single-record service (`fact_create`),
measured in the same run and rolled back, so the ratio shows what the bulk path buys.
`profile_p95_ms`: the organization page (overview tab: profile, credit headline, counts, recent changes,
positions, relations, and the access-log write for contacts) requested by a logged-in member of another firm.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from agglo.access.models import Membership
from agglo.bench.registry import check, timed
from agglo.profiles import services
from agglo.profiles.models import FinancialStatement
from agglo.profiles.tabular import write_csv
from agglo.registry.models import Organization

COLUMNS = (
    "uscc",
    "year",
    "revenue",
    "total_assets",
    "total_liabilities",
    "equity",
    "net_profit",
    "operating_cash_flow",
    "rd_expense",
    "headcount",
    "rd_headcount",
)
BASELINE_ROWS = 2000


def statement_rows(n: int, seed: int) -> list[tuple[Any, ...]]:
    """N consistent statement rows for years before the demo's own, over the Chinese members (several years
    per firm when N exceeds the firms)."""
    rng = random.Random(seed)
    this_year = timezone.localdate().year
    firms = list(
        Organization.objects.filter(status="member", uscc__isnull=False)
        .values_list("uscc", "founded_year")
        .order_by("pk")
    )
    rows: list[tuple[Any, ...]] = []
    for back in range(4, 60):
        year = this_year - back
        for code, founded in firms:
            if founded and year < founded:
                continue
            assets = Decimal(rng.randint(5_000_000, 500_000_000))
            liabilities = (assets * Decimal(rng.uniform(0.2, 0.7))).quantize(Decimal("0.01"))
            revenue = (assets * Decimal(rng.uniform(0.5, 1.5))).quantize(Decimal("0.01"))
            headcount = rng.randint(10, 900)
            rows.append(
                (
                    code,
                    year,
                    revenue,
                    assets,
                    liabilities,
                    assets - liabilities,
                    (revenue * Decimal("0.08")).quantize(Decimal("0.01")),
                    (revenue * Decimal("0.1")).quantize(Decimal("0.01")),
                    (revenue * Decimal("0.06")).quantize(Decimal("0.01")),
                    headcount,
                    headcount // 3,
                )
            )
            if len(rows) == n:
                return rows
    raise RuntimeError(f"only {len(rows)} statement rows fit the cluster; build a larger one")


def _operator() -> Any:
    from agglo.access.models import PlatformRole

    user, _ = get_user_model().objects.get_or_create(username="bench-operator")
    PlatformRole.objects.get_or_create(user=user, role=PlatformRole.Role.OPERATOR)
    return user


def _per_row_baseline(operator: Any, rows: list[tuple[Any, ...]]) -> float:
    """Rows per second through fact_create, one transaction per row as a form or API call would; rolled back."""
    orgs = dict(Organization.objects.filter(uscc__in={r[0] for r in rows}).values_list("uscc", "pk"))
    by_pk = Organization.objects.in_bulk(list(orgs.values()))
    start = time.perf_counter()
    with transaction.atomic():
        for row in rows:
            data = dict(zip(COLUMNS[1:], row[1:], strict=True))
            services.fact_create(actor=operator, organization=by_pk[orgs[row[0]]], kind="financials", data=data)
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return len(rows) / elapsed


def run(size: int, requests: int, seed: int, err: Any) -> dict[str, Any]:
    operator = _operator()
    rows = statement_rows(size, seed)
    body = write_csv(COLUMNS, rows)
    err.print(f"baseline: {BASELINE_ROWS} rows one by one through fact_create")
    baseline_rate = _per_row_baseline(operator, rows[:BASELINE_ROWS])
    err.print(f"dry run of {len(rows):,} rows")
    start = time.perf_counter()
    checked = services.import_file(actor=operator, kind="financials", body=body, filename="bench.csv", dry_run=True)
    dry_s = time.perf_counter() - start
    if checked.errors:
        raise RuntimeError(f"the benchmark file has bad rows: {checked.errors[:3]}")
    before = FinancialStatement.objects.count()
    err.print(f"import of {len(rows):,} rows")
    with err.status("importing"):
        start = time.perf_counter()
        result = services.import_file(actor=operator, kind="financials", body=body, filename="bench.csv", dry_run=False)
        import_s = time.perf_counter() - start
    if not result.applied or FinancialStatement.objects.count() - before != len(rows):
        raise RuntimeError("the import did not write every row")
    start = time.perf_counter()
    again = services.import_file(actor=operator, kind="financials", body=body, filename="bench.csv", dry_run=False)
    reimport_s = time.perf_counter() - start
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    # A member of one firm reads other firms' profiles.
    rng = random.Random(seed)
    ids = list(Organization.objects.filter(status="member").values_list("pk", flat=True))
    viewer, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    Membership.objects.get_or_create(user=viewer, organization_id=ids[0], defaults={"role": "admin"})
    client = Client()
    client.force_login(viewer)
    targets = [rng.choice(ids) for _ in range(requests)]
    err.print(f"measuring {requests} profile pages per measure")
    overview = timed([lambda i=i: check(client.get(f"/organizations/{i}/")) for i in targets])
    finances = timed([lambda i=i: check(client.get(f"/organizations/{i}/tab/finances/")) for i in targets])
    api = timed([lambda i=i: check(client.get(f"/api/v1/organizations/{i}/profile")) for i in targets])
    owner = Client()
    owner.force_login(viewer)
    own = timed([lambda: check(owner.get(f"/organizations/{ids[0]}/")) for _ in range(requests)])
    import_rate = len(rows) / import_s
    return {
        "metrics": {
            "import_rows_per_s": round(import_rate),
            "import_rows": len(rows),
            "import_s": round(import_s, 2),
            "dry_run_rows_per_s": round(len(rows) / dry_s),
            "reimport_unchanged_rows_per_s": round(len(rows) / reimport_s),
            "reimport_unchanged": again.unchanged,
            "profile_p95_ms": overview["p95_ms"],
            "profile_p50_ms": overview["p50_ms"],
            "profile_requests": overview["n"],
            "finances_tab_p95_ms": finances["p95_ms"],
            "api_profile_p95_ms": api["p95_ms"],
            "own_profile_with_quality_p95_ms": own["p95_ms"],
            "statements_stored": FinancialStatement.objects.count(),
        },
        "baseline": {
            "per_row_service_rows_per_s": round(baseline_rate),
            "per_row_sample": BASELINE_ROWS,
            "note": "the first rows of the same file, one fact_create call (and transaction) per row, rolled back",
        },
        "ratio": {"bulk_over_per_row": round(import_rate / baseline_rate, 2) if baseline_rate else None},
    }
