"""The market when a member's standing changes (`registry.signals.organization_status_changed`, through
`market.receivers`).

Suspended: its listings are shown to nobody else (`selectors.listings.visible`) but stay as they are, and the
members waiting on an answer from it are told why none comes, as are its partners (responders it accepted), who no
longer read the listing they agreed on. Reinstated: they show again by themselves; those members are told it can
answer, its partners that they read it again, and the member which of its listings expired meanwhile (renewing them
is its call). Withdrawn: nothing it published can be answered any more, so its open listings are closed (their
responses lapse, their senders told) and its own unanswered responses are withdrawn, their listings' owners told;
its partners are told they no longer read it, and its admins what was closed and withdrawn. A withdrawn member
that still has any of these (its status written around the registry's service, or its withdrawal recorded before
the market closed them) has them closed by `agglo sweep_standing` (`departed_sweep`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.language import LISTED, Joined, Phrase
from agglo.common.notify import notify
from agglo.market import hooks, lifecycle
from agglo.market.models import Interest, Listing
from agglo.market.services.listings import listing_closed
from agglo.registry.models import Organization
from agglo.registry.models.bilingual import Bilingual
from agglo.registry.services.standing import standing_held

OPEN = lifecycle.TRANSITIONS["close"][0]  # what a close may end


def _title(listing: Listing) -> Bilingual:
    return Bilingual(listing.title_zh, listing.title_en)


def _waiting(organization_id: int) -> Any:
    """Undecided responses to the organization's published listings."""
    return (
        Interest.objects.filter(listing__organization_id=organization_id, listing__status=lifecycle.Status.PUBLISHED)
        .exclude(status__in=lifecycle.DECIDED)
        .exclude(organization_id=organization_id)
        .select_related("listing")
        .order_by("listing_id", "pk")
    )


def responders_tell(organization: Organization, *, suspended: bool) -> int:
    """Tell each member waiting on an answer to its response that the listing's owner was suspended (the listing
    is not shown meanwhile; the response stands) or, reinstated, can answer again. One notice per member and
    listing; an anonymous owner stays unnamed. Returns how many were told."""
    message = (
        gettext_lazy(
            "The owner of “%(title)s” was suspended by the platform's operators: the listing is not shown and your "
            "response waits, undecided, until the owner is reinstated."
        )
        if suspended
        else gettext_lazy("The owner of “%(title)s” is a member in good standing again and can answer your response.")
    )
    told = 0
    for interest in _waiting(organization.pk):
        told += notify(
            policy.organization_admins(interest.organization_id),
            verb="market.owner_status",
            text=Phrase(message, title=_title(interest.listing)),
            link=f"/market/{interest.listing_id}/",
        )
    return told


# What a partner on a listing is told when its owner's standing changes, by the owner's new status.
PARTNER_NOTICES = {
    Organization.Status.SUSPENDED: gettext_lazy(
        "The owner of “%(title)s”, which accepted your response, was suspended by the platform's operators: the "
        "listing is not shown to you until the owner is reinstated."
    ),
    Organization.Status.WITHDRAWN: gettext_lazy(
        "The owner of “%(title)s”, which accepted your response, left the platform: the listing is no longer shown "
        "to you."
    ),
    Organization.Status.MEMBER: gettext_lazy(
        "The owner of “%(title)s”, which accepted your response, is a member in good standing again: the listing "
        "is shown to you again."
    ),
}


def partners_tell(organization: Organization, *, status: str) -> int:
    """Tell the members whose response to one of the organization's listings it accepted (its partners, who read
    the listing while its owner is in good standing: `selectors.listings.visible`) that they no longer read it, or
    read it again. One notice per member and listing; an anonymous owner stays unnamed. Returns how many were
    told."""
    partners = (
        Interest.objects.filter(
            listing__organization_id=organization.pk,
            status=lifecycle.InterestStatus.ACCEPTED,
            listing__status__in=(lifecycle.Status.PUBLISHED, lifecycle.Status.CLOSED, lifecycle.Status.EXPIRED),
        )
        .exclude(organization_id=organization.pk)
        .select_related("listing")
        .order_by("listing_id", "pk")
    )
    told = 0
    for interest in partners:
        told += notify(
            policy.organization_admins(interest.organization_id),
            verb="market.owner_status",
            text=Phrase(PARTNER_NOTICES[status], title=_title(interest.listing)),
            link=f"/market/{interest.listing_id}/",
        )
    return told


def reinstated_tell(organization: Organization, *, since: dt.datetime | None) -> int:
    """Tell a member back in good standing which of its listings expired while it was away: they stay expired
    until it renews them (the rest show again by themselves). Returns how many the notice names."""
    expired = Listing.objects.filter(organization=organization, status=lifecycle.Status.EXPIRED)
    if since is not None:
        expired = expired.filter(updated_at__gte=since)
    titles = [_title(x) for x in expired.order_by("pk")]
    if titles:
        notify(
            policy.organization_admins(organization.pk),
            verb="market.reinstated",
            text=Phrase(
                gettext_lazy(
                    "While your organization was not in good standing, these needs and offers expired: %(titles)s. "
                    "Renew them to show them again; your other published ones are shown again already."
                ),
                titles=Joined(titles, most=LISTED),
            ),
            link="/market/mine/",
        )
    return len(titles)


