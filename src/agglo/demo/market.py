"""Loading the demo cluster's needs and offers (what firms of each kind would write, around catalogue terms, in
Chinese, English or both), and the matching index over them, so that a new platform shows explained matches from
its first start."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from agglo.demo.listing_texts import OFFER_KIND_OF_TERM, TERM_KINDS, listing_words
from agglo.market.lifecycle import Side, Status
from agglo.market.models import Listing
from agglo.market.services.listings import search_text_of
from agglo.market.validation import LISTING_FIELDS
from agglo.matching.services import index_rebuild
from agglo.profiles.models import CapabilityTerm, OrganizationCapability
from agglo.registry.models import Organization, Segment

Progress = Callable[[str, int, int], None]
FINANCE = {"bank": "loan", "fund": "equity", "securities": "bond", "leasing_guarantee": "leasing"}
SERVICES = {"service_firm": ("testing", "ip", "legal", "hr"), "intermediary": ("tech_transfer", "registration")}
NEED_KINDS = ("technology", "technology", "capacity", "equipment", "service", "capital", "talent")


def _noop(stage: str, done: int, total: int) -> None:
    return None


@transaction.atomic
def demo_market_load(*, seed: int, progress: Progress = _noop) -> dict[str, int]:
    """About one offer per two members and one need per three, published; then the matching index."""
    if Listing.objects.exists():
        return {"listings": 0}
    rng = random.Random(seed)
    # each term by its catalogue kind, so that a listing is about the sort of thing its kind names
    names_of: dict[str, tuple[str, str]] = {}
    of_kind: dict[str, list[str]] = {}
    kind_of: dict[str, str] = {}
    for code, term_kind, zh, en in CapabilityTerm.objects.values_list("code", "kind", "name_zh", "name_en"):
        names_of[code] = (zh, en)
        of_kind.setdefault(term_kind, []).append(code)
        kind_of[code] = term_kind
    names = {s.code: (s.name_zh, s.name_en) for s in Segment.objects.all()}
    held: dict[int, list[str]] = {}
    for org_id, code in OrganizationCapability.objects.values_list("organization_id", "term__code"):
        held.setdefault(org_id, []).append(code)
    orgs = list(
        Organization.objects.filter(status=Organization.Status.MEMBER).exclude(kind="government").order_by("pk")
    )
    now = timezone.now()
    today = timezone.localdate()
    listings: list[Listing] = []
    offered: list[str] = []
    for n, org in enumerate(orgs):
        segments = org.segment_list
        segment = names.get(segments[0], ("", "")) if segments else ("", "")
        plans: list[tuple[str, str, str, str]] = []  # side, kind, subkind, term code ("" for none)
        if org.kind in FINANCE:
            plans.append((Side.OFFER, "financing", FINANCE[org.kind], ""))
        elif org.kind in SERVICES:
            subkind = rng.choice(SERVICES[org.kind])
            term = rng.choice(of_kind.get("lab_service") or [""]) if subkind == "testing" else ""
            plans.append((Side.OFFER, "service", subkind, term))
        elif rng.random() < 0.5:  # a firm offers something it holds: know-how, a process's capacity, equipment
            own = [c for c in held.get(org.pk, []) if kind_of.get(c) in OFFER_KIND_OF_TERM]
            code = rng.choice(own) if own else rng.choice(of_kind.get(rng.choice(list(OFFER_KIND_OF_TERM))) or [""])
            if code:
                plans.append((Side.OFFER, OFFER_KIND_OF_TERM[kind_of[code]], "", code))
                offered.append(code)
        if org.kind not in FINANCE and rng.random() < 0.35:
            kind = rng.choice(NEED_KINDS)
            subkind = rng.choice(SERVICES["service_firm"]) if kind == "service" else ""
            wanted = TERM_KINDS.get(kind, ()) if kind != "service" or subkind == "testing" else ()
            fitting = [c for c in offered if kind_of.get(c) in wanted]
            pool = [c for k in wanted for c in of_kind.get(k, [])]
            # mostly something some member offers, so that the demo shows matches
            code = rng.choice(fitting) if fitting and rng.random() < 0.7 else (rng.choice(pool) if pool else "")
            plans.append((Side.NEED, kind, subkind, code))
        for side, kind, subkind, code in plans:
            weights = (8, 1.5, 0.5) if side == Side.NEED else (6, 3, 1)
            lang = rng.choices(("zh", "both", "en"), weights=weights)[0]
            words = listing_words(rng, side, kind, subkind, names_of.get(code, ("", "")), segment)
            zh_title, en_title = (words.title_zh if lang != "en" else ""), (words.title_en if lang != "zh" else "")
            amount = (
                Decimal(rng.choice((200_000, 500_000, 1_000_000, 5_000_000)))
                if kind in ("capital", "financing", "capacity")
                else None
            )
            published = now - dt.timedelta(days=rng.randint(0, 60))
            listing = Listing(
                organization=org,
                side=side,
                kind=kind,
                subkind=subkind,
                title_zh=zh_title[:200],
                title_en=en_title[:200],
                description_zh=words.body_zh if lang != "en" else "",
                description_en=words.body_en if lang != "zh" else "",
                terms=[code] if code else [],
                segments=[],
                amount_min=amount / 10 if amount else None,
                amount_max=amount,
                **(_loan_terms(org.pk) if subkind == "loan" else _capital_terms(org.pk) if kind == "capital" else {}),
                deadline=today + dt.timedelta(days=rng.randint(30, 240)) if rng.random() < 0.3 else None,
                visibility=rng.choices(("members", "public", "partners"), weights=(6, 3, 1))[0],
                anonymous=rng.random() < 0.08,
                status=Status.PUBLISHED,
                published_at=published,
                expires_on=published.date() + dt.timedelta(days=90),
            )
            listing.search_text = search_text_of({f: getattr(listing, f) for f in LISTING_FIELDS})
            listings.append(listing)
        progress("needs/offers", n + 1, len(orgs))
    Listing.objects.bulk_create(listings, batch_size=2000)
    indexed = index_rebuild(progress=lambda done, total: progress("matching index", done, total))
    return {"listings": len(listings), "matching documents": indexed}


def _loan_terms(org_id: int) -> dict[str, Any]:
    """A bank's loan product's terms, by the bank (not drawn from the generator: the rest of the demo, and the
    benchmarks built on it, stay as they were)."""
    secured = org_id % 2 == 0
    return {
        "term_months_min": 12 if secured else 6,
        "term_months_max": 60 if secured else 36,
        "rate_min": Decimal("3.10") if secured else Decimal("3.45"),
        "rate_max": Decimal("4.20") if secured else Decimal("5.50"),
        # every demo loan is worded as an unsecured credit loan: it lends on credit, and takes security besides
        "collateral": ["credit", "mortgage", "pledge"] if secured else ["credit", "guarantee"],
    }


def _capital_terms(org_id: int) -> dict[str, Any]:
    """A firm's capital need's terms, by the firm (not drawn from the generator, as `_loan_terms`)."""
    longer = org_id % 2 == 0
    return {
        "term_months_min": 24 if longer else 12,
        "term_months_max": 60 if longer else 36,
        "rate_max": Decimal("5.00"),
        "collateral": ["credit"],
    }
