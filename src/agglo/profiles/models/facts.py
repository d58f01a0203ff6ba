"""What every fact in the professional database carries: provenance, an as-of date and a validity."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    SELF_DECLARED = "self_declared", _("Self-declared")
    OPERATOR_VERIFIED = "operator_verified", _("Operator-verified")
    BANK_VERIFIED = "bank_verified", _("Bank-verified")
    AUDITED = "audited", _("Audited")
    IMPORTED = "imported", _("Imported")


class Fact(models.Model):
    """Abstract base of a dated fact about an organization, with where it comes from and until when it holds."""

    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.SELF_DECLARED)
    source_note = models.CharField(_("source detail"), max_length=200, blank=True)
    as_of = models.DateField(_("as of"))
    valid_until = models.DateField(_("valid until"), db_index=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    # Plausibility warnings found when it was last written (profiles.rules), as [{field, rule, params}].
    warnings = models.JSONField(default=list, blank=True)
    # When the owner was last reminded that this fact is stale or about to be.
    reminded_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def is_stale(self, today: dt.date | None = None) -> bool:
        # Selectors annotate `superseded` where a newer fact replaces this one (profiles.kinds.superseded).
        if getattr(self, "superseded", False):
            return False
        return self.valid_until < (today or timezone.localdate())

    @property
    def stale(self) -> bool:
        return self.is_stale()

    @property
    def verified(self) -> bool:
        """Checked by someone other than the owner: "audited" is the owner's own mark, until an operator or a bank
        verifies the statement."""
        return self.source in (Source.OPERATOR_VERIFIED, Source.BANK_VERIFIED)
