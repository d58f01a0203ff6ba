"""Ranked counterparts for a listing, and suggested partners for an organization, each with its explanation.
Results come from the engine's hard filters and are checked again against the market's and the registry's own
visibility selectors, so a record hidden from the reader can never be shown, even from a stale index."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.errors import NotFound
from agglo.market.lifecycle import Side, Status
from agglo.market.models import Listing
from agglo.market.selectors import listing_list, owners_revealed
from agglo.matching import explain
from agglo.matching.ranking import FINANCE, KIND_TOKEN, NEED, OFFER, ORG, Match, Query, Viewer
from agglo.matching.reference import analyzer, embedding_text, encoder, listing_texts, loan_terms, term_names
from agglo.matching.selectors.engine import LIVE
from agglo.registry.models import Organization, Segment
from agglo.registry.selectors import organization_list
from agglo.registry.selectors.organizations import partnered_owners

TARGETS = {"offers": OFFER, "needs": NEED, "organizations": ORG}
MAX_LIMIT = 50


@dataclass
class Result:
    """One counterpart with its explanation; `organization` is None while an anonymous owner stays hidden."""

    rank: int
    match: Match
    listing: Listing | None
    organization: Organization | None
    relation: str = ""
    matched: list[str] = field(default_factory=list)
    trust: list[str] = field(default_factory=list)
    signals: list[tuple[str, str, float]] = field(default_factory=list)  # name, label, contribution
    owner_hidden: bool = False  # an anonymous listing's owner: nothing in the explanation describes it
    # "another result of the same organization": not said where that other result is an anonymous one of it
    same_owner_note: bool = False

    @property
    def key(self) -> int:
        return self.match.key


def viewer_of(actor: Any) -> Viewer:
    active = policy.active_organization_ids(actor)
    return Viewer(
        member=bool(active) or policy.has_role(actor, "government"),
        partner_orgs=frozenset(partnered_owners(active)) if active else frozenset(),
        own_orgs=frozenset(policy.organization_ids(actor)),
        sees_all=policy.sees_all_organizations(actor),
    )


def _require_own(actor: Any, organization_id: int, missing: str) -> None:
    if not (organization_id in policy.organization_ids(actor) or policy.sees_all_organizations(actor)):
        raise NotFound(missing)


def matches_for_listing(*, actor: Any, listing: Listing, target: str, limit: int = 10) -> list[Result]:
    """Counterparts for one of the actor's listings: offers or organizations for a need, needs or
    organizations for an offer."""
    _require_own(actor, listing.organization_id, _("No listing with id %(pk)s.") % {"pk": listing.pk})
    side = TARGETS[target]
    if side == listing.side or listing.status != Status.PUBLISHED:
        return []
    org = listing.organization
    tokens = analyzer().tokens(*listing_texts(listing, term_names()), query=True)
    query = Query(
        target=side,
        kind=listing.kind,
        subkind=listing.subkind if side != ORG else "",
        offering=listing.side == Side.OFFER,
        tokens=tuple(tokens),
        today=timezone.localdate().toordinal(),
        viewer=viewer_of(actor),
        org=org.pk,
        area=org.area_id,
        segments=tuple(listing.segments or org.segment_list),
        amount_min=float(listing.amount_min) if listing.amount_min is not None else None,
        amount_max=float(listing.amount_max) if listing.amount_max is not None else None,
        **_loan_query(listing),
        region_rule=listing.region_rule,
        regions=frozenset(listing.regions),
        gives=LIVE.gives(org.pk),
        # twice as many from the engine, cut after `_present` scored anonymous ones without their owners' signals:
        # whether such a listing makes the list then rests little on who is behind it (recheck 46)
        limit=2 * max(1, min(limit, MAX_LIMIT)),
        vector=_embedding(embedding_text(listing)),
    )
    return _present(actor, LIVE.get().search(query))[: max(1, min(limit, MAX_LIMIT))]


def _loan_query(listing: Listing) -> dict[str, Any]:
    terms = loan_terms(listing)
    return {**terms, "collateral": frozenset(terms["collateral"])}


def _embedding(text: str) -> Any:
    model = encoder()
    return model.encode([text])[0] if model is not None and text else None


def partners_for_organization(*, actor: Any, organization: Organization, limit: int = 10) -> list[Result]:
    """Suggested partners: organizations matching what it needs, complementary on the chain, reciprocal."""
    _require_own(actor, organization.pk, _("No organization with id %(pk)s.") % {"pk": organization.pk})
    engine = LIVE.get()
    wants = engine.orgs.get(organization.pk)
    gives = LIVE.gives(organization.pk)
    # what it needs; an organization that needs nothing (a bank) is matched by what it offers
    asks = (wants.wants if wants else frozenset()) or gives
    query = Query(
        target=ORG,
        # a lender or investor serves firms, not its competitors
        kind="financing" if organization.kind in FINANCE else "",
        offering=organization.kind in FINANCE,
        tokens=tuple(sorted(t for t in asks if not t.startswith(KIND_TOKEN))),
        today=timezone.localdate().toordinal(),
        viewer=viewer_of(actor),
        org=organization.pk,
        area=organization.area_id,
        segments=tuple(organization.segment_list),
        gives=gives,
        limit=max(1, min(limit, MAX_LIMIT)),
    )
    return _present(actor, engine.search(query))


def _present(actor: Any, matches: list[Match]) -> list[Result]:
    listing_ids = [m.key for m in matches if m.key > 0]
    org_ids = [-m.key for m in matches if m.key < 0]
    listings = {
        x.pk: x
        for x in listing_list(actor=actor)
        .filter(pk__in=listing_ids, status=Status.PUBLISHED)
        .select_related("organization__area")
    }
    orgs = {o.pk: o for o in organization_list(actor=actor).filter(pk__in=org_ids, status=Organization.Status.MEMBER)}
    segment_codes = {c for m in matches for c in (m.relation_segments or ())}
    segment_names = {s.code: s.name for s in Segment.objects.filter(code__in=segment_codes)}
    results: list[Result] = []
    revealed = {x.pk: x._owner_revealed for x in owners_revealed(actor, listings.values())}
    hidden_owners = {x.organization_id for pk, x in listings.items() if not revealed[pk]}
    for m in matches:
        listing = listings.get(m.key) if m.key > 0 else None
        org = orgs.get(-m.key) if m.key < 0 else None
        if listing is None and org is None:
            continue  # hidden from this reader, or gone since the index last heard of it
        if listing is not None:
            org = listing.organization if revealed[listing.pk] else None
        # an anonymous owner stays hidden in the explanation too: not its chain segments, region or record
        hidden = listing is not None and org is None
        if hidden:
            m = _without_owner(m)
        results.append(
            Result(
                rank=len(results) + 1,
                match=m,
                listing=listing,
                organization=org,
                relation="" if hidden else explain.relation_text(m, segment_names),
                matched=explain.matched_texts(m),
                trust=explain.trust_texts(m) if org is not None else [],
                signals=explain.signal_texts(m, owner_hidden=hidden),
                owner_hidden=hidden,
                same_owner_note=m.diversity_factor < 1
                and not hidden
                and (listing.organization_id if listing is not None else -m.key) not in hidden_owners,
            )
        )
    if any(r.owner_hidden for r in results):  # ranked by the score shown, so that the place tells no more
        results.sort(key=lambda r: -r.match.score)
        results = [replace(r, rank=i) for i, r in enumerate(results, start=1)]
    return results


def _without_owner(m: Match) -> Match:
    """An anonymous listing's match as its reader may see it: scored without the signals that describe its owner
    (review 44 F1: the total less the signals shown gave their sum away, and with it the owner)."""
    shown = tuple((name, value) for name, value in m.signals if name not in explain.OWNER_SIGNALS)
    return replace(m, signals=shown, score=round(sum(v for _, v in shown), 4), trust_notes=())
