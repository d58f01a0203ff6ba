"""The stored matching index (one document per published listing and member organization) and the behaviour log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MatchDocument(models.Model):
    """What the engine knows of one listing or organization: its tokens (tokenising is the slow part of a
    build, so it is stored) and its features; `live` false once it left the market."""

    class Source(models.TextChoices):
        LISTING = "listing", _("Listing")
        ORGANIZATION = "org", _("Organization")

    source = models.CharField(max_length=8, choices=Source.choices)
    object_id = models.PositiveBigIntegerField()
    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="+")
    tokens = models.TextField(blank=True)
    features = models.JSONField(default=dict)
    # The sentence embedding (float32 bytes) when AGGLO_MATCHING_EMBEDDINGS names an encoder.
    vector = models.BinaryField(null=True, blank=True)
    live = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "object_id"], name="uniq_match_document")]
        # Every process's engine asks for the documents changed since it last looked.
        indexes = [models.Index(fields=["updated_at"], name="match_doc_updated")]
        verbose_name = _("matching document")
        verbose_name_plural = _("matching documents")

    def __str__(self) -> str:
        return f"{self.source}:{self.object_id}"

    @property
    def key(self) -> int:
        return document_key(self.source, self.object_id)


def document_key(source: str, object_id: int) -> int:
    """The engine's key: listings by their id, organizations by their negated id."""
    return object_id if source == MatchDocument.Source.LISTING else -object_id


class MatchEvent(models.Model):
    """One thing a member did with a result: saw it, opened it, expressed interest, had interest accepted.
    Kept for the ranking's behaviour signal and for offline evaluation."""

    class Kind(models.TextChoices):
        IMPRESSION = "impression", _("Shown")
        CLICK = "click", _("Opened")
        INTEREST = "interest", _("Interest expressed")
        ACCEPTANCE = "acceptance", _("Interest accepted")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    organization = models.ForeignKey("registry.Organization", null=True, on_delete=models.SET_NULL, related_name="+")
    query_key = models.BigIntegerField(null=True)  # the listing or organization (negated) results were for
    item_key = models.BigIntegerField()
    rank = models.PositiveSmallIntegerField(null=True)
    score = models.FloatField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["item_key", "kind"], name="match_event_item")]
        ordering = ["-created_at", "-id"]
        verbose_name = _("matching event")
        verbose_name_plural = _("matching events")

    def __str__(self) -> str:
        return f"{self.kind} {self.item_key}"
