"""The people of an organization: its admins invite them by e-mail, change their role and remove them; a person
accepts an invitation with a new account or the one that already uses the address, and may leave. An organization
always keeps an admin."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.access.models import Invitation, Membership
from agglo.common.audit import record
from agglo.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from agglo.common.language import language_remember, language_valid
from agglo.common.lines import ONE_LINE, is_one_line

INVITATION_DAYS = 7
INVITATIONS_PER_DAY = 50  # per organization
INVITATIONS_PER_ADDRESS = 3  # to one address from one organization
INVITATIONS_PER_ADDRESS_ALL = 10  # to one address from all organizations
EMAIL_MAX = 254


ROLE_WORDS = {
    Membership.Role.ADMIN: gettext_lazy("one of its admins"),
    Membership.Role.MEMBER: gettext_lazy("one of its members"),
}


def role_words(role: str) -> str:
    """The role as a sentence says it ("… to act for it as one of its admins")."""
    return str(ROLE_WORDS.get(role, role))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_admin(actor: Any, organization_id: int) -> None:
    if policy.is_node_account(actor):
        raise Forbidden(_("A node cannot manage its organization's people; its admins do."))
    if not policy.can_edit_organization(actor, organization_id):
        raise Forbidden(_("Only the organization's admins manage its people."))


def address_user(email: str) -> Any:
    """The account that logs in with, or is reached at, this address, or None."""
    users = get_user_model().objects
    return users.filter(username__iexact=email).first() or users.filter(email__iexact=email).first()


@transaction.atomic
def invitation_create(*, actor: Any, organization_id: int, data: dict[str, Any]) -> Invitation:
    """Invite a person by e-mail to act for the organization as an admin or a member. The link's token is made and
    mailed by the mail task, kept nowhere but as its hash. The admin is not told whether the address has an
    account."""
    _require_admin(actor, organization_id)
    errors: dict[str, list[str]] = {}
    email = str(data.get("email") or "").strip()
    name = str(data.get("name") or "").strip()
    role = str(data.get("role") or Membership.Role.MEMBER)
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter a valid e-mail address.")]
    else:
        if len(email) > EMAIL_MAX:  # the address's column; the validator takes up to 320
            errors["email"] = [_("At most %(max)d characters (has %(n)d).") % {"max": EMAIL_MAX, "n": len(email)}]
    if not 1 <= len(name) <= 150:
        errors["name"] = [_("Give the person's name, 1 to 150 characters.")]
    elif not is_one_line(name):
        errors["name"] = [str(ONE_LINE)]
    elif "://" in name or "www." in name.lower():  # the mail quotes it: a name, not a link to follow
        errors["name"] = [_("A person's name, without links.")]
    if role not in Membership.Role.values:
        errors["role"] = [_("Must be admin or member.")]
    if errors:
        raise ValidationFailed(errors)
    if Membership.objects.filter(organization_id=organization_id, user__email__iexact=email).exists() or (
        Membership.objects.filter(organization_id=organization_id, user__username__iexact=email).exists()
    ):
        raise Conflict(_("This person already acts for the organization."), errors={"email": [_("Already a member.")]})
    now = timezone.now()
    if Invitation.objects.filter(
        organization_id=organization_id,
        email__iexact=email,
        accepted_at=None,
        revoked_at=None,
        expires_at__gt=now,
    ).exists():
        raise Conflict(
            _("An invitation to this address is open; withdraw it first to send another."),
            errors={"email": [_("Already invited.")]},
        )
    _within_limits(organization_id, email, now)
    invitation = Invitation.objects.create(
        organization_id=organization_id,
        email=email,
        name=name,
        role=role,
        token_hash=secrets.token_hex(32),  # a stand-in until the invitation has its id, below
        language=get_language() if language_valid(get_language()) else "",
        invited_by=actor,
        expires_at=now + dt.timedelta(days=INVITATION_DAYS),
    )
    invitation.refresh_from_db(fields=["created_at"])  # as stored (a database may round it), as the task reads it
    invitation.token_hash = token_hash(invitation_token(invitation))
    invitation.save(update_fields=["token_hash"])
    record(
        "access.invited",
        actor=actor,
        subject=invitation,
        payload={"role": role},  # the address stays in the invitation, not in the history members read
        organization_id=organization_id,
    )
    from agglo.access.tasks import invitation_mail

    transaction.on_commit(partial(invitation_mail.enqueue, invitation.pk))
    return invitation


def _within_limits(organization_id: int, email: str, now: dt.datetime) -> None:
    """Invitations are mail the platform sends to any address on a member's word: so many a day per organization,
    and so many a day to one address, that they cannot be used to flood an inbox (recheck 54 N6)."""
    day = now - dt.timedelta(days=1)
    recent = Invitation.objects.filter(created_at__gt=day)
    if recent.filter(organization_id=organization_id).count() >= INVITATIONS_PER_DAY:
        raise ValidationFailed(
            {
                "email": [
                    _("At most %(n)d invitations a day per organization: try again tomorrow.")
                    % {"n": INVITATIONS_PER_DAY}
                ]
            }
        )
    to_address = recent.filter(email__iexact=email)
    # one organization's re-sends are bounded tightly; all together more loosely, so that another organization's
    # invitations cannot use up this one's (recheck 55)
    for sent, limit in (
        (to_address.filter(organization_id=organization_id), INVITATIONS_PER_ADDRESS),
        (to_address, INVITATIONS_PER_ADDRESS_ALL),
    ):
        if sent.count() >= limit:
            raise ValidationFailed(
                {"email": [_("This address was invited %(n)d times in a day: try again tomorrow.") % {"n": limit}]}
            )


def invitation_token(invitation: Invitation) -> str:
    """The token of the invitation's link: a keyed digest of the invitation (the platform's secret key, its id and
    the moment it was made, to the microsecond), so that the mail task makes it again on every attempt and a link
    mailed by an attempt that seemed to fail still works (recheck 55), while the token is kept nowhere: not in the
    task's arguments (recheck 54 N8), only as its hash. Changing the secret key ends open invitations, as it ends
    password-reset links."""
    made = f"{invitation.pk}:{invitation.created_at.isoformat()}"
    return salted_hmac("agglo.access.invitation", made, algorithm="sha256").hexdigest()


@transaction.atomic
def invitation_revoke(*, actor: Any, invitation: Invitation) -> Invitation:
    _require_admin(actor, invitation.organization_id)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationFailed({"invitation": [_("The invitation was accepted already.")]})
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record("access.invitation_revoked", actor=actor, subject=invitation, organization_id=invitation.organization_id)
    return invitation


def invitation_open(token: str) -> Invitation | None:
    """The invitation this token opens, if it is neither used, withdrawn nor expired, and its sender is still an
    admin of the organization."""
    if not token or len(token) > 100:
        return None
    found = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=token_hash(token), accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())
        .first()
    )
    return found if found is not None and inviter_still_admin(found) else None


def _locked_open(token: str) -> Invitation:
    found = invitation_open(token)
    invitation = Invitation.objects.select_for_update().filter(pk=found.pk if found else None).first()
    if invitation is None or invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= timezone.now():
        raise ValidationFailed(
            {"invitation": [_("This invitation is no longer open: it was used, withdrawn or has expired.")]}
        )
    return invitation


def inviter_still_admin(invitation: Invitation) -> bool:
    """An invitation stands only while whoever sent it may still manage the organization's people (its admin, or
    an operator): one removed meanwhile must not keep a seat through an address it holds (recheck 54 N5)."""
    inviter = invitation.invited_by
    if inviter is None:
        return False
    policy.forget(inviter)
    return policy.can_edit_organization(inviter, invitation.organization_id)  # its admin, or an operator


def _join(invitation: Invitation, user: Any) -> Membership:
    membership, _created = Membership.objects.get_or_create(
        user=user, organization_id=invitation.organization_id, defaults={"role": invitation.role}
    )
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record(
        "access.invitation_accepted",
        actor=user,
        subject=invitation,
        payload={"role": membership.role},
        organization_id=invitation.organization_id,
    )
    policy.forget(user)
    return membership


@transaction.atomic
def invitation_accept_new(*, token: str, password: str, password_again: str) -> Any:
    """Accept with a new account, whose login is the invited address; returns the user."""
    invitation = _locked_open(token)
    if address_user(invitation.email) is not None:
        raise ValidationFailed({"password": [_("An account uses this address already: log in with it to accept.")]})
    user = get_user_model()(
        username=invitation.email.lower(), email=invitation.email.lower(), first_name=invitation.name[:150]
    )
    errors: dict[str, list[str]] = {}
    if not password:
        errors["password"] = [_("Choose a password.")]
    elif password != password_again:
        errors["password_again"] = [_("The two passwords differ.")]
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            errors["password"] = [str(m) for m in exc.messages]
    if errors:
        raise ValidationFailed(errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # made from another invitation at the same moment
        raise ValidationFailed(
            {"password": [_("An account uses this address already: log in with it to accept.")]}
        ) from exc
    _join(invitation, user)
    if invitation.language:  # the pages in the language the invitation was written in, until the person chooses
        language_remember(user, invitation.language)
    return user


@transaction.atomic
def invitation_accept(*, actor: Any, token: str) -> Membership:
    """Accept as the signed-in account, which must be the one that uses the invited address."""
    invitation = _locked_open(token)
    if policy.is_node_account(actor) or address_user(invitation.email) != actor:
        raise Forbidden(
            _("This invitation is for %(email)s: log in with the account that uses it.") % {"email": invitation.email}
        )
    return _join(invitation, actor)


def _withdraw_sent(membership: Membership) -> None:
    """The open invitations a person sent for the organization, withdrawn as it stops being an admin there: they
    could no longer be accepted, and would keep their addresses from being invited again (recheck 55)."""
    Invitation.objects.filter(
        organization_id=membership.organization_id, invited_by_id=membership.user_id, accepted_at=None, revoked_at=None
    ).update(revoked_at=timezone.now())


def _still_admin(actor: Any, organization_id: int) -> None:
    """The actor's rights read again under the organization's lock: removed meanwhile, it changes nothing."""
    policy.forget(actor)
    _require_admin(actor, organization_id)


def _admins_left(organization_id: int, without: Membership) -> int:
    """Admins other than `without`, people not nodes (read under the organization's lock, see `_person`)."""
    admins = Membership.objects.filter(
        organization_id=organization_id, role=Membership.Role.ADMIN, user__node__isnull=True, user__is_active=True
    ).exclude(pk=without.pk)
    return admins.count()


def _person(membership: Membership) -> Membership:
    """The membership read again after its organization's lock: every change of a person's role or membership
    takes it first, so that two at once can neither both take away the last admin nor wait for each other."""
    organizations = Membership._meta.get_field("organization").related_model._default_manager
    list(organizations.select_for_update().filter(pk=membership.organization_id).values_list("pk", flat=True))
    found = Membership.objects.select_related("user").filter(pk=membership.pk).first()
    if found is None:  # removed meanwhile
        raise NotFound(_("No membership with id %(id)s.") % {"id": membership.pk})
    membership = found
    if policy.is_node_account(membership.user):
        raise ValidationFailed({"membership": [_("This is a node's account; manage it on the nodes page.")]})
    return membership


@transaction.atomic
def member_role_set(*, actor: Any, membership: Membership, role: str) -> Membership:
    _require_admin(actor, membership.organization_id)
    if role not in Membership.Role.values:
        raise ValidationFailed({"role": [_("Must be admin or member.")]})
    membership = _person(membership)
    _still_admin(actor, membership.organization_id)
    if membership.role == role:
        return membership
    if role == Membership.Role.MEMBER and not _admins_left(membership.organization_id, membership):
        raise ValidationFailed({"role": [_("The organization would have no admin left: make another admin first.")]})
    before, membership.role = membership.role, role
    membership.save(update_fields=["role"])
    if role != Membership.Role.ADMIN:
        _withdraw_sent(membership)
    record(
        "access.member_role_changed",
        actor=actor,
        subject=membership,
        payload={"before": before, "after": role},
        organization_id=membership.organization_id,
    )
    policy.forget(membership.user)
    return membership


@transaction.atomic
def member_remove(*, actor: Any, membership: Membership) -> None:
    """An admin removes a person, or a person leaves; the last admin does neither."""
    leaving = membership.user_id == getattr(actor, "pk", None)
    if not leaving:
        _require_admin(actor, membership.organization_id)
    membership = _person(membership)
    if not leaving:
        _still_admin(actor, membership.organization_id)
    if membership.role == Membership.Role.ADMIN and not _admins_left(membership.organization_id, membership):
        raise ValidationFailed(
            {"membership": [_("The organization would have no admin left: make another admin first.")]}
        )
    record(
        "access.member_left" if leaving else "access.member_removed",
        actor=actor,
        subject=membership,
        payload={"role": membership.role},
        organization_id=membership.organization_id,
    )
    _withdraw_sent(membership)
    membership.delete()
    policy.forget(membership.user)
