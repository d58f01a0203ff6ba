"""Writes to the transparency log: append entries, publish checkpoints, accept witnesses' cosignatures."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.common.audit import record
from agglo.common.errors import Conflict, Forbidden, ValidationFailed
from agglo.ledger import checkpoint as checkpoint_format
from agglo.ledger import merkle, note
from agglo.ledger.entries import Entry, EntryError, sealed_ref
from agglo.ledger.keys import log_signer, origin
from agglo.ledger.models import (
    Cosignature,
    EntryParty,
    LogEntry,
    LogHead,
    SignedCheckpoint,
    TreeNode,
    Witness,
    node_key,
)
from agglo.ledger.store import LedgerIntegrityError, latest, opened, read_nodes
from agglo.ledger.wording import note_fault

logger = logging.getLogger("agglo.ledger")

# Entries integrated per transaction when catching up, so appenders never wait long on the head.
INTEGRATE_CHUNK = 20_000
# How far in the future a cosignature's time may be, for clock skew.
COSIGNATURE_SKEW_S = 300


def actor_ref(actor: Any, organization_id: int | None = None) -> str:
    """Who acted, as the log names it: the acting organization, an operator, or the platform; never a person."""
    from agglo.access import policy

    if organization_id is not None:
        return f"org:{organization_id}"
    if getattr(actor, "is_authenticated", False) and policy.is_operator(actor):
        return "operator"
    return "system"


def subject_ref(subject: models.Model | str) -> str:
    return subject if isinstance(subject, str) else f"{subject._meta.label_lower}:{subject.pk}"


def _head() -> LogHead:
    LogHead.objects.get_or_create(pk=1)
    return LogHead.objects.select_for_update().get(pk=1)


def entries_append(items: Sequence[tuple[Entry, Iterable[int]]], records: Sequence[str] = ()) -> list[int]:
    """Append entries (with the organizations each is about, and optionally the record each concerns, as
    `LogEntry.record`) in the caller's transaction; returns their indexes.

    The head row's lock orders appenders, so indexes are dense and follow commit order. It is held until the
    caller's transaction ends and every appender on the platform waits for it: append last, after any slow work
    and any other lock the transaction takes (see `factory.services.work.audit_step`)."""
    if not items:
        return []
    encoded = [entry.canonical() for entry, _orgs in items]  # before taking the lock
    with transaction.atomic():
        head = _head()
        first = head.next_index
        now = timezone.now()
        rows, parties = [], []
        for offset, ((entry, orgs), data) in enumerate(zip(items, encoded, strict=True)):
            index = first + offset
            record = records[offset] if records else ""
            rows.append(
                LogEntry(index=index, data=data, type=entry.type, subject=entry.subject, logged_at=now, record=record)
            )
            parties.extend(EntryParty(entry_id=index, organization_id=org) for org in sorted(set(orgs)))
        LogEntry.objects.bulk_create(rows, batch_size=2000)
        EntryParty.objects.bulk_create(parties, batch_size=2000)
        head.next_index = first + len(items)
        head.save(update_fields=["next_index"])
        if settings.AGGLO_LEDGER_PUBLISH == "commit":
            transaction.on_commit(_publish_after_commit)
    return list(range(first, first + len(items)))


def work_key(work: models.Model) -> str:
    """The hex key that seals the log's entries about one piece of work (its `text_key`): made when first needed
    and kept on the row, to be shown to the work's parties and nobody else, so that they can check the log."""
    if not work.text_key:  # type: ignore[attr-defined]
        rows = type(work).objects.filter(pk=work.pk)  # type: ignore[attr-defined]
        # set only where none is yet, then read back: of two first entries at once, both seal with one key
        rows.filter(text_key="").update(text_key=secrets.token_hex(16))
        work.text_key = rows.values_list("text_key", flat=True).get()  # type: ignore[attr-defined]
    return work.text_key  # type: ignore[attr-defined]


