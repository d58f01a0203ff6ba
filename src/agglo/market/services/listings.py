"""Writes to needs and offers: create, change, submit, review, renew, close, expire."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.language import choice_words
from agglo.common.versions import version_check
from agglo.market import hooks, lifecycle
from agglo.market.models import Listing
from agglo.market.services.interests import interests_lapse
from agglo.market.services.locks import listing_locked
from agglo.market.validation import LISTING_FIELDS, clean_listing
from agglo.profiles.services.facts import snapshot
from agglo.registry.models import Organization
from agglo.registry.services.standing import standing_held
from agglo.registry.text import index_tokens

MAX_RENEW_DAYS = 365


def search_text_of(values: dict[str, Any]) -> str:
    """The tokens a listing is searched by on the browse page (registry.text), from its field values."""
    parts = [values.get(k) or "" for k in ("title_zh", "title_en", "description_zh", "description_en")]
    parts += list(values.get("tags") or []) + list(values.get("terms") or []) + list(values.get("segments") or [])
    return index_tokens(*parts)


def _audit(event: str, actor: Any, listing: Listing, payload: dict[str, Any]) -> None:
    record(
        f"market.listing_{event}",
        actor=actor,
        subject=listing,
        payload=payload,
        organization_id=listing.organization_id,
        group="market",
    )


def _require_edit(actor: Any, listing_or_org: Listing | Organization) -> None:
    org_id = listing_or_org.organization_id if isinstance(listing_or_org, Listing) else listing_or_org.pk
    if not policy.can_edit_organization(actor, org_id):
        raise Forbidden(_("Only the organization's admins publish and manage its needs and offers."))


def _move(actor: Any, listing: Listing, action: str) -> str:
    try:
        target = lifecycle.next_status(action, listing.status)
    except lifecycle.TransitionError:
        raise ValidationFailed(
            {"status": [_("Not possible while the listing is %(status)s.") % {"status": listing.get_status_display()}]}
        ) from None
    before, listing.status = listing.status, target.value
    _audit(action, actor, listing, {"before": {"status": before}, "after": {"status": target.value}})
    return target.value


def _expiry(listing: Listing, days: int) -> dt.date:
    until = timezone.localdate() + dt.timedelta(days=days)
    return min(until, listing.deadline) if listing.deadline else until


@transaction.atomic
def listing_create(*, actor: Any, organization: Organization, data: dict[str, Any]) -> Listing:
    """Draft a need or an offer for an organization in good standing."""
    # its standing held, then its rights checked again (`standing_held`): a withdrawal, or the sweep closing what a
    # member that left has open (`departed_sweep`), committed meanwhile would miss this listing (review 117)
    held = standing_held([organization.pk], actor=actor)
    _require_edit(actor, organization)
    if held.get(organization.pk) != Organization.Status.MEMBER:
        raise Forbidden(_("Only members in good standing publish needs and offers."))
    values = clean_listing(data)
    listing = Listing(organization=organization, created_by=actor if actor.is_authenticated else None, **values)
    listing.search_text = search_text_of(values)
    listing.save()
    _audit("created", actor, listing, {"before": {}, "after": snapshot(values)})
    return listing


@transaction.atomic
def listing_update(*, actor: Any, listing: Listing, data: dict[str, Any], if_match: str | None = None) -> Listing:
    """Change a listing that is not closed; before and after go to its history. `if_match`: the version the caller
    read (`common.versions`); one changed since (a change, a review, a renewal) is not changed."""
    listing = listing_locked(listing)
    _require_edit(actor, listing)
    version_check(listing, if_match)
    if listing.status == lifecycle.Status.CLOSED:
        raise ValidationFailed({"status": [_("A closed listing cannot change; publish a new one.")]})
    before = {f: getattr(listing, f) for f in LISTING_FIELDS}
    values = clean_listing(data, current=listing)
    changed = [k for k in LISTING_FIELDS if values[k] != before[k]]
    if not changed:
        return listing
    for name in changed:
        setattr(listing, name, values[name])
    listing.search_text = search_text_of(values)
    if listing.status == lifecycle.Status.PUBLISHED and "deadline" in changed:
        listing.expires_on = _expiry(listing, settings.AGGLO_LISTING_DAYS)
    listing.save()
    _audit("updated", actor, listing, {"before": snapshot(before, changed), "after": snapshot(values, changed)})
    hooks.listings_changed([listing.pk])
    return listing


@transaction.atomic
def listing_submit(*, actor: Any, listing: Listing) -> Listing:
    """Publish a draft, or send it to the operators first when the platform reviews listings."""
    standing_held([listing.organization_id], actor=actor)  # before the listing, as `listing_create`
    listing = listing_locked(listing)
    _require_edit(actor, listing)
    if settings.AGGLO_MARKET_REVIEW and not policy.is_operator(actor):
        _move(actor, listing, "submit_for_review")
    else:
        _publish(actor, listing, "submit")
    listing.save()
    hooks.listings_changed([listing.pk])
    return listing


def _publish(actor: Any, listing: Listing, action: str, days: int | None = None) -> None:
    _move(actor, listing, action)
    listing.published_at = listing.published_at or timezone.now()
    listing.expires_on = _expiry(listing, days or settings.AGGLO_LISTING_DAYS)


@transaction.atomic
def listing_review(*, actor: Any, listing: Listing, approve: bool, note: str = "") -> Listing:
    """An operator publishes a listing in review, or sends it back to its owner with a note."""
    listing = listing_locked(listing)
    if not policy.is_operator(actor):
        raise Forbidden(_("Only operators review listings."))
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationFailed({"note": [_("Say what the owner should change.")]})
    if approve:
        _publish(actor, listing, "approve")
    else:
        _move(actor, listing, "send_back")
    listing.review_note = note[:500]
    listing.save()
    hooks.listings_changed([listing.pk])
    return listing


@transaction.atomic
def listing_renew(*, actor: Any, listing: Listing, days: int | None = None) -> Listing:
    """Keep a published or expired listing up for another period (at most a year, never past its deadline)."""
    standing_held([listing.organization_id], actor=actor)  # before the listing, as `listing_create`
    listing = listing_locked(listing)
    _require_edit(actor, listing)
    days = days or settings.AGGLO_LISTING_DAYS
    if not 1 <= days <= MAX_RENEW_DAYS:
        raise ValidationFailed({"days": [_("Between 1 and %(max)d days.") % {"max": MAX_RENEW_DAYS}]})
    if listing.deadline and listing.deadline < timezone.localdate():
        raise ValidationFailed({"deadline": [_("The deadline has passed: set a new one first.")]})
    _publish(actor, listing, "renew", days)
    listing.save()
    hooks.listings_changed([listing.pk])
    return listing


@transaction.atomic
def listing_close(*, actor: Any, listing: Listing, outcome: str, note: str = "") -> Listing:
    """Close a listing with its outcome: fulfilled, partly, no suitable counterpart, or withdrawn."""
    listing = listing_locked(listing)
    _require_edit(actor, listing)
    if outcome not in Listing.Outcome.values:
        raise ValidationFailed(
            {"outcome": [_("Choose one of: %(choices)s.") % {"choices": choice_words(Listing.Outcome.choices)}]}
        )
    listing_closed(actor=actor, listing=listing, outcome=outcome, note=note)
    hooks.listings_changed([listing.pk])
    return listing


def listing_closed(*, actor: Any, listing: Listing, outcome: str, note: str = "") -> None:
    """Close a listing the caller has locked and checked (the owner's close, or the platform's, actor None, for a
    member that left): the transition recorded, its waiting responses lapse (their senders told)."""
    _move(actor, listing, "close")
    listing.outcome, listing.outcome_note = outcome, (note or "").strip()[:500]
    listing.closed_at = timezone.now()
    listing.save()
    interests_lapse(actor=actor, listing=listing)


@transaction.atomic
def listings_expire(*, today: dt.date | None = None) -> int:
    """Mark published listings past their expiry date as expired (their owners may renew them). Returns how many."""
    today = today or timezone.localdate()
    due = list(Listing.objects.select_for_update().filter(status=lifecycle.Status.PUBLISHED, expires_on__lt=today))
    for listing in due:
        _move(None, listing, "expire")
        listing.save(update_fields=["status", "updated_at"])
    hooks.listings_changed([listing.pk for listing in due])
    return len(due)
