from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from agglo.registry.models.bilingual import BilingualNameMixin


class Region(BilingualNameMixin, models.Model):
    """A country (ISO 3166-1 alpha-2 code) or a Chinese province / prefecture (GB/T 2260 six-digit code)."""

    class Level(models.TextChoices):
        COUNTRY = "country", _("Country")
        PROVINCE = "province", _("Province")
        PREFECTURE = "prefecture", _("Prefecture-level city")

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices, db_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    country_code = models.CharField(_("country"), max_length=2, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name

    @property
    def is_china(self) -> bool:
        return self.country_code == "CN"
