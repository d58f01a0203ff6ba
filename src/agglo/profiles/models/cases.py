from __future__ import annotations

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _

from agglo.profiles.models.facts import Fact


class Case(Fact):
    """A collaborative innovation case (协同创新案例) as its lead declares it: who, what, when, and what came of it."""

    class Kind(models.TextChoices):
        JOINT_RND = "joint_rnd", _("Joint R&D")
        CO_INVESTMENT = "co_investment", _("Co-investment")
        RESEARCHER_EXCHANGE = "researcher_exchange", _("Researcher exchange")
        ALLIANCE = "alliance", _("Alliance")
        OUTSOURCING = "outsourcing", _("Outsourcing")

    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="cases_led")
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    visibility = models.CharField(_("visible to"), max_length=10, default="members")
    # hex key under which the public log seals who took part, with what, and how they rated each other
    # (`ledger.services.work_key`); shown to the participants only
    text_key = models.CharField(max_length=64, blank=True, default="", editable=False)
    outcome_patents = models.PositiveIntegerField(_("patents"), default=0)
    outcome_products = models.PositiveIntegerField(_("products"), default=0)
    outcome_revenue = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2, null=True, blank=True)
    outcome_cost_saved = models.DecimalField(_("cost saved"), max_digits=18, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "title", "started_on"], name="uniq_case_title_start")
        ]
        ordering = ["-started_on", "-id"]
        verbose_name = _("collaboration case")
        verbose_name_plural = _("collaboration cases")

    def __str__(self) -> str:
        return self.title


class CaseParticipant(models.Model):
    """An organization in a case and what it put in; partners confirm their own participation."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        PARTNER = "partner", _("Partner")

    class InputKind(models.TextChoices):
        CASH = "cash", _("Cash")
        STAFF = "staff", _("Staff")
        EQUIPMENT = "equipment", _("Equipment")
        IP = "ip", _("Intellectual property")
        DATA = "data", _("Data")
        OTHER = "other", _("Other")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="case_roles")
    role = models.CharField(_("role"), max_length=8, choices=Role.choices)
    input_kind = models.CharField(_("input"), max_length=10, choices=InputKind.choices)
    input_amount = models.DecimalField(_("input value"), max_digits=18, decimal_places=2, null=True, blank=True)
    input_note = models.CharField(_("input detail"), max_length=300, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "organization"], name="uniq_case_participant")]
        verbose_name = _("case participant")
        verbose_name_plural = _("case participants")

    def __str__(self) -> str:
        return f"{self.case_id}: {self.organization_id} ({self.role})"

    @property
    def input_seen(self) -> str:
        """A short digest of what the record says the participant put in, which a confirmation carries back: the
        input the partner read is the one it confirms."""
        said = f"{self.input_kind}|{self.input_amount}|{self.input_note}"
        return hashlib.sha256(said.encode()).hexdigest()[:16]


class CaseRating(models.Model):
    """One participant's rating (1–5) of another participant's part in a case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="ratings")
    rater = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="+")
    rated = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="case_ratings")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "rater", "rated"], name="uniq_case_rating"),
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="case_rating_1_5"),
            models.CheckConstraint(condition=~models.Q(rater=models.F("rated")), name="case_rating_not_self"),
        ]
        verbose_name = _("case rating")
        verbose_name_plural = _("case ratings")

    def __str__(self) -> str:
        return f"{self.case_id}: {self.rater_id} → {self.rated_id} {self.score}"
