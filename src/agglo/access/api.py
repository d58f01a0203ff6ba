"""API tokens, member nodes and people: a logged-in user manages their own tokens; organization admins register
nodes, rotate their keys, issue node tokens and revoke them, and invite people, change their roles and remove them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from agglo.access import nodes, people, policy
from agglo.access.models import ApiToken
from agglo.access.schemas import (
    InvitationIn,
    InvitationOut,
    KeyIn,
    KeyOut,
    MemberOut,
    NodeIn,
    NodeOut,
    NodeTokenIn,
    PeopleOut,
    RoleIn,
    TokenCreated,
    TokenIn,
    TokenOut,
    WhoAmI,
)
from agglo.access.selectors import invitation_get, membership_get, node_get, node_list, organization_people
from agglo.access.tokens import api_token_create, api_token_revoke
from agglo.common.errors import LoginRequired, NotFound
from agglo.common.idempotency import answer_secret

router = Router(tags=["access"])


def _user(request: HttpRequest) -> Any:
    if not request.auth.is_authenticated:
        raise LoginRequired(_("Log in (session or bearer token) to manage API tokens."))
    return request.auth


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
def token_list(request: HttpRequest) -> Any:
    return ApiToken.objects.filter(user=_user(request)).order_by("-created_at")


@router.post("/tokens", response={201: TokenCreated}, summary="Issue a token (shown once)")
@answer_secret
def token_create(request: HttpRequest, payload: TokenIn) -> Status:
    user = _user(request)
    token, clear = api_token_create(actor=user, user=user, name=payload.name)
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": clear})


@router.delete("/tokens/{int:token_id}", response={204: None}, summary="Revoke a token")
def token_revoke(request: HttpRequest, token_id: int) -> Status:
    token = ApiToken.objects.filter(pk=token_id, user=_user(request)).first()
    if token is None:
        raise NotFound(_("No token with id %(token_id)s.") % {"token_id": token_id})
    api_token_revoke(actor=request.auth, token=token)
    return Status(204, None)


@router.get("/whoami", response=WhoAmI, summary="Who the request acts as: user, node, organizations")
def whoami(request: HttpRequest) -> Any:
    user = request.auth
    node = getattr(request, "agglo_node", None)
    return {
        "username": user.get_username() if user.is_authenticated else None,
        "node_id": node.pk if node else None,
        "organizations": sorted(policy.organization_ids(user)),
    }


@router.get("/nodes", response=list[NodeOut], summary="Nodes of the organizations you administer")
def node_index(request: HttpRequest) -> Any:
    return node_list(actor=_user(request))


@router.post("/organizations/{int:org_id}/nodes", response={201: NodeOut}, summary="Register a node with its key")
def node_create(request: HttpRequest, org_id: int, payload: NodeIn) -> Status:
    key = nodes.node_register(
        actor=_user(request),
        organization_id=org_id,
        name=payload.name,
        public_key=payload.public_key,
        role=payload.role,
    )
    return Status(201, key.node)


@router.post("/nodes/{int:node_id}/keys", response={201: KeyOut}, summary="Add a key (rotate without downtime)")
def node_key_create(request: HttpRequest, node_id: int, payload: KeyIn) -> Status:
    node = node_get(actor=_user(request), pk=node_id)
    return Status(201, nodes.node_key_add(actor=request.auth, node=node, public_key=payload.public_key))


@router.delete("/nodes/{int:node_id}/keys/{key_id}", response={204: None}, summary="Revoke one key")
def node_key_delete(request: HttpRequest, node_id: int, key_id: str) -> Status:
    node = node_get(actor=_user(request), pk=node_id)
    key = node.keys.filter(key_id=key_id).first()
    if key is None:
        raise NotFound(_("No key %(key_id)s on node %(node_id)s.") % {"key_id": key_id, "node_id": node_id})
    nodes.node_key_revoke(actor=request.auth, key=key)
    return Status(204, None)


@router.delete("/nodes/{int:node_id}", response={204: None}, summary="Revoke a node, its keys and its tokens")
def node_delete(request: HttpRequest, node_id: int) -> Status:
    nodes.node_revoke(actor=request.auth, node=node_get(actor=_user(request), pk=node_id))
    return Status(204, None)


@router.delete("/nodes/{int:node_id}/tokens/{int:token_id}", response={204: None}, summary="Revoke one node token")
def node_token_revoke(request: HttpRequest, node_id: int, token_id: int) -> Status:
    node = node_get(actor=_user(request), pk=node_id)
    token = node.tokens.filter(pk=token_id).first()
    if token is None:
        raise NotFound(_("No token with id %(token_id)s.") % {"token_id": token_id})
    api_token_revoke(actor=request.auth, token=token)
    return Status(204, None)


@router.post("/nodes/{int:node_id}/tokens", response={201: TokenCreated}, summary="Issue a scoped, expiring node token")
@answer_secret
def node_token_create(request: HttpRequest, node_id: int, payload: NodeTokenIn) -> Status:
    node = node_get(actor=_user(request), pk=node_id)
    token, clear = nodes.node_token_issue(
        actor=request.auth, node=node, name=payload.name, scope=payload.scope, days=payload.days
    )
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": clear})


@router.get(
    "/organizations/{int:org_id}/people", response=PeopleOut, summary="People of an organization you administer"
)
def people_list(request: HttpRequest, org_id: int) -> Any:
    return organization_people(actor=_user(request), organization_id=org_id)


@router.post(
    "/organizations/{int:org_id}/invitations",
    response={201: InvitationOut},
    summary="Invite a person by e-mail (the link goes to the address only)",
)
def invitation_create(request: HttpRequest, org_id: int, payload: InvitationIn) -> Status:
    invitation = people.invitation_create(actor=_user(request), organization_id=org_id, data=payload.dict())
    return Status(201, invitation)


@router.delete("/invitations/{int:invitation_id}", response={204: None}, summary="Withdraw an invitation")
def invitation_delete(request: HttpRequest, invitation_id: int) -> Status:
    invitation = invitation_get(actor=_user(request), pk=invitation_id)
    people.invitation_revoke(actor=request.auth, invitation=invitation)
    return Status(204, None)


@router.patch("/memberships/{int:membership_id}", response=MemberOut, summary="Change a person's role")
def membership_update(request: HttpRequest, membership_id: int, payload: RoleIn) -> Any:
    membership = membership_get(actor=_user(request), pk=membership_id)
    if payload.role is None:
        return membership
    return people.member_role_set(actor=request.auth, membership=membership, role=payload.role)


@router.delete(
    "/memberships/{int:membership_id}", response={204: None}, summary="Remove a person, or leave (one's own)"
)
def membership_delete(request: HttpRequest, membership_id: int) -> Status:
    people.member_remove(actor=request.auth, membership=membership_get(actor=_user(request), pk=membership_id))
    return Status(204, None)
