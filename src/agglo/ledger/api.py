"""REST endpoints of the transparency log. The entry and proof paths and fields are fixed: verifiers rely on them."""

from __future__ import annotations

import base64
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from agglo.common.errors import LoginRequired, ValidationFailed
from agglo.common.paging import LongLimit, Offset, page
from agglo.ledger import selectors, services
from agglo.ledger.models import Witness
from agglo.ledger.schemas import (
    CheckpointOut,
    ConsistencyOut,
    CosignatureIn,
    EntryOut,
    InclusionOut,
    MyEntryOut,
    ReceiptOut,
    WitnessIn,
    WitnessOut,
)

router = Router(tags=["ledger"])


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


@router.get("/entries/{int:index}", response=EntryOut, summary="One published entry, its exact bytes", auth=None)
def entry_get(request: HttpRequest, index: int) -> Any:
    entry = selectors.entry_get(index)
    return {"index": entry.index, "entry": base64.b64encode(bytes(entry.data)).decode()}


@router.get("/proofs/inclusion", response=InclusionOut, summary="RFC 9162 inclusion proof", auth=None)
def proof_inclusion(request: HttpRequest, index: int, size: int) -> Any:
    return {"index": index, "size": size, "hashes": _b64(selectors.inclusion_proof(index, size))}


@router.get(
    "/proofs/consistency", response=ConsistencyOut, summary="RFC 9162 consistency proof", auth=None, by_alias=True
)
def proof_consistency(request: HttpRequest, from_: int = Query(..., alias="from"), to: int = Query(...)) -> Any:
    return {"from": from_, "to": to, "hashes": _b64(selectors.consistency_proof(from_, to))}


@router.get("/checkpoints", response=list[CheckpointOut], summary="Every signed checkpoint after a size", auth=None)
def checkpoint_list(request: HttpRequest, after: int = -1, limit: LongLimit = 1000) -> Any:
    if not 1 <= limit <= 1000:  # as every list's limit: refused, not quietly changed
        raise ValidationFailed({"limit": [_("Must be between 1 and %(n)d.") % {"n": 1000}]})
    rows = selectors.checkpoint_list(after=after)[:limit]
    return [{"size": row.size, "note": selectors.served_note(row)} for row in rows]


@router.post("/cosignatures", response={201: CheckpointOut}, summary="A witness cosigns a checkpoint", auth=None)
def cosignature_add(request: HttpRequest, payload: CosignatureIn) -> Status:
    cosignature = services.cosignature_add(size=payload.size, line=payload.signature)
    row = cosignature.checkpoint
    return Status(201, {"size": row.size, "note": selectors.served_note(row)})


@router.get("/witnesses", response=list[WitnessOut], summary="The witnesses whose cosignatures are served", auth=None)
def witness_list(request: HttpRequest) -> Any:
    return Witness.objects.filter(active=True).order_by("name")


@router.post("/witnesses", response={201: WitnessOut}, summary="Register a witness key (operators)")
def witness_register(request: HttpRequest, payload: WitnessIn) -> Status:
    if not request.auth.is_authenticated:
        raise LoginRequired(_("Log in as an operator to register witnesses."))
    witness = services.witness_register(
        actor=request.auth, verifier_key=payload.verifier_key, organization_id=payload.organization_id
    )
    return Status(201, witness)


@router.get("/mine", response=list[MyEntryOut], summary="Entries about your organizations, newest first")
def my_entries(request: HttpRequest, response: HttpResponse, limit: LongLimit = 100, offset: Offset = 0) -> Any:
    if not request.auth.is_authenticated:
        raise LoginRequired(_("Log in to see your organizations' entries."))
    return page(selectors.entries_for(request.auth), response, limit=limit, offset=offset, most=1000)


@router.get(
    "/receipts/{int:index}", response=ReceiptOut, summary="A receipt for one of your entries: entry, proof, checkpoint"
)
def receipt(request: HttpRequest, index: int) -> Any:
    if not request.auth.is_authenticated:
        raise LoginRequired(_("Log in to download receipts."))
    return selectors.receipt(request.auth, index)
