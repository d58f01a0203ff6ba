"""Keeping the stored index in step with the market: one document per published listing and per member
organization, refreshed after every change (through a background task) and rebuilt in full on demand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agglo.market.lifecycle import Side, Status
from agglo.market.models import Listing
from agglo.matching.models import MatchDocument
from agglo.matching.ranking import KIND_TOKEN, concept_tokens, trust_of
from agglo.matching.reference import analyzer, embedding_text, encoder, listing_texts, loan_terms, term_names
from agglo.profiles.models import CaseParticipant, CaseRating, CreditRating, OrganizationCapability
from agglo.profiles.selectors.trust import trust_facts
from agglo.registry.models import Organization

BATCH = 500
# A change committed a little after a sync started must not be missed: each sync looks back this far.
SYNC_OVERLAP = dt.timedelta(minutes=5)
FIELDS = ["organization", "tokens", "features", "vector", "live"]


def _ordinal(value: dt.date | dt.datetime | None) -> int | None:
    if value is None:
        return None
    # a moment's day in the platform's time zone, as `today` is counted (its UTC day is the day before until 08:00)
    return (timezone.localdate(value) if isinstance(value, dt.datetime) else value).toordinal()


def _listing_features(listing: Listing, org: Organization) -> dict[str, Any]:
    return {
        "side": listing.side,
        "kind": listing.kind,
        "subkind": listing.subkind,
        "area": org.area_id,
        "segments": listing.segments or org.segment_list,
        "amount_min": float(listing.amount_min) if listing.amount_min is not None else None,
        "amount_max": float(listing.amount_max) if listing.amount_max is not None else None,
        **loan_terms(listing),
        "deadline": _ordinal(listing.deadline),
        "visibility": listing.visibility,
        "region_rule": listing.region_rule,
        "regions": sorted(listing.regions),
        "published": _ordinal(listing.published_at) or 0,
    }


def _kind_token(kind: str) -> str:
    return KIND_TOKEN + kind


def _embed(docs: list[MatchDocument], texts: list[str]) -> None:
    """Give live documents their embedding when an encoder is configured (one batch)."""
    model = encoder()
    if model is None:
        return
    live = [(d, t) for d, t in zip(docs, texts, strict=True) if d.live and t]
    if live:
        vectors = model.encode([t for _, t in live])
        for (doc, _text), vector in zip(live, vectors, strict=True):
            doc.vector = vector.astype("float32").tobytes()


def _listing_docs(listings: Iterable[Listing], names: dict[str, tuple[str, str]]) -> list[MatchDocument]:
    words = analyzer()
    docs: list[MatchDocument] = []
    texts: list[str] = []
    for listing in listings:
        live = listing.status == Status.PUBLISHED and listing.organization.status == Organization.Status.MEMBER
        tokens = words.tokens(*listing_texts(listing, names)) if live else []
        docs.append(
            MatchDocument(
                source=MatchDocument.Source.LISTING,
                object_id=listing.pk,
                organization_id=listing.organization_id,
                tokens=" ".join(tokens),
                features=_listing_features(listing, listing.organization) if live else {},
                live=live,
            )
        )
        texts.append(embedding_text(listing))
    _embed(docs, texts)
    return docs


def _org_docs(orgs: list[Organization]) -> list[MatchDocument]:
    """Organizations as candidates (their profile, capabilities and segments) and as carriers of the signals
    the engine weighs: trust, and what they want and give (for reciprocity)."""
    words = analyzer()
    ids = [o.pk for o in orgs]
    capabilities: dict[int, list[str]] = {}
    for org_id, zh, en in OrganizationCapability.objects.filter(organization_id__in=ids).values_list(
        "organization_id", "term__name_zh", "term__name_en"
    ):
        capabilities.setdefault(org_id, []).extend((zh, en))
    wants: dict[int, set[str]] = {i: set() for i in ids}
    gives: dict[int, set[str]] = {i: set() for i in ids}
    # only from listings any member may see as theirs: a partners-only or anonymous need must not show through
    # the reciprocity signal that its organization has it
    kept_back = Listing.objects.filter(organization_id__in=ids).filter(
        Q(anonymous=True) | ~Q(visibility__in=("public", "members"))
    )
    shown = MatchDocument.objects.filter(source=MatchDocument.Source.LISTING, live=True, organization_id__in=ids)
    for doc in shown.exclude(object_id__in=kept_back.values("pk")):
        side = wants if doc.features.get("side") == Side.NEED else gives
        side[doc.organization_id] |= concept_tokens(doc.tokens.split()) | {_kind_token(doc.features["kind"])}
    facts = trust_facts(ids)
    docs = []
    for org in orgs:
        live = org.status == Organization.Status.MEMBER
        features: dict[str, Any] = {}
        tokens: list[str] = []
        if live:
            tokens = words.tokens(
                org.name_zh, org.name_en, org.description, " ".join(org.tags), *capabilities.get(org.pk, [])
            )
            fact = facts[org.pk]
            trust, notes = trust_of(fact.grade, fact.confirmed_cases, fact.mean_rating)
            features = {
                "side": "org",
                "kind": org.kind,
                "area": org.area_id,
                "segments": org.segment_list,
                "visibility": "public",
                "published": _ordinal(org.joined_at) or 0,
                "trust": trust,
                "trust_notes": list(notes),
                "wants": sorted(wants[org.pk]),
                "gives": sorted(gives[org.pk]),
            }
        docs.append(
            MatchDocument(
                source=MatchDocument.Source.ORGANIZATION,
                object_id=org.pk,
                organization_id=org.pk,
                tokens=" ".join(tokens),
                features=features,
                live=live,
            )
        )
    return docs


def _bytes(value: bytes | memoryview | None) -> bytes | None:
    return bytes(value) if value is not None else None


def _save(docs: list[MatchDocument]) -> int:
    """Write the documents that differ from what is stored; returns how many changed."""
    if not docs:
        return 0
    stored = {
        (d.source, d.object_id): (d.tokens, d.features, d.live, d.organization_id, _bytes(d.vector))
        for d in MatchDocument.objects.filter(Q(source=docs[0].source) & Q(object_id__in=[d.object_id for d in docs]))
    }
    changed = [
        d
        for d in docs
        if stored.get((d.source, d.object_id)) != (d.tokens, d.features, d.live, d.organization_id, _bytes(d.vector))
        and (d.live or (d.source, d.object_id) in stored)
    ]
    now = timezone.now()
    for d in changed:
        d.updated_at = now
    MatchDocument.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["source", "object_id"],
        update_fields=[*FIELDS, "updated_at"],
        batch_size=BATCH,
    )
    return len(changed)


@transaction.atomic
def documents_refresh(*, listing_ids: Iterable[int] = (), org_ids: Iterable[int] = ()) -> int:
    """Bring the documents of these listings, of these organizations and of the listings' owners up to date.
    Returns how many documents changed."""
    listing_ids = list(listing_ids)
    listings = list(Listing.objects.filter(pk__in=listing_ids).select_related("organization"))
    names = term_names()
    changed = _save(_listing_docs(listings, names))
    owners = set(org_ids) | {x.organization_id for x in listings}
    changed += _save(_org_docs(list(Organization.objects.filter(pk__in=owners))))
    return changed


def listings_changed(ids: list[int]) -> None:
    """Market hook: refresh these listings' documents in the background."""
    from agglo.matching.tasks import documents_refresh_task

    documents_refresh_task.enqueue(listing_ids=list(ids))


