from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from agglo.profiles.models.facts import Fact


class IPAsset(Fact):
    """A patent, design, software copyright or trademark an organization holds or has applied for."""

    class Kind(models.TextChoices):
        INVENTION_PATENT = "invention_patent", _("Invention patent")
        UTILITY_MODEL = "utility_model", _("Utility model")
        DESIGN = "design", _("Design")
        SOFTWARE_COPYRIGHT = "software_copyright", _("Software copyright")
        TRADEMARK = "trademark", _("Trademark")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        GRANTED = "granted", _("Granted")
        EXPIRED = "expired", _("Expired")
        INVALID = "invalid", _("Invalidated")
        TRANSFERRED = "transferred", _("Transferred")

    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="ip_assets")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    number = models.CharField(_("number"), max_length=60, db_index=True)
    title = models.CharField(_("title"), max_length=300)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    filed_on = models.DateField(_("filed on"), null=True, blank=True)
    granted_on = models.DateField(_("granted on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "kind", "number"], name="uniq_ip_number")]
        ordering = ["organization", "kind", "-filed_on", "number"]
        verbose_name = _("IP asset")
        verbose_name_plural = _("IP assets")

    def __str__(self) -> str:
        return f"{self.kind} {self.number}"
