"""Reads of needs and offers, restricted to what the actor may see; anonymous owners stay hidden."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.errors import NotFound
from agglo.market.lifecycle import InterestStatus, Status
from agglo.market.models import Interest, Listing
from agglo.profiles.models import CapabilityTerm
from agglo.registry.models import Segment
from agglo.registry.models.bilingual import in_language
from agglo.registry.selectors.organizations import partnered_owners
from agglo.registry.text import query_tokens


def visible(actor: Any) -> Q:
    """Published listings at a level the actor reaches, every listing of the actor's own organizations, listings
    on which the owner accepted the actor's organization's interest, once published, whatever became of them since
    (a partner keeps reading what it agreed to after the owner closes it or narrows who sees it), and closed or
    expired listings the actor's organization answered (an anonymous owner stays unnamed: `owner_revealed`)."""
    if policy.sees_all_organizations(actor):
        return Q()
    own = policy.organization_ids(actor)
    published = Q(status=Status.PUBLISHED, organization__status="member")
    levels = Q(visibility=Listing.Visibility.PUBLIC)
    active = policy.active_organization_ids(actor)
    if active or policy.has_role(actor, "government"):
        levels |= Q(visibility=Listing.Visibility.MEMBERS)
    if active:
        levels |= Q(visibility=Listing.Visibility.PARTNERS, organization_id__in=partnered_owners(active))
    condition = published & levels
    if own:
        condition |= Q(organization_id__in=own)
    if active:
        member_owner = Q(organization__status="member")
        agreed = Interest.objects.filter(organization_id__in=active, status=InterestStatus.ACCEPTED)
        condition |= (
            Q(pk__in=agreed.values("listing_id"), status__in=(Status.PUBLISHED, Status.CLOSED, Status.EXPIRED))
            & member_owner
        )
        # a responder not taken up reads what it answered once the listing is closed or expired (its notice links
        # there), but not what a published listing later says to others only
        answered = Interest.objects.filter(organization_id__in=active)
        condition |= Q(pk__in=answered.values("listing_id"), status__in=(Status.CLOSED, Status.EXPIRED)) & member_owner
    return condition


def listing_list(
    *, actor: Any, side: str = "", kind: str = "", organization_id: int | None = None, status: str = "", q: str = ""
) -> QuerySet[Listing]:
    """Listings the actor may see, filtered; `q` must match every word (Chinese segmented as when indexed)."""
    qs = Listing.objects.filter(visible(actor)).select_related("organization__region")
    for token in query_tokens(q):
        qs = qs.filter(search_text__contains=token)
    if side:
        qs = qs.filter(side=side)
    if kind:
        qs = qs.filter(kind=kind)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
        if organization_id not in policy.organization_ids(actor) and not policy.sees_all_organizations(actor):
            # an anonymous listing is no one's to a reader the owner did not accept: filtering by owner would name it
            accepted = Interest.objects.filter(
                organization_id__in=policy.organization_ids(actor), status=InterestStatus.ACCEPTED
            ).values("listing_id")
            qs = qs.exclude(Q(anonymous=True) & ~Q(pk__in=accepted))
    if status:
        qs = qs.filter(status=status)
    return qs


def listing_get(*, actor: Any, pk: int) -> Listing:
    listing = listing_list(actor=actor).filter(pk=pk).first()
    if listing is None:
        raise NotFound(_("No listing with id %(pk)s.") % {"pk": pk})
    return listing


def owner_revealed(actor: Any, listing: Listing) -> bool:
    """Whether the actor may know who published the listing: always unless it is anonymous; for an anonymous one,
    its own people, operators and auditors, and organizations whose interest the owner accepted."""
    if not listing.anonymous:
        return True
    return bool(owners_revealed(actor, [listing])[0]._owner_revealed)  # type: ignore[attr-defined]


def owners_revealed(actor: Any, listings: Iterable[Listing]) -> list[Listing]:
    """`owner_revealed` for a page of listings in one query, set on each (`_owner_revealed`, as the API's schema
    reads it): one query per anonymous listing made a page of 500 cost 250 more (perf review 58)."""
    rows = list(listings)
    mine = policy.organization_ids(actor)
    sees_all = policy.sees_all_organizations(actor)
    asked = [x.pk for x in rows if x.anonymous and not sees_all and x.organization_id not in mine]
    accepted = set(
        Interest.objects.filter(listing_id__in=asked, organization_id__in=mine, status=InterestStatus.ACCEPTED)
        .values_list("listing_id", flat=True)
        .distinct()
        if asked
        else ()
    )
    for x in rows:
        x._owner_revealed = x.pk not in asked or x.pk in accepted  # type: ignore[attr-defined]
    return rows


def interest_board(*, actor: Any, listing: Listing) -> QuerySet[Interest]:
    """The responses to a listing, for its owner's people (and operators)."""
    if not (listing.organization_id in policy.organization_ids(actor) or policy.sees_all_organizations(actor)):
        raise NotFound(_("No listing with id %(pk)s.") % {"pk": listing.pk})
    return listing.interests.select_related("organization__region", "created_by").order_by("status", "-created_at")


def my_interests(*, actor: Any) -> QuerySet[Interest]:
    """The interests the actor's organizations expressed, with the listings they answer."""
    return Interest.objects.filter(organization_id__in=policy.organization_ids(actor)).select_related(
        "organization", "listing__organization"
    )


def interest_get(*, actor: Any, pk: int) -> Interest:
    """One response, for the listing owner's people (and operators); NotFound for everyone else."""
    interest = Interest.objects.select_related("listing", "organization").filter(pk=pk).first()
    missing = NotFound(_("No interest with id %(pk)s.") % {"pk": pk})
    if interest is None:
        raise missing
    try:
        interest_board(actor=actor, listing=interest.listing)
    except NotFound:  # it is about the interest asked for, whoever may read the listing itself
        raise missing from None
    return interest


def interest_partner_ids(org_id: int) -> set[int]:
    """Organizations on the other side of an accepted interest: partners for visibility (DESIGN.md §5).
    Symmetric, as registry.selectors.organizations.PARTNER_SOURCES requires."""
    accepted = Interest.objects.filter(status=InterestStatus.ACCEPTED)
    out = set(accepted.filter(listing__organization_id=org_id).values_list("organization_id", flat=True))
    out |= set(accepted.filter(organization_id=org_id).values_list("listing__organization_id", flat=True))
    return out


def segment_names(codes: list[str]) -> list[str]:
    """Chain segments by their names in the reader's language (the code where none is known)."""
    names = {s.code: s.name for s in Segment.objects.filter(code__in=codes)}
    return [names.get(code, code) for code in codes]


def term_names(codes: list[str]) -> list[str]:
    """A listing's catalogue terms by their names in the reader's language (the code where none is known)."""
    names = {
        code: in_language(zh, en)
        for code, zh, en in CapabilityTerm.objects.filter(code__in=codes).values_list("code", "name_zh", "name_en")
    }
    return [names.get(code, code) for code in codes]
