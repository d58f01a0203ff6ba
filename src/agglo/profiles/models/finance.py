from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from agglo.profiles.models.facts import Fact


def _amount(label: str, **kw) -> models.DecimalField:
    return models.DecimalField(label, max_digits=18, decimal_places=2, **kw)


class FinancialStatement(Fact):
    """One fiscal year's key figures of an organization (amounts in CNY yuan)."""

    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="statements")
    year = models.PositiveSmallIntegerField(_("fiscal year"))
    revenue = _amount(_("revenue"))
    total_assets = _amount(_("total assets"))
    total_liabilities = _amount(_("total liabilities"))
    equity = _amount(_("equity"))
    net_profit = _amount(_("net profit"), null=True, blank=True)
    operating_cash_flow = _amount(_("operating cash flow"), null=True, blank=True)
    rd_expense = _amount(_("R&D expense"), null=True, blank=True)
    headcount = models.PositiveIntegerField(_("headcount"), null=True, blank=True)
    rd_headcount = models.PositiveIntegerField(_("R&D headcount"), null=True, blank=True)
    # Needed for the Altman Z''-score; optional for firms that report only the headline figures.
    current_assets = _amount(_("current assets"), null=True, blank=True)
    current_liabilities = _amount(_("current liabilities"), null=True, blank=True)
    retained_earnings = _amount(_("retained earnings"), null=True, blank=True)
    ebit = _amount(_("EBIT"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "year"], name="uniq_statement_year")]
        ordering = ["organization", "-year"]
        verbose_name = _("financial statement")
        verbose_name_plural = _("financial statements")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.year}"


class StatementEvidence(models.Model):
    """A file that backs a financial statement: an audit report, a tax return, a bank letter."""

    statement = models.ForeignKey(FinancialStatement, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="evidence/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return self.original_name
