"""Government policies with machine-readable eligibility rules, and how each member stands on them."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agglo.access.policy import PUBLIC_ORG_STATUSES
from agglo.common.models import StoredFile
from agglo.policy.facts import FACTS
from agglo.policy.rules import Rule, parse
from agglo.policy.screen_sql import cell_list


class Policy(models.Model):
    """A subsidy, tax incentive or other support published by a government agency, with its eligibility rule."""

    class Kind(models.TextChoices):
        SUBSIDY = "subsidy", _("Subsidy")
        TAX_INCENTIVE = "tax_incentive", _("Tax incentive")
        LOAN_INTEREST = "loan_interest", _("Loan interest subsidy")
        VOUCHER = "voucher", _("Innovation voucher")
        TALENT = "talent", _("Talent programme")
        CERTIFICATION = "certification", _("Certification support")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CLOSED = "closed", _("Closed")

    issuer = models.ForeignKey("registry.Organization", on_delete=models.PROTECT, related_name="policies")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title_zh = models.CharField(_("Chinese title"), max_length=200, blank=True)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    summary_zh = models.TextField(_("Chinese summary"), blank=True)
    summary_en = models.TextField(_("English summary"), blank=True)
    # Region codes (cities or provinces) where the policy applies; empty means anywhere.
    region_scope = models.JSONField(_("regions"), default=list, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    budget = models.DecimalField(_("budget (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True)
    rule = models.TextField(_("eligibility rule"))
    # 免申即享: eligible members receive the benefit without applying.
    auto_grant = models.BooleanField(_("benefit without application"), default=False)
    # What each grant pays by formula (grants.py): a rate of one of the member's figures (a percentage of a sum of
    # money, or yuan per unit of a count), at most a cap. Without a basis the agency names each amount.
    grant_basis = models.CharField(_("grant reckoned on"), max_length=20, blank=True)
    grant_rate = models.DecimalField(_("grant rate"), max_digits=14, decimal_places=4, null=True, blank=True)
    grant_cap = models.DecimalField(_("grant cap (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["status", "kind"], name="policy_status_kind")]
        verbose_name = _("policy")
        verbose_name_plural = _("policies")

    def __str__(self) -> str:
        return self.title_zh or self.title_en

    @property
    def ended(self) -> bool:
        """Whether the policy's period is over: nobody is to be told of it or apply for it any more."""
        return self.ends_on is not None and self.ends_on < timezone.localdate()

    @property
    def begun(self) -> bool:
        """Whether the policy's period has begun: applications are taken from its first day (walk review 45)."""
        return self.starts_on <= timezone.localdate()

    @property
    def title(self) -> str:
        from django.utils.translation import get_language

        english = (get_language() or "").startswith("en")
        first, second = (self.title_en, self.title_zh) if english else (self.title_zh, self.title_en)
        return first or second


class PolicyDocument(StoredFile):
    """A file published with a policy: the notice, the implementation rules, application forms."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to="policies/%Y/%m/")

    class Meta(StoredFile.Meta):
        verbose_name = _("policy document")
        verbose_name_plural = _("policy documents")


class PolicyMatchQuerySet(models.QuerySet["PolicyMatch"]):
    def in_good_standing(self) -> PolicyMatchQuerySet:
        """The matches of members in good standing: a member suspended or withdrawn keeps its own as they stood
        (`matching.AWAY`), seen by nobody and granted nothing, until it is reinstated."""
        return self.filter(organization__status__in=PUBLIC_ORG_STATUSES)


class PolicyMatch(models.Model):
    """How one member stands on one policy: eligible, a near miss, or neither, with the clauses explained."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="matches")
    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="+")
    eligible = models.BooleanField(_("eligible"))
    missing = models.PositiveSmallIntegerField(_("clauses not met"))
    # [true, false, …]: whether each clause of the policy's rule is met (`explained` puts them in words).
    clauses = models.JSONField(_("clauses"), default=list)
    evaluated_at = models.DateTimeField(_("evaluated at"), auto_now=True)

    objects = PolicyMatchQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "organization"], name="uniq_policy_match")]
        indexes = [
            models.Index(fields=["organization", "eligible"], name="policymatch_org_eligible"),
            # an agency's counts per policy, and a policy's list eligible first, without reading the rows
            models.Index(fields=["policy", "eligible"], name="policymatch_policy_eligible"),
        ]
        verbose_name = _("policy match")
        verbose_name_plural = _("policy matches")

    def __str__(self) -> str:
        return f"{self.policy_id} · {self.organization_id}: {'eligible' if self.eligible else self.missing}"

    @property
    def near_miss(self) -> bool:
        return not self.eligible and self.missing == 1

    @cached_property
    def explained(self) -> list[dict[str, Any]]:
        """The clauses in words with this member's values, from its kept facts, as the member itself reads them:
        [{"zh": "研发投入强度 ≥ 5 %", "en": …, "passed": false, "yours": "3.2 %"}]. Others read a list of matches
        through policy.selectors.explain, which withholds what the member does not disclose to them."""
        row = OrganizationFacts.objects.filter(organization_id=self.organization_id).values(*FACTS).first()
        return self.explain(kept_facts(row) if row else {})

    def explain(self, facts: dict[str, Any], withheld: Collection[str] = ()) -> list[dict[str, Any]]:
        return rule_of_text(self.policy.rule).explained(self.clauses, facts, withheld)

    @cached_property
    def wanting(self) -> Any:
        """What the member must still meet, as `Rule.wanting` gives it (None when eligible)."""
        return rule_of_text(self.policy.rule).wanting(self.clauses)