def entry_append(
    event: str,
    *,
    actor: Any,
    subject: models.Model | str,
    payload: dict[str, Any],
    parties: Iterable[int] = (),
    acting_org: int | None = None,
    sealed_with: str = "",
) -> int:
    """Log one event that others rely on, in the caller's transaction; returns its index. The arguments are
    `entry_made`'s."""
    entry, orgs, record = entry_made(
        event,
        actor=actor,
        subject=subject,
        payload=payload,
        parties=parties,
        acting_org=acting_org,
        sealed_with=sealed_with,
    )
    return entries_append([(entry, orgs)], records=[record])[0]


def entry_made(
    event: str,
    *,
    actor: Any,
    subject: models.Model | str,
    payload: dict[str, Any],
    parties: Iterable[int] = (),
    acting_org: int | None = None,
    sealed_with: str = "",
) -> tuple[Entry, list[int], str]:
    """One event's entry, with the organizations it is about and the record it concerns, for `entries_append`
    (several at once take the log's head once).

    `actor` is the user (named in the log only as `acting_org`, "operator" or "system"); `parties` are the
    organizations the entry is about; the payload holds ids, numbers and digests (see `entries.Entry`). With
    `sealed_with` (a hex key only the parties hold) the acting organization is named as `party:<keyed digest>` and
    the subject as `<kind>:<keyed digest of kind:id>`."""
    who, record = actor_ref(actor, acting_org), subject_ref(subject)
    about = record
    if sealed_with and acting_org is not None:
        who = sealed_ref("party", who, sealed_with)
    if sealed_with:  # an id in the clear would link the entries of one piece of work to those who can name it
        about = sealed_ref(record.partition(":")[0], record, sealed_with)
    try:
        entry = Entry(event, timezone.now(), who, about, payload)
        entry.canonical()
    except EntryError as exc:
        # A programming error, not the user's: the caller built a bad payload.
        raise ValueError(f"ledger entry {event}: {exc}") from exc
    return entry, list(parties), record


def _publish_after_commit() -> None:
    # The change itself is committed; a checkpoint that cannot be made now is made by the next publish.
    try:
        publish_all()
    except LedgerIntegrityError:
        logger.critical("the log refused to publish a checkpoint", exc_info=True)
    except Exception:
        logger.exception("no checkpoint could be published; `agglo ledger publish` will catch up")


def checkpoint_publish(*, limit: int = INTEGRATE_CHUNK) -> SignedCheckpoint | None:
    """Hash appended entries into the tree and sign a checkpoint for the new size.

    The new tree must be consistent with the last signed checkpoint, proven from the stored nodes and checked with
    the RFC 9162 verifier, before anything is signed; otherwise LedgerIntegrityError and nothing is published.
    Returns the new checkpoint, or None when there was nothing new."""
    with transaction.atomic():
        head = _head()
        size, target = head.tree_size, min(head.next_index, head.tree_size + limit)
        last = latest()
        if last is not None and target == last.size:
            return None
        edge = merkle.CompactRange.at(size, read_nodes)
        data = (
            LogEntry.objects.filter(index__gte=size, index__lt=target).order_by("index").values_list("data", flat=True)
        )
        nodes = edge.extend(merkle.leaf_hash(bytes(d)) for d in data.iterator(chunk_size=2000))
        if edge.size != target:
            raise LedgerIntegrityError(f"entries between {size} and {target} are missing")
        TreeNode.objects.bulk_create(
            [TreeNode(key=node_key(level, index), hash=h) for (level, index), h in nodes], batch_size=5000
        )
        new_root = edge.root()
        if last is not None and last.size > 0:
            previous = opened(last)
            proof = merkle.consistency_proof(previous.size, target, read_nodes)
            try:
                merkle.verify_consistency(previous.size, target, previous.root, new_root, proof)
            except merkle.ProofError as exc:
                raise LedgerIntegrityError(
                    f"size {target} is not consistent with checkpoint {last.size}: {exc}"
                ) from None
        body = checkpoint_format.Checkpoint(origin(), target, new_root).body()
        row = SignedCheckpoint.objects.create(size=target, root=new_root, note=note.sign(body, [log_signer()]))
        head.tree_size = target
        head.save(update_fields=["tree_size"])
    return row


