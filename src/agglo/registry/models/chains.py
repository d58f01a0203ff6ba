from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from agglo.common.models import TimeStampedModel
from agglo.registry.models.bilingual import BilingualNameMixin, prefers_chinese


class Chain(BilingualNameMixin, TimeStampedModel):
    """An industry chain (产业链): segments from raw materials upstream to applications downstream."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    description_zh = models.TextField(_("Chinese description"), blank=True)
    description_en = models.TextField(_("English description"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("industry chain")
        verbose_name_plural = _("industry chains")

    def __str__(self) -> str:
        return self.name

    @property
    def description(self) -> str:
        first, second = (
            (self.description_zh, self.description_en)
            if prefers_chinese()
            else (self.description_en, self.description_zh)
        )
        return first or second


class Segment(BilingualNameMixin, models.Model):
    """A chain segment (链节): one step of an industry chain that organizations can take a position on."""

    class Stage(models.TextChoices):
        UPSTREAM = "upstream", _("Upstream")
        MIDSTREAM = "midstream", _("Midstream")
        DOWNSTREAM = "downstream", _("Downstream")

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="segments")
    code = models.SlugField(_("code"), max_length=60, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["chain", "order", "code"]
        verbose_name = _("chain segment")
        verbose_name_plural = _("chain segments")

    def __str__(self) -> str:
        return self.name


class SegmentLink(models.Model):
    """An upstream → downstream edge between two segments of one chain; the links form a DAG."""

    upstream = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="downstream_links")
    downstream = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="upstream_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["upstream", "downstream"], name="uniq_segment_link"),
            models.CheckConstraint(condition=~models.Q(upstream=models.F("downstream")), name="segment_link_not_self"),
        ]
        verbose_name = _("segment link")
        verbose_name_plural = _("segment links")

    def __str__(self) -> str:
        return f"{self.upstream} → {self.downstream}"
