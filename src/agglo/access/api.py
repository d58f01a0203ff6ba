"""API tokens for machine clients: a logged-in user issues, lists and revokes their own."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from agglo.access.models import ApiToken
from agglo.access.schemas import TokenCreated, TokenIn, TokenOut
from agglo.access.tokens import api_token_create, api_token_revoke
from agglo.common.errors import Forbidden, NotFound

router = Router(tags=["access"])


def _user(request: HttpRequest) -> Any:
    if not request.auth.is_authenticated:
        raise Forbidden("Log in (session or bearer token) to manage API tokens.")
    return request.auth


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
def token_list(request: HttpRequest) -> Any:
    return ApiToken.objects.filter(user=_user(request)).order_by("-created_at")


@router.post("/tokens", response={201: TokenCreated}, summary="Issue a token (shown once)")
def token_create(request: HttpRequest, payload: TokenIn) -> Status:
    user = _user(request)
    token, clear = api_token_create(actor=user, user=user, name=payload.name)
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": clear})


@router.delete("/tokens/{int:token_id}", response={204: None}, summary="Revoke a token")
def token_revoke(request: HttpRequest, token_id: int) -> Status:
    token = ApiToken.objects.filter(pk=token_id, user=_user(request)).first()
    if token is None:
        raise NotFound(f"No token with id {token_id}.")
    api_token_revoke(actor=request.auth, token=token)
    return Status(204, None)
