"""Where a log entry's record is shown on the platform, for the links on a party's list of its entries.

The log knows records only as `app.model:id` (`LogEntry.record`); each kind below names the page that shows such a
record to its parties. Looked up through the app registry, so that the log imports none of the apps it serves; the
pages linked to apply their own visibility rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps
from django.urls import reverse

# kind -> (app label, model, the fields read, the page of one row's values)
PAGES: dict[str, tuple[str, str, tuple[str, ...], Callable[[dict[str, Any]], str]]] = {
    "factory.allocation": (
        "factory",
        "Allocation",
        ("order_id",),
        lambda r: reverse("factory:order", args=[r["order_id"]]),
    ),
    "market.interest": (
        "market",
        "Interest",
        ("listing_id",),
        lambda r: reverse("market:detail", args=[r["listing_id"]]) + f"#interest-{r['pk']}",
    ),
    "profiles.case": (
        "profiles",
        "Case",
        ("organization_id",),
        lambda r: reverse("profiles:organization_tab", args=[r["organization_id"], "cases"]) + f"#case-{r['pk']}",
    ),
    "profiles.caserating": (
        "profiles",
        "CaseRating",
        ("case_id", "case__organization_id"),
        lambda r: (
            reverse("profiles:organization_tab", args=[r["case__organization_id"], "cases"]) + f"#case-{r['case_id']}"
        ),
    ),
    "policy.application": (
        "policy",
        "Application",
        ("policy_id",),
        lambda r: reverse("policy:detail", args=[r["policy_id"]]) + "#applications",
    ),
}
# Pages only the platform's staff open (an applicant follows its admission by its private link instead).
STAFF_PAGES: dict[str, tuple[str, str, tuple[str, ...], Callable[[dict[str, Any]], str]]] = {
    "registry.admission": ("registry", "Admission", (), lambda r: reverse("registry:review_detail", args=[r["pk"]])),
}


def record_links(records: Iterable[str], *, staff: bool = False) -> dict[str, str]:
    """The page of each record (`app.model:id`) that has one; a record gone since it was logged has none."""
    pages = PAGES | STAFF_PAGES if staff else PAGES
    wanted: dict[str, set[int]] = defaultdict(set)
    for record in records:
        kind, _colon, pk = record.partition(":")
        if kind in pages and pk.isdigit():
            wanted[kind].add(int(pk))
    links = {}
    for kind, pks in wanted.items():
        app, model, fields, page = pages[kind]
        for row in apps.get_model(app, model).objects.filter(pk__in=pks).values("pk", *fields):
            links[f"{kind}:{row['pk']}"] = page(row)
    return links
