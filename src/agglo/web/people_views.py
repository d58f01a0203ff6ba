"""An organization's people, for its admins: invite by e-mail, change roles, remove; and the page an invitation's
link opens, where the invited person accepts with a new account or the one that uses the address."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from agglo.access import people, policy
from agglo.access.models import Membership
from agglo.access.selectors import administered_organizations, invitation_get, membership_get, organization_people
from agglo.common.errors import DomainError, NotFound
from agglo.common.numbers import posted_id
from agglo.registry.models import Organization


def _roster(user: Any, orgs: list[Organization]) -> list[dict[str, Any]]:
    """Per organization: its people and its open invitations."""
    rows = []
    for o in orgs:
        people_of = organization_people(actor=user, organization_id=o.pk)
        rows.append({"organization": o, "members": people_of.members, "invitations": people_of.invitations})
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def people_index(request: HttpRequest) -> HttpResponse:
    """The people of the organizations I administer, and the form to invite one."""
    orgs = administered_organizations(request.user)
    if not orgs or policy.is_node_account(request.user):
        raise Http404
    errors: dict[str, list[str]] = {}
    values = {"organization": str(orgs[0].pk), "email": "", "name": "", "role": Membership.Role.MEMBER}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        org_id = posted_id(values["organization"])
        if org_id not in {o.pk for o in orgs}:
            errors["organization"] = [_("Choose one of the organizations you administer.")]
        else:
            try:
                invitation = people.invitation_create(actor=request.user, organization_id=org_id, data=values)
            except DomainError as exc:
                errors = exc.errors or {"email": [exc.message]}
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s; the link in it is open for %(days)d days.")
                    % {"email": invitation.email, "days": people.INVITATION_DAYS},
                )
                return redirect("web:people")
    context = {
        "roster": _roster(request.user, orgs),
        "orgs": orgs,
        "errors": errors,
        "values": values,
        "me": request.user,
        "now": timezone.now(),
    }
    return render(request, "web/people.html", context, status=422 if errors else 200)


@login_required
@require_POST
def member_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """make-admin, make-member or remove (an admin's actions, or a person leaving)."""
    try:
        membership = membership_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    own = membership.user_id == request.user.pk
    try:
        if action in ("make-admin", "make-member"):
            role = Membership.Role.ADMIN if action == "make-admin" else Membership.Role.MEMBER
            people.member_role_set(actor=request.user, membership=membership, role=role)
            messages.success(request, _("Role changed."))
        elif action == "remove":
            people.member_remove(actor=request.user, membership=membership)
            messages.success(request, _("You left the organization.") if own else _("Removed."))
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.summary())
    policy.forget(request.user)
    return redirect("web:people" if policy.administered_organization_ids(request.user) and not own else "web:account")


@login_required
@require_POST
def invitation_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        invitation = invitation_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    try:
        people.invitation_revoke(actor=request.user, invitation=invitation)
        messages.success(request, _("Invitation withdrawn; its link no longer works."))
    except DomainError as exc:
        messages.error(request, exc.summary())
    return redirect("web:people")


@require_http_methods(["GET", "POST"])
def invitation_page(request: HttpRequest, token: str) -> HttpResponse:
    """Accept an invitation: with a new account whose login is the invited address, or signed in as the account
    that uses it."""
    invitation = people.invitation_open(token)
    if invitation is None:
        return render(request, "web/invitation.html", {"closed": True}, status=404)
    # in the invitation's language, as its mail was, unless this browser chose one (recheck 54 N9)
    if invitation.language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(invitation.language)
        request.LANGUAGE_CODE = translation.get_language()
    existing = people.address_user(invitation.email)
    mine = request.user.is_authenticated and existing == request.user
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            if mine:
                people.invitation_accept(actor=request.user, token=token)
            elif existing is None and not request.user.is_authenticated:
                user = people.invitation_accept_new(
                    token=token,
                    password=request.POST.get("password", ""),
                    password_again=request.POST.get("password_again", ""),
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                raise Http404
        except DomainError as exc:
            errors = exc.errors or {"password": [exc.message]}
        else:
            messages.success(
                request, _("Welcome: you now act for %(organization)s.") % {"organization": invitation.organization}
            )
            return redirect("profiles:organization", pk=invitation.organization_id)
    context = {
        "invitation": invitation,
        "role": people.role_words(invitation.role),
        "existing": existing is not None,
        "mine": mine,
        "errors": errors,
        "login_next": f"{reverse('web:login')}?next={request.path}",
    }
    return render(request, "web/invitation.html", context, status=422 if errors else 200)