def publish_all() -> SignedCheckpoint | None:
    """Publish until every appended entry is covered (in chunks); returns the last checkpoint made."""
    made = None
    while (row := checkpoint_publish()) is not None:
        made = row
    return made


def publish_forever(every_s: float, *, stop: Any = None) -> None:
    """The fixed-interval publisher (`agglo ledger publish --every S`); `stop` is an optional threading.Event."""
    while stop is None or not stop.is_set():
        started = time.monotonic()
        try:
            publish_all()
        except LedgerIntegrityError:
            logger.critical("the log refused to publish a checkpoint", exc_info=True)
        time.sleep(max(0.0, every_s - (time.monotonic() - started)))


@transaction.atomic
def witness_register(*, actor: Any, verifier_key: str, organization_id: int | None = None) -> Witness:
    """Accept cosignatures from a witness key (operators only)."""
    from agglo.access import policy

    if not policy.is_operator(actor):
        raise Forbidden(_("Only operators register witnesses."))
    try:
        verifier = note.Verifier.parse(verifier_key)
    except note.NoteError as exc:
        why = note_fault(exc)
        raise ValidationFailed({"verifier_key": [_("Not a valid verifier key: %(why)s.") % {"why": why}]}) from None
    if verifier.sig_type != note.COSIGNATURE_V1:
        raise ValidationFailed({"verifier_key": [_("A witness key must be a cosignature/v1 key (type 0x04).")]})
    # one public key is one witness, whatever its name: a cosignature does not sign the name, so a second name
    # for a key would let anyone show its signature twice (review 49 M1)
    same_key = "+" + verifier.encode().rsplit("+", 1)[1]
    if Witness.objects.filter(models.Q(name=verifier.name) | models.Q(verifier_key__endswith=same_key)).exists():
        raise Conflict(_("This witness is already registered."), errors={"verifier_key": [_("Already registered.")]})
    if (
        organization_id is not None
        and not apps.get_model("registry", "Organization").objects.filter(pk=organization_id).exists()
    ):
        raise ValidationFailed({"organization_id": [_("No organization with id %(pk)s.") % {"pk": organization_id}]})
    witness = Witness.objects.create(
        name=verifier.name, verifier_key=verifier.encode(), organization_id=organization_id
    )
    record("ledger.witness_registered", actor=actor, subject=witness, payload={"key": witness.verifier_key})
    return witness


@transaction.atomic
def cosignature_add(*, size: int, line: str) -> Cosignature:
    """Store a registered witness's cosignature of the checkpoint of `size`; the signature is the credential."""
    row = SignedCheckpoint.objects.filter(size=size).first()
    if row is None:
        raise ValidationFailed({"size": [_("No checkpoint of this size was published.")]})
    body = opened(row).body()
    try:
        signature = note.parse(body + "\n" + line.strip() + "\n").signatures[0]
    except note.NoteError as exc:
        why = note_fault(exc)
        raise ValidationFailed({"signature": [_("Not a valid signature line: %(why)s.") % {"why": why}]}) from None
    witnesses = list(Witness.objects.filter(name=signature.name, active=True))
    witness = next((w for w in witnesses if note.Verifier.parse(w.verifier_key).key_id == signature.key_id), None)
    if witness is None:
        raise Forbidden(_("The signature is not by a registered witness."))
    try:
        signed = note.verify_cosignature(body, signature, note.Verifier.parse(witness.verifier_key))
    except note.NoteError as exc:
        logger.error("witness %s sent a cosignature that does not verify for size %s", witness.name, size)
        why = note_fault(exc)
        raise ValidationFailed({"signature": [_("The signature does not verify: %(why)s.") % {"why": why}]}) from None
    if signed > time.time() + COSIGNATURE_SKEW_S:
        raise ValidationFailed({"signature": [_("The cosignature is dated in the future.")]})
    cosignature, _created = Cosignature.objects.update_or_create(
        checkpoint=row,
        witness=witness,
        defaults={"line": signature.line(), "signed_at": dt.datetime.fromtimestamp(signed, tz=dt.UTC)},
    )
    return cosignature
