from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Schema

from agglo.access.models import ApiToken, Membership, Node
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


class MemberOut(Schema):
    id: int  # the membership's: PATCH or DELETE /memberships/{id}
    username: str
    name: str
    email: str
    role: Annotated[str, one_of(Membership.Role)]
    joined_at: datetime

    @staticmethod
    def resolve_username(obj: Any) -> str:
        return str(obj.user.get_username())

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.user.get_full_name())

    @staticmethod
    def resolve_email(obj: Any) -> str:
        return str(obj.user.email)


class InvitationIn(StrictIn):
    email: str
    name: str
    role: Annotated[str, one_of(Membership.Role)] = "member"


class InvitationOut(Schema):
    id: int
    email: str
    name: str
    role: Annotated[str, one_of(Membership.Role)]
    created_at: datetime
    expires_at: datetime  # the mailed link opens until then


class PeopleOut(Schema):
    organization_id: int
    members: list[MemberOut]
    invitations: list[InvitationOut]  # not accepted or withdrawn (expired ones included)


class RoleIn(StrictIn):
    role: Annotated[str, one_of(Membership.Role)] | None = None  # a change names what it changes