@transaction.atomic
def index_sync() -> int:
    """Refresh the documents of listings and organizations changed since the last documents were written (with an
    overlap): changes that reached the database without a market service, and organizations whose profile, chain
    positions, ratings, capabilities or cases changed (run it hourly). Returns how many changed."""
    last = MatchDocument.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
    if last is None:
        return index_rebuild()
    since = last - SYNC_OVERLAP
    listing_ids = list(Listing.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
    org_ids = set(Organization.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
    # Trust and capabilities live in the professional database.
    for model, field in (
        (CreditRating, "updated_at"),
        (OrganizationCapability, "updated_at"),
        (CaseParticipant, "confirmed_at"),
    ):
        org_ids |= set(model.objects.filter(**{f"{field}__gte": since}).values_list("organization_id", flat=True))
    org_ids |= set(CaseRating.objects.filter(created_at__gte=since).values_list("rated_id", flat=True))
    # a case made private (or public again) changes what its participants' trust may count
    org_ids |= set(
        CaseParticipant.objects.filter(case__updated_at__gte=since).values_list("organization_id", flat=True)
    )
    return documents_refresh(listing_ids=listing_ids, org_ids=org_ids)


@transaction.atomic
def index_rebuild(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute every document: published listings first (organizations' reciprocity reads them), then member
    organizations; documents of anything else stop being live. Returns how many documents changed."""
    names = term_names()
    listing_qs = Listing.objects.filter(status=Status.PUBLISHED, organization__status=Organization.Status.MEMBER)
    org_qs = Organization.objects.filter(status=Organization.Status.MEMBER)
    listing_ids = list(listing_qs.values_list("pk", flat=True))
    org_ids = list(org_qs.values_list("pk", flat=True))
    total, done, changed = len(listing_ids) + len(org_ids), 0, 0
    for start in range(0, len(listing_ids), BATCH):
        chunk = listing_ids[start : start + BATCH]
        changed += _save(_listing_docs(Listing.objects.filter(pk__in=chunk).select_related("organization"), names))
        done += len(chunk)
        if progress:
            progress(done, total)
    for start in range(0, len(org_ids), BATCH):
        chunk = org_ids[start : start + BATCH]
        changed += _save(_org_docs(list(Organization.objects.filter(pk__in=chunk))))
        done += len(chunk)
        if progress:
            progress(done, total)
    listing_live = MatchDocument.objects.filter(source=MatchDocument.Source.LISTING, live=True).exclude(
        object_id__in=listing_qs.values("pk")
    )
    org_live = MatchDocument.objects.filter(source=MatchDocument.Source.ORGANIZATION, live=True).exclude(
        object_id__in=org_qs.values("pk")
    )
    now = timezone.now()
    changed += listing_live.update(live=False, tokens="", features={}, vector=None, updated_at=now)
    changed += org_live.update(live=False, tokens="", features={}, vector=None, updated_at=now)
    return changed
