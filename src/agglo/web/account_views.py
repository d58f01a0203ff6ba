"""A user's own account: whom they act for, how they log in, their API tokens and today's daily limits."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agglo.access.models import ApiToken
from agglo.access.selectors import account_of
from agglo.access.tokens import api_token_create, api_token_revoke
from agglo.common.errors import DomainError
from agglo.common.idempotency import answer_secret
from agglo.common.numbers import posted_id


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "web/account.html", {"account": account_of(request.user)})


@login_required
@require_POST
@answer_secret  # the same form sent again is told the token was issued, not given a second one
def token_issue(request: HttpRequest) -> HttpResponse:
    """A personal API token, shown once."""
    try:
        _token, clear = api_token_create(actor=request.user, user=request.user, name=request.POST.get("name", ""))
    except DomainError as exc:  # the form has one field: its message alone
        messages.error(request, next(iter((exc.errors or {}).get("name", [])), exc.summary()))
    else:
        messages.success(request, _("Copy the token now, it is not shown again: %(token)s") % {"token": clear})
    return redirect("web:account")


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=posted_id(str(pk)), user=request.user, node__isnull=True).first()
    if token is None:
        raise Http404
    try:
        revoked = api_token_revoke(actor=request.user, token=token)
    except DomainError as exc:
        messages.error(request, exc.summary())
    else:
        if revoked:  # a revoked token sent again says nothing new
            messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("web:account")
