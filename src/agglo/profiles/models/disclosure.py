from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

VISIBILITY_CHOICES = [
    ("public", _("Public")),
    ("members", _("Members")),
    ("partners", _("Partners")),
    ("private", _("Private")),
]


class Disclosure(models.Model):
    """Who may see an organization's sensitive field groups; absent means the defaults below."""

    organization = models.OneToOneField(
        "registry.Organization", on_delete=models.CASCADE, primary_key=True, related_name="disclosure"
    )
    financials_visibility = models.CharField(
        _("financials visible to"), max_length=10, choices=VISIBILITY_CHOICES, default="partners"
    )
    credit_visibility = models.CharField(
        _("credit detail visible to"), max_length=10, choices=VISIBILITY_CHOICES, default="members"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("disclosure settings")
        verbose_name_plural = _("disclosure settings")

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.financials_visibility}/{self.credit_visibility}"
