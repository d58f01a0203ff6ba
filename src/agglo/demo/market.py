"""Loading the demo cluster's needs and offers (bilingual, from the catalogue and the glossary), and the
matching index over them, so that a new platform shows explained matches from its first start."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from agglo.market.lifecycle import Side, Status
from agglo.market.models import Listing
from agglo.market.services.listings import search_text_of
from agglo.market.validation import LISTING_FIELDS
from agglo.matching.concepts import glossary_concepts, term_concepts
from agglo.matching.services import index_rebuild
from agglo.matching.synthetic import OUT_OF_VOCABULARY, Writer
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
    rows = list(CapabilityTerm.objects.values("code", "name_zh", "name_en", "synonyms"))
    terms = term_concepts(rows)
    by_code = {t.code[2:]: t for t in terms}
    qualifiers = [(g.label_zh, g.label_en) for g in glossary_concepts()] + list(OUT_OF_VOCABULARY)
    writer = Writer(rng, terms)
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
        plans: list[tuple[str, str, str]] = []
        if org.kind in FINANCE:
            plans.append((Side.OFFER, "financing", FINANCE[org.kind]))
        elif org.kind in SERVICES:
            plans.append((Side.OFFER, "service", rng.choice(SERVICES[org.kind])))
        elif rng.random() < 0.5:
            plans.append((Side.OFFER, rng.choice(("technology", "technology", "capacity", "equipment")), ""))
        if org.kind not in FINANCE and rng.random() < 0.35:
            kind = rng.choice(NEED_KINDS)
            plans.append((Side.NEED, kind, rng.choice(SERVICES["service_firm"]) if kind == "service" else ""))
        for side, kind, subkind in plans:
            own = held.get(org.pk) or []
            if side == Side.OFFER:
                code = rng.choice(own) if own else rng.choice(list(by_code))
                offered.append(code)
            else:  # mostly something some member offers, so the demo shows matches
                code = rng.choice(offered) if offered and rng.random() < 0.7 else rng.choice(list(by_code))
            lang = "zh" if side == Side.NEED and rng.random() < 0.8 else rng.choice(("zh", "en", "both"))
            title, body = writer.text(by_code[code], rng.choice(qualifiers), lang, segment)
            titles = title.split(" / ")
            zh_title = titles[0] if lang != "en" else ""
            en_title = titles[-1] if lang != "zh" else ""
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
                description_zh=body if lang == "zh" else (body.split("\n")[0] if lang == "both" else ""),
                description_en=body if lang == "en" else (body.split("\n")[-1] if lang == "both" else ""),
                terms=[code],
                segments=[],
                amount_min=amount / 10 if amount else None,
                amount_max=amount,
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
