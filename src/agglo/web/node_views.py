"""Member nodes for organization admins: register a system with its Ed25519 key, rotate and revoke keys, revoke
nodes, and issue node tokens (shown once)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from agglo.access import nodes
from agglo.access.selectors import administered_organizations, node_get, node_list
from agglo.access.tokens import api_token_revoke
from agglo.common.errors import DomainError, NotFound, ValidationFailed
from agglo.common.idempotency import answer_secret
from agglo.common.numbers import posted_id


@login_required
@require_http_methods(["GET", "POST"])
def node_index(request: HttpRequest) -> HttpResponse:
    """My organizations' nodes, and the form to register one."""
    orgs = administered_organizations(request.user)
    errors: dict[str, list[str]] = {}
    values = {"name": "", "public_key": "", "role": "member", "organization": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        org_id = values["organization"]
        if posted_id(org_id) not in {o.pk for o in orgs}:
            errors["organization"] = [_("Choose one of the organizations you administer.")]
        else:
            try:
                key = nodes.node_register(
                    actor=request.user,
                    organization_id=int(org_id),
                    name=values["name"],
                    public_key=values["public_key"],
                    role=values["role"],
                )
            except DomainError as exc:
                errors = exc.errors or {"name": [exc.message]}
            else:
                messages.success(request, _("Node registered; its key ID is %(key)s.") % {"key": key.key_id})
                return redirect("web:nodes")
    context = {"nodes": node_list(actor=request.user), "orgs": orgs, "errors": errors, "values": values}
    return render(request, "web/nodes.html", context, status=422 if errors else 200)


def _node_or_404(request: HttpRequest, pk: int) -> Any:
    try:
        return node_get(actor=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_POST
def node_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """add-key, revoke-key, revoke-token, revoke."""
    node = _node_or_404(request, pk)
    try:
        if action == "add-key":
            key = nodes.node_key_add(actor=request.user, node=node, public_key=request.POST.get("public_key", ""))
            messages.success(request, _("Key added; its key ID is %(key)s.") % {"key": key.key_id})
        elif action == "revoke-key":
            key = node.keys.filter(key_id=request.POST.get("key_id", "")).first()
            if key is None:
                raise ValidationFailed({"key_id": [_("No such key on this node.")]})
            nodes.node_key_revoke(actor=request.user, key=key)
            messages.success(request, _("Key revoked."))
        elif action == "revoke-token":
            token = node.tokens.filter(pk=posted_id(request.POST.get("token"))).first()
            if token is None:
                raise ValidationFailed({"token": [_("No such token on this node.")]})
            api_token_revoke(actor=request.user, token=token)
            messages.success(request, _("Token revoked."))
        elif action == "revoke":
            nodes.node_revoke(actor=request.user, node=node)
            messages.success(request, _("Node revoked: its keys and tokens no longer work."))
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.summary())
    return redirect("web:nodes")


@login_required
@require_POST
@answer_secret  # the same form sent again is told the token was issued, not given a second one
def node_token(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue a node token, shown once."""
    node = _node_or_404(request, pk)
    try:
        _token, clear = nodes.node_token_issue(
            actor=request.user,
            node=node,
            name=request.POST.get("name", ""),
            scope=request.POST.get("scope", "read"),
            days=request.POST.get("days", "30"),
        )
        messages.success(request, _("Copy the token now, it is not shown again: %(token)s") % {"token": clear})
    except DomainError as exc:
        messages.error(request, exc.summary())
    return redirect("web:nodes")
