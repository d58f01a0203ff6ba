from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportRun(models.Model):
    """One real bulk import (dry runs write nothing, not even this), with its outcome and the file's hash."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        REFUSED = "refused", _("Refused: bad rows")

    kind = models.CharField(_("kind"), max_length=20)
    filename = models.CharField(_("file"), max_length=200)
    sha256 = models.CharField(max_length=64)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")

    def __str__(self) -> str:
        return f"{self.kind} {self.filename} ({self.status})"
