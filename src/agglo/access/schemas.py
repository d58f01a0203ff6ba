from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Schema

from agglo.access.models import ApiToken, Node
from agglo.common.schemas import StrictIn, Whole, one_of


class TokenIn(StrictIn):
    name: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: Annotated[str, one_of(ApiToken.Scope)]
    node_id: int | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str


class NodeIn(StrictIn):
    name: str
    public_key: str  # Ed25519: 32 bytes in base64, or PEM
    role: Annotated[str, one_of(Node.Role)] = "member"


class KeyIn(StrictIn):
    public_key: str


class NodeTokenIn(StrictIn):
    name: str
    scope: Annotated[str, one_of(ApiToken.Scope)] = "read"
    days: Whole = 30


class KeyOut(Schema):
    key_id: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class NodeOut(Schema):
    id: int
    organization_id: int
    name: str
    role: Annotated[str, one_of(Node.Role)]
    created_at: datetime
    revoked_at: datetime | None
    keys: list[KeyOut]
    tokens: list[TokenOut]  # its tokens not yet revoked (expired ones included, until revoked)

    @staticmethod
    def resolve_keys(obj: Any) -> list[Any]:
        return list(obj.keys.all())

    @staticmethod
    def resolve_tokens(obj: Any) -> list[Any]:
        return [t for t in obj.tokens.all() if t.revoked_at is None]


class WhoAmI(Schema):
    username: str | None
    node_id: int | None
    organizations: list[int]
