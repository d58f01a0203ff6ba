"""API shapes of the transparency log: exactly the field names outside verifiers rely on."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from agglo.common.schemas import StrictIn


class EntryOut(Schema):
    index: int
    entry: str  # base64 of the exact leaf bytes


class InclusionOut(Schema):
    index: int
    size: int
    hashes: list[str]


class ConsistencyOut(Schema):
    from_: int = Field(alias="from")
    to: int
    hashes: list[str]


class CheckpointOut(Schema):
    size: int
    note: str  # the signed note with cosignatures


class CosignatureIn(StrictIn):
    size: int
    signature: str  # one note signature line: "— <witness name> <base64>"


class WitnessIn(StrictIn):
    verifier_key: str
    organization_id: int | None = None


class WitnessOut(Schema):
    id: int
    name: str
    verifier_key: str
    active: bool


class MyEntryOut(Schema):
    index: int
    type: str
    subject: str
    logged_at: datetime
    record: str = Field(
        description="The record the entry is about as the platform names it (`factory.allocation:12`), also when "
        "`subject` is sealed; not part of the logged bytes"
    )


class ReceiptOut(Schema):
    """A receipt that verifies without the platform: the entry, its inclusion proof and the checkpoint covering it."""

    format: str = Field(description="agglo-ledger-receipt/v1")
    origin: str
    log_key: str = Field(description="the log's Ed25519 verifier key (C2SP signed-note vkey)")
    index: int
    entry: str = Field(description="the entry's bytes, base64")
    size: int = Field(description="the size of the tree the proof is for")
    inclusion_proof: list[str] = Field(description="the RFC 9162 audit path, each hash base64")
    checkpoint: str = Field(description="the C2SP signed note of that tree, with witnesses' cosignatures")
