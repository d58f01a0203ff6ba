"""Expressions of interest: a member answers a listing; the owner moves it on its board, accepts or declines."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Conflict, Forbidden, ValidationFailed
from agglo.common.language import Phrase, choice_words
from agglo.common.notify import notify
from agglo.ledger.entries import digest, sealed_facts
from agglo.ledger.services import entry_append, work_key
from agglo.market import hooks, lifecycle
from agglo.market.models import Interest, Listing
from agglo.market.services.locks import interest_locked, listing_locked
from agglo.registry.models import Organization
from agglo.registry.models.bilingual import Bilingual
from agglo.registry.services.standing import standing_held

LIMITS = {"message": 1000, "missing": 1000, "introduction": 1000}


def _audit(event: str, actor: Any, interest: Interest, payload: dict[str, Any], organization_id: int) -> None:
    record(
        f"market.interest_{event}",
        actor=actor,
        subject=interest,
        payload=payload,
        organization_id=organization_id,
        group="market",
    )


def _acting_org(actor: Any, organization_id: Any) -> Organization:
    active = policy.active_organization_ids(actor)
    if organization_id in (None, ""):
        if len(active) != 1:
            raise ValidationFailed({"organization": [_("Say which of your organizations this is for.")]})
        organization_id = next(iter(active))
    try:
        organization_id = int(organization_id)
    except (TypeError, ValueError):
        raise ValidationFailed({"organization": [_("Must be a whole number.")]}) from None
    if organization_id not in active:
        raise Forbidden(_("You may express interest only for your own organizations in good standing."))
    return Organization.objects.select_related("area").get(pk=organization_id)


@transaction.atomic
def interest_express(*, actor: Any, listing: Listing, data: dict[str, Any]) -> Interest:
    """Answer a published listing on behalf of one of the actor's organizations; its owner is notified."""
    organization = _acting_org(actor, data.get("organization"))
    # its standing held, then its rights checked again: a withdrawal committed meanwhile would miss this answer
    standing_held([organization.pk], actor=actor)
    organization = _acting_org(actor, organization.pk)
    listing = listing_locked(listing)  # so that it cannot close between this check and the answer's save
    if listing.status != lifecycle.Status.PUBLISHED:
        raise ValidationFailed({"listing": [_("This listing no longer takes responses.")]})
    if organization.pk == listing.organization_id:
        raise ValidationFailed({"organization": [_("Your organization published this listing.")]})
    if not lifecycle.region_allows(listing.region_rule, frozenset(listing.regions), organization.area_id):
        raise ValidationFailed({"organization": [_("The listing does not take counterparts from your region.")]})
    errors: dict[str, list[str]] = {
        k: [_("Unknown field.")] for k in data if k not in (*LIMITS, "cooperation", "organization")
    }
    if data.get("cooperation") not in Interest.Cooperation.values:
        errors["cooperation"] = [
            _("Choose one of: %(choices)s.") % {"choices": choice_words(Interest.Cooperation.choices)}
        ]
    values = {}
    for field, limit in LIMITS.items():
        value = data.get(field) or ""
        if not isinstance(value, str):
            errors[field] = [_("Must be text.")]
            continue
        value = value.strip()
        if len(value) > limit:
            errors[field] = [_("At most %(max)d characters (has %(n)d).") % {"max": limit, "n": len(value)}]
        values[field] = value
    if not values.get("message") and "message" not in errors:
        errors["message"] = [_("This field is required.")]
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            interest = Interest.objects.create(
                listing=listing, organization=organization, created_by=actor, cooperation=data["cooperation"], **values
            )
    except IntegrityError as exc:
        raise Conflict(
            _("Your organization already answered this listing."), errors={"listing": [_("Already answered.")]}
        ) from exc
    _audit(
        "expressed",
        actor,
        interest,
        {"listing": listing.pk, "cooperation": interest.cooperation},
        listing.organization_id,
    )
    notify(
        policy.organization_admins(listing.organization_id),
        verb="market.interest_expressed",
        text=Phrase(
            gettext_lazy("A member answered your listing “%(title)s”."),
            title=Bilingual(listing.title_zh, listing.title_en),
        ),
        link=f"/market/{listing.pk}/",
    )
    hooks.interest_event("interest", interest, actor)
    return interest


def _require_owner(actor: Any, interest: Interest, *, undecided: bool = True) -> None:
    if not policy.can_edit_organization(actor, interest.listing.organization_id):
        raise Forbidden(_("Only the listing's owner handles its responses."))
    if undecided and interest.status in lifecycle.DECIDED:
        raise ValidationFailed({"status": [_("This response was already decided.")]})


@transaction.atomic
def interest_advance(*, actor: Any, interest: Interest, status: str) -> Interest:
    """Move an undecided response along the owner's board: new → contacted → evaluated."""
    interest = interest_locked(interest)
    _require_owner(actor, interest)
    if status not in (lifecycle.InterestStatus.CONTACTED, lifecycle.InterestStatus.EVALUATED):
        raise ValidationFailed({"status": [_("Choose contacted or evaluated.")]})
    before, interest.status = interest.status, status
    interest.save(update_fields=["status", "updated_at"])
    _audit(
        "moved",
        actor,
        interest,
        {"before": {"status": before}, "after": {"status": status}},
        interest.listing.organization_id,
    )
    return interest


def _terms(interest: Interest) -> dict[str, Any]:
    """What the two sides agreed on, logged by its digest: the listing as published and the answer accepted."""
    listing = interest.listing
    return {
        "listing": {
            "id": listing.pk,
            "kind": listing.kind,
            "title": [listing.title_zh, listing.title_en],
            "description": [listing.description_zh, listing.description_en],
        },
        "interest": {
            "id": interest.pk,
            "organization": interest.organization_id,
            "cooperation": interest.cooperation,
            "message": interest.message,
            "missing": interest.missing,
        },
    }


