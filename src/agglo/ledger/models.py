"""The transparency log's storage: entries, the tree's complete nodes, signed checkpoints and cosignatures.

Nothing here is trusted by itself: checkpoints are signed, and `agglo ledger audit` recomputes the rest.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# Stored node keys pack (level, index) into one integer: level · 2^48 + index.
LEVEL_SHIFT = 48


def node_key(level: int, index: int) -> int:
    return (level << LEVEL_SHIFT) | index


class LogHead(models.Model):
    """The one row that orders appends (its lock) and says how far the tree is built."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    next_index = models.BigIntegerField(default=0)
    tree_size = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("log head")

    def __str__(self) -> str:
        return f"{self.tree_size} of {self.next_index} hashed"


class LogEntry(models.Model):
    """One logged entry: the exact canonical bytes, at its index in the log."""

    index = models.BigIntegerField(_("index"), primary_key=True)
    data = models.BinaryField(_("entry bytes"))
    # Copies of what the bytes say, for listing and search only; the bytes are what counts.
    type = models.CharField(_("type"), max_length=80, db_index=True)
    subject = models.CharField(_("subject"), max_length=120, db_index=True)  # a sealed one is kind: + 64 hex
    logged_at = models.DateTimeField(_("logged at"))
    # The record the entry is about as the platform names it (`factory.allocation:12`), also when the logged subject
    # is sealed: not in the bytes and never published, only for links from the parties' own list of entries.
    record = models.CharField(_("record"), max_length=120, blank=True, default="")

    class Meta:
        ordering = ["index"]
        verbose_name = _("log entry")
        verbose_name_plural = _("log entries")

    def __str__(self) -> str:
        return f"#{self.index} {self.type}"


class EntryParty(models.Model):
    """An organization an entry is about: it may see the entry in its list and download a receipt."""

    entry = models.ForeignKey(LogEntry, on_delete=models.CASCADE, related_name="parties")
    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "entry"], name="uniq_entry_party")]

    def __str__(self) -> str:
        return f"#{self.entry_id} · {self.organization_id}"


class TreeNode(models.Model):
    """The Merkle tree hash of one complete subtree (`node_key(level, index)`)."""

    key = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField()

    def __str__(self) -> str:
        return f"node {self.key >> LEVEL_SHIFT}/{self.key & ((1 << LEVEL_SHIFT) - 1)}"


class SignedCheckpoint(models.Model):
    """A checkpoint the platform signed, after checking it is consistent with the one before."""

    size = models.BigIntegerField(_("tree size"), unique=True)
    root = models.BinaryField(_("root hash"))
    note = models.TextField(_("signed note"))
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)

    class Meta:
        ordering = ["-size"]
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class Witness(models.Model):
    """An outside party whose cosignatures the platform accepts: its tlog-cosignature/v1 verifier key."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    verifier_key = models.CharField(_("verifier key"), max_length=300, unique=True)
    organization = models.ForeignKey(
        "registry.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    """A witness's cosignature of one checkpoint, served with it."""

    checkpoint = models.ForeignKey(SignedCheckpoint, on_delete=models.CASCADE, related_name="cosignatures")
    witness = models.ForeignKey(Witness, on_delete=models.CASCADE, related_name="cosignatures")
    line = models.TextField(_("signature line"))
    signed_at = models.DateTimeField(_("signed at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["checkpoint", "witness"], name="uniq_cosignature")]
        verbose_name = _("cosignature")
        verbose_name_plural = _("cosignatures")

    def __str__(self) -> str:
        return f"{self.witness_id} on {self.checkpoint_id}"