@lru_cache(maxsize=1024)
def rule_of_text(text: str) -> Rule:
    """A stored (valid) rule, parsed once per process."""
    return parse(text, FACTS, stored=True)


class Application(models.Model):
    """A member's application for a policy, and the agency's decision; grants go on the transparency log."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        GRANTED = "granted", pgettext_lazy("an application", "Granted")
        REJECTED = "rejected", _("Rejected")

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="applications")
    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="+")
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    amount = models.DecimalField(_("amount granted (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    # Granted without an application (免申即享): the agency granted it to an eligible member directly.
    automatic = models.BooleanField(_("without application"), default=False)
    # the key that seals a formula grant's sums on the public log (`grants.withheld_basis`), shown to the agency
    # and the member only, so that they can check the entries
    text_key = models.CharField(max_length=64, blank=True, default="", editable=False)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "organization"], name="uniq_policy_application")]
        ordering = ["-created_at"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")

    def __str__(self) -> str:
        return f"{self.policy_id} · {self.organization_id}: {self.status}"

    @property
    def paid(self) -> Decimal:
        """What was paid of the grant so far (its payments prefetched where applications are listed)."""
        return sum((p.amount for p in self.payments.all()), Decimal(0))

    @property
    def left_to_pay(self) -> Decimal:
        return self.amount - self.paid if self.status == self.Status.GRANTED and self.amount else Decimal(0)


class GrantPayment(models.Model):
    """One payment of a granted sum (拨付): what the agency paid, on which day, under which transfer or voucher;
    a grant may be paid in instalments, never beyond its amount. Each is on the transparency log."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="payments")
    amount = models.DecimalField(_("amount paid (yuan)"), max_digits=16, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    reference = models.CharField(_("transfer or voucher number"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paid_on", "id"]
        verbose_name = _("grant payment")
        verbose_name_plural = _("grant payments")

    def __str__(self) -> str:
        return f"{self.application_id}: {self.amount} on {self.paid_on}"


class ApplicationDocument(StoredFile):
    """A file a member sends with its application (申报材料): the agency reads it to decide; kept as sent."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to="applications/%Y/%m/")

    class Meta(StoredFile.Meta):
        verbose_name = _("application document")
        verbose_name_plural = _("application documents")


class PolicyNeed(models.Model):
    """A member's bottom-up policy need: what holds it back and what support would help; agencies answer."""

    class Topic(models.TextChoices):
        FINANCING = "financing", _("Financing")
        TAX = "tax", _("Tax")
        TALENT = "talent", _("Talent")
        RD = "rd", _("R&D support")
        IP = "ip", _("IP protection")
        MARKET = "market", _("Market access")
        SPACE = "space", _("Land and space")
        REGULATION = "regulation", _("Regulation and approvals")
        OTHER = "other", _("Other")

    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(_("topic"), max_length=12, choices=Topic.choices)
    segment = models.ForeignKey("registry.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The organization's province when the need was filed, for grouping by region.
    area = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("need"))
    created_at = models.DateTimeField(_("filed at"), auto_now_add=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        "registry.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.SET_NULL, related_name="needs")
    # The text's multilingual sentence embedding (float32 bytes), for grouping needs by what they are about.
    embedding = models.BinaryField(null=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["topic", "created_at"], name="policyneed_topic_time")]
        verbose_name = _("policy need")
        verbose_name_plural = _("policy needs")

    def __str__(self) -> str:
        return f"{self.topic}: {self.text[:40]}"


class OrganizationFacts(models.Model):
    """The facts rules read, kept per organization in one row so that the database screens a policy against
    every member in one query (see policy.screen_sql). Refreshed after each change to the data they come from,
    and all of them daily (`agglo policy_match`), since some depend on the date (years of membership, valid
    certificates and ratings). One column per fact of policy.facts.FACTS, under the same name."""

    organization = models.OneToOneField(
        "registry.Organization", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=32)
    region = models.CharField(max_length=12, null=True)
    province = models.CharField(max_length=12, null=True)
    layer = models.CharField(max_length=32, null=True)
    headcount = models.IntegerField(null=True)
    revenue = models.DecimalField(max_digits=20, decimal_places=2, null=True)
    total_assets = models.DecimalField(max_digits=20, decimal_places=2, null=True)
    rd_intensity = models.DecimalField(max_digits=24, decimal_places=12, null=True)
    rd_staff_share = models.DecimalField(max_digits=24, decimal_places=12, null=True)
    ip_invention = models.IntegerField()
    ip_total = models.IntegerField()
    # Lists as |a|b| (see policy.screen_sql.list_cell).
    certifications = models.TextField(blank=True)
    segments = models.TextField(blank=True)
    tech_sme = models.BooleanField()
    founded_year = models.IntegerField(null=True)
    membership_years = models.DecimalField(max_digits=12, decimal_places=6, null=True)
    credit_grade = models.CharField(max_length=3, null=True)
    # Whether `headcount` is the latest statement's (financials, which the member may keep from others) rather
    # than the registry's public figure. Not a fact: it decides only what others are shown. A row kept before
    # this was recorded counts as a statement's until its next refresh.
    headcount_stated = models.BooleanField(default=True)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("organization facts")
        verbose_name_plural = _("organization facts")

    def __str__(self) -> str:
        return f"facts of {self.organization_id}"


def kept_facts(row: dict[str, Any]) -> dict[str, Any]:
    """An OrganizationFacts row's values as facts: lists split, unknown facts left out."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if FACTS[name].type == "list":
            out[name] = cell_list(value)
        elif value is not None:
            out[name] = value
    return out