# What a member that left is told the market closed for it, by what there was: its listings, its responses, both.
LEFT_NOTICES = {
    (True, False): gettext_lazy(
        "As your organization left the platform, its open needs and offers were closed: %(closed)s."
    ),
    (False, True): gettext_lazy(
        "As your organization left the platform, its responses still waiting for an answer were withdrawn: "
        "%(withdrawn)s."
    ),
    (True, True): gettext_lazy(
        "As your organization left the platform, its open needs and offers were closed (%(closed)s), and its "
        "responses still waiting for an answer were withdrawn (%(withdrawn)s)."
    ),
}


def departed_close(organization: Organization) -> int:
    """Close the open listings of a member that left (outcome "withdrawn"; their responses lapse, their senders
    told) and withdraw its unanswered responses to others' listings (their owners told); its admins are told what,
    if anything. The platform acts. Returns how many listings it closed and responses it withdrew.

    Every listing it touches (its own open ones, and those its responses wait on) is locked first, in id order,
    before any response: two members leaving at once, each having answered the other, would otherwise each hold
    its own listings' responses and wait for the other's (a deadlock, review 117)."""
    settled = Q(status__in=lifecycle.DECIDED) | Q(listing__organization=organization)  # not its to withdraw
    answered = Interest.objects.filter(organization=organization).exclude(settled).values("listing_id")
    touched = Listing.objects.filter(Q(organization=organization, status__in=OPEN) | Q(pk__in=answered))
    list(touched.select_for_update().order_by("pk").values_list("pk", flat=True))
    listings = list(
        Listing.objects.select_for_update().filter(organization=organization, status__in=OPEN).order_by("pk")
    )
    for listing in listings:
        listing_closed(actor=None, listing=listing, outcome=Listing.Outcome.WITHDRAWN)
    hooks.listings_changed([x.pk for x in listings])
    now = timezone.now()
    sent = list(
        Interest.objects.select_for_update(of=("self",))  # their listings are held already
        .filter(organization=organization)
        .exclude(settled)
        .select_related("listing")
        .order_by("pk")
    )
    for interest in sent:
        interest.status, interest.decided_at = lifecycle.InterestStatus.DECLINED, now
        interest.save(update_fields=["status", "decided_at", "updated_at"])
        record(
            "market.interest_declined",
            actor=None,
            subject=interest,
            payload={"responder_left": True},
            organization_id=interest.listing.organization_id,
            group="market",
        )
        notify(
            policy.organization_admins(interest.listing.organization_id),
            verb="market.interest_lapsed",
            text=Phrase(
                gettext_lazy("%(org)s left the platform: its response to “%(title)s” is withdrawn."),
                org=Bilingual(organization.name_zh, organization.name_en),
                title=_title(interest.listing),
            ),
            link=f"/market/{interest.listing_id}/",
        )
    closed, withdrawn = [_title(x) for x in listings], [_title(i.listing) for i in sent]
    if closed or withdrawn:
        notify(
            policy.organization_admins(organization.pk),
            verb="market.left",
            text=Phrase(
                LEFT_NOTICES[bool(closed), bool(withdrawn)],
                closed=Joined(closed, most=LISTED),
                withdrawn=Joined(withdrawn, most=LISTED),
            ),
            link="/market/mine/",
        )
    return len(listings) + len(sent)


def _left_open() -> list[int]:
    """Ids of withdrawn organizations that still have an open listing or a response waiting for an answer to
    another's listing: what `departed_close` ends."""
    withdrawn = Organization.Status.WITHDRAWN
    listed = Listing.objects.filter(organization__status=withdrawn, status__in=OPEN).values_list(
        "organization_id", flat=True
    )
    sent = (
        Interest.objects.filter(organization__status=withdrawn)
        .exclude(Q(status__in=lifecycle.DECIDED) | Q(listing__organization_id=F("organization_id")))
        .values_list("organization_id", flat=True)
    )
    return sorted(set(listed) | set(sent))


def departed_sweep() -> int:
    """Close what members that left still have open in the market, as their withdrawal would have
    (`departed_close`), one organization per transaction under its row lock (one reinstated meanwhile is left
    alone). Idempotent: what it closed is no longer open. Returns how many organizations it closed something of
    (not one another run, at once, closed first)."""
    count = 0
    for organization_id in _left_open():
        with transaction.atomic():
            if standing_held([organization_id]).get(organization_id) != Organization.Status.WITHDRAWN:
                continue
            organization = Organization.objects.get(pk=organization_id)
            if departed_close(organization):
                count += 1
    return count
