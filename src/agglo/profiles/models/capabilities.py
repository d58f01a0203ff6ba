from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from agglo.profiles.models.facts import Fact
from agglo.registry.models.bilingual import BilingualNameMixin


class CapabilityTerm(BilingualNameMixin, models.Model):
    """An entry of the controlled catalogue of capabilities and certifications (operators curate it)."""

    class Kind(models.TextChoices):
        TECHNOLOGY = "technology", _("Technology")
        PROCESS = "process", _("Process")
        EQUIPMENT = "equipment", _("Equipment")
        LAB_SERVICE = "lab_service", _("Lab service")
        CERTIFICATION = "certification", _("Certification")

    code = models.SlugField(_("code"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices, db_index=True)
    name_zh = models.CharField(_("Chinese name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=160)
    # Other words people search it by (abbreviations, standard numbers), space-separated.
    synonyms = models.CharField(_("synonyms"), max_length=300, blank=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("capability term")
        verbose_name_plural = _("capability catalogue")

    def __str__(self) -> str:
        return self.code


class OrganizationCapability(Fact):
    """An organization's capability or certification from the catalogue, with its own free-text detail."""

    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="capabilities")
    term = models.ForeignKey(CapabilityTerm, on_delete=models.PROTECT, related_name="holders")
    detail = models.TextField(_("detail"), blank=True)
    certificate_no = models.CharField(_("certificate number"), max_length=80, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "term"], name="uniq_capability")]
        ordering = ["organization", "term__kind", "term__code"]
        verbose_name = _("capability")
        verbose_name_plural = _("capabilities")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.term_id}"