@transaction.atomic
def interest_accept(*, actor: Any, interest: Interest) -> Interest:
    """Accept a response: both sides now see each other (an anonymous owner is revealed) and may start a case.
    Both sides' standing is held first: a suspension committed meanwhile is seen, and one after sees the
    acceptance."""
    held = standing_held([interest.listing.organization_id, interest.organization_id], actor=actor)
    interest = interest_locked(interest)
    _require_owner(actor, interest)
    if held.get(interest.organization_id) not in policy.PUBLIC_ORG_STATUSES:  # it would open the owner to it
        raise ValidationFailed(
            {
                "status": [
                    _("%(org)s is not a member in good standing at present: its response cannot be accepted now.")
                    % {"org": interest.organization.name}
                ]
            }
        )
    interest.status, interest.decided_at = lifecycle.InterestStatus.ACCEPTED, timezone.now()
    interest.save(update_fields=["status", "decided_at", "updated_at"])
    payload = {"listing": interest.listing_id, "organization": interest.organization_id}
    _audit("accepted", actor, interest, payload, interest.listing.organization_id)
    _audit("accepted", actor, interest, payload, interest.organization_id)
    owner = interest.listing.organization_id
    # who accepted whom, on what terms, is the two sides' business (an anonymous owner is named to the other side
    # only): the log holds it sealed under the interest's key, which the pages show to the two sides
    key = work_key(interest)
    entry_append(
        "market.interest_accepted",
        actor=actor,
        acting_org=owner,
        sealed_with=key,
        subject=interest,
        payload=sealed_facts({**payload, "owner": owner, "terms": digest(_terms(interest))}, key),
        parties=[owner, interest.organization_id],
    )
    notify(
        policy.organization_admins(interest.organization_id),
        verb="market.interest_accepted",
        text=Phrase(
            gettext_lazy("Your interest in “%(title)s” was accepted."),
            title=Bilingual(interest.listing.title_zh, interest.listing.title_en),
        ),
        link=f"/market/{interest.listing_id}/",
    )
    hooks.interest_event("acceptance", interest, actor)
    return interest


@transaction.atomic
def interest_decline(*, actor: Any, interest: Interest, reason: str) -> Interest:
    """Decline a response with a reason the other side reads."""
    interest = interest_locked(interest)
    _require_owner(actor, interest)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": [_("Give a reason.")]})
    interest.status, interest.decided_at = lifecycle.InterestStatus.DECLINED, timezone.now()
    interest.decline_reason = reason[:500]
    interest.save(update_fields=["status", "decided_at", "decline_reason", "updated_at"])
    _audit("declined", actor, interest, {"reason": interest.decline_reason}, interest.listing.organization_id)
    notify(
        policy.organization_admins(interest.organization_id),
        verb="market.interest_declined",
        text=Phrase(
            gettext_lazy("Your interest in “%(title)s” was declined: %(reason)s"),
            title=Bilingual(interest.listing.title_zh, interest.listing.title_en),
            reason=interest.decline_reason,
        ),
        link=f"/market/{interest.listing_id}/",
    )
    return interest


def interests_lapse(*, actor: Any, listing: Listing) -> int:
    """The responses still open when their listing closes are declined, and their senders told, so that nobody
    waits on a listing that is gone. Returns how many."""
    waiting = list(listing.interests.select_for_update().exclude(status__in=lifecycle.DECIDED))
    now = timezone.now()
    for interest in waiting:
        interest.status, interest.decided_at = lifecycle.InterestStatus.DECLINED, now
        interest.save(update_fields=["status", "decided_at", "updated_at"])
        _audit("declined", actor, interest, {"listing_closed": True}, listing.organization_id)
        notify(
            policy.organization_admins(interest.organization_id),
            verb="market.interest_lapsed",
            text=Phrase(
                gettext_lazy("“%(title)s” was closed, and your interest was not taken up."),
                title=Bilingual(listing.title_zh, listing.title_en),
            ),
            link=f"/market/{listing.pk}/",
        )
    return len(waiting)


# Kind of case an accepted interest starts, by the cooperation the member proposed.
CASE_KIND = {
    "joint_rnd": "joint_rnd",
    "investment": "co_investment",
    "supply": "outsourcing",
    "purchase": "outsourcing",
    "service": "outsourcing",
    "licensing": "alliance",
    "other": "alliance",
}


@transaction.atomic
def interest_case_draft(*, actor: Any, interest: Interest) -> Any:
    """Start a collaboration case from an accepted interest: led by the listing's owner, with the answering
    organization as a partner that confirms its own part, as every case partner does."""
    from agglo.profiles.services import case_create, participant_add

    interest = interest_locked(interest)
    _require_owner(actor, interest, undecided=False)
    if interest.status != lifecycle.InterestStatus.ACCEPTED:
        raise ValidationFailed({"status": [_("Accept the interest first.")]})
    listing = interest.listing
    case = case_create(
        actor=actor,
        organization=listing.organization,
        data={
            "title": listing.title[:200],
            "kind": CASE_KIND.get(interest.cooperation, "alliance"),
            "started_on": timezone.localdate().isoformat(),
            "description": "\n\n".join(
                p for p in (listing.description_zh or listing.description_en, interest.message) if p
            )[:4000],
            "visibility": "partners",
        },
    )
    participant_add(
        actor=actor,
        case=case,
        # what the partner puts in is for it to state; "what is still missing" was the question, not its input
        data={"organization": interest.organization_id, "role": "partner", "input_kind": "other"},
    )
    return case
