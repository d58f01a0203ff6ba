"""Needs and offers members publish, and the interest others express in them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agglo.market.lifecycle import Collateral, InterestStatus, Kind, RegionRule, Side, Status

KIND_LABELS = {
    Kind.CAPITAL: _("Capital"),
    Kind.TECHNOLOGY: _("Technology"),
    Kind.TALENT: _("Talent"),
    Kind.LEGAL: _("Legal"),
    Kind.EQUIPMENT: _("Equipment"),
    Kind.CAPACITY: _("Production capacity"),
    Kind.MARKET: _("Market or channel"),
    Kind.SERVICE: _("Professional service"),
    Kind.FINANCING: _("Financing product"),
}
SUBKIND_LABELS = {
    "registration": _("Registration"),
    "financing": _("Financing advice"),
    "legal": _("Legal"),
    "hr": _("Human resources"),
    "marketing": _("Marketing"),
    "ip": _("Intellectual property"),
    "testing": _("Testing and certification"),
    "tech_transfer": _("Technology transfer"),
    "loan": _("Loan"),
    "leasing": _("Leasing"),
    "bond": _("Bond"),
    "equity": _("Equity"),
}


COLLATERAL_LABELS = {
    Collateral.CREDIT: _("Unsecured (credit)"),
    Collateral.GUARANTEE: _("Guarantee"),
    Collateral.MORTGAGE: _("Mortgage"),
    Collateral.PLEDGE: _("Pledge (IP, receivables, equity)"),
}


class Listing(models.Model):
    """A need (需求) or an offer (供给) an organization publishes; `Need` and `Offer` are its two sides."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public")
        MEMBERS = "members", _("Members")
        PARTNERS = "partners", _("Partners")

    class Outcome(models.TextChoices):
        FULFILLED = "fulfilled", _("Fulfilled")
        PARTLY = "partly", _("Partly fulfilled")
        NO_MATCH = "no_match", _("No suitable counterpart")
        WITHDRAWN = "withdrawn", pgettext_lazy("listing outcome", "Withdrawn")

    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="listings")
    side = models.CharField(
        _("side"), max_length=5, choices=[(Side.NEED.value, _("Need")), (Side.OFFER.value, _("Offer"))]
    )
    kind = models.CharField(_("kind"), max_length=12, choices=[(k.value, v) for k, v in KIND_LABELS.items()])
    subkind = models.CharField(_("type"), max_length=16, blank=True, choices=list(SUBKIND_LABELS.items()))
    title_zh = models.CharField(_("Chinese title"), max_length=200, blank=True)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    description_zh = models.TextField(_("Chinese description"), blank=True)
    description_en = models.TextField(_("English description"), blank=True)
    terms = models.JSONField(_("catalogue terms"), default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    segments = models.JSONField(_("chain segments"), default=list, blank=True)
    region_rule = models.CharField(
        _("region rule"),
        max_length=8,
        default=RegionRule.ANYWHERE.value,
        choices=[
            (RegionRule.ANYWHERE.value, _("Anywhere")),
            (RegionRule.ONLY.value, _("Only these regions")),
            (RegionRule.EXCLUDE.value, _("Not these regions")),
        ],
    )
    regions = models.JSONField(_("regions"), default=list, blank=True)
    amount_min = models.DecimalField(_("amount from"), max_digits=18, decimal_places=2, null=True, blank=True)
    amount_max = models.DecimalField(_("amount up to"), max_digits=18, decimal_places=2, null=True, blank=True)
    # loan terms (capital needs and financing products): months, percent a year, and what secures the loan
    term_months_min = models.PositiveSmallIntegerField(_("term from (months)"), null=True, blank=True)
    term_months_max = models.PositiveSmallIntegerField(_("term up to (months)"), null=True, blank=True)
    rate_min = models.DecimalField(
        _("rate from (percent a year)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    rate_max = models.DecimalField(
        _("rate up to (percent a year)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    collateral = models.JSONField(_("collateral"), default=list, blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    visibility = models.CharField(_("visible to"), max_length=10, choices=Visibility.choices, default="members")
    anonymous = models.BooleanField(_("anonymous"), default=False)
    status = models.CharField(
        _("status"),
        max_length=10,
        default=Status.DRAFT.value,
        choices=[
            (Status.DRAFT.value, _("Draft")),
            (Status.REVIEW.value, _("In review")),
            (Status.PUBLISHED.value, _("Published")),
            (Status.EXPIRED.value, _("Expired")),
            (Status.CLOSED.value, _("Closed")),
        ],
    )
    review_note = models.CharField(_("review note"), max_length=500, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, blank=True, choices=Outcome.choices)
    outcome_note = models.CharField(_("outcome note"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Tokens for text relevance (registry.text), kept current by the services.
    search_text = models.TextField(editable=False, blank=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["status", "side", "kind"], name="listing_status_side_kind"),
            models.Index(fields=["organization", "status"], name="listing_org_status"),
            models.Index(fields=["status", "expires_on"], name="listing_status_expiry"),
        ]
        verbose_name = _("listing")
        verbose_name_plural = _("listings")

    def __str__(self) -> str:
        return self.title_zh or self.title_en

    def collateral_names(self) -> list[str]:
        """The collateral codes in the reader's language."""
        return [str(COLLATERAL_LABELS.get(c, c)) for c in self.collateral]

    @property
    def title(self) -> str:
        from agglo.registry.models.bilingual import prefers_chinese

        first, second = (self.title_zh, self.title_en) if prefers_chinese() else (self.title_en, self.title_zh)
        return first or second


class SideManager(models.Manager["Listing"]):
    def __init__(self, side: Side) -> None:
        super().__init__()
        self.side = side

    def get_queryset(self) -> models.QuerySet[Listing]:
        return super().get_queryset().filter(side=self.side)


class Need(Listing):
    """An innovation need (创新需求): capital, technology, talent, legal and the rest."""

    objects = SideManager(Side.NEED)  # type: ignore[assignment, misc]

    class Meta:
        proxy = True
        verbose_name = _("need")
        verbose_name_plural = _("needs")


class Offer(Listing):
    """An offer (供给): what a member provides, from capacity to financing products."""

    objects = SideManager(Side.OFFER)  # type: ignore[assignment, misc]

    class Meta:
        proxy = True
        verbose_name = _("offer")
        verbose_name_plural = _("offers")


class Interest(models.Model):
    """A member's expression of interest in a listing, and the owner's handling of it."""

    class Cooperation(models.TextChoices):
        SUPPLY = "supply", _("Supply")
        PURCHASE = "purchase", _("Purchase")
        JOINT_RND = "joint_rnd", _("Joint R&D")
        INVESTMENT = "investment", _("Investment")
        LOAN = "loan", _("Loan or credit line")  # a bank answering a capital need (policy review 58 M7)
        SERVICE = "service", _("Service")
        LICENSING = "licensing", _("Licensing")
        OTHER = "other", _("Other")

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="interests")
    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="interests")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    cooperation = models.CharField(_("kind of cooperation"), max_length=12, choices=Cooperation.choices)
    message = models.TextField(_("message"))
    missing = models.TextField(_("what is still missing"), blank=True)
    introduction = models.TextField(_("who we are"), blank=True)
    # hex key under which the public log seals who accepted whom, on what terms (`ledger.services.work_key`);
    # shown to the two sides only
    text_key = models.CharField(max_length=64, blank=True, default="", editable=False)
    status = models.CharField(
        _("status"),
        max_length=10,
        default=InterestStatus.NEW.value,
        choices=[
            (InterestStatus.NEW.value, _("New")),
            (InterestStatus.CONTACTED.value, _("Contacted")),
            (InterestStatus.EVALUATED.value, _("Evaluated")),
            (InterestStatus.ACCEPTED.value, _("Accepted")),
            (InterestStatus.DECLINED.value, _("Declined")),
        ],
    )
    decline_reason = models.CharField(_("reason"), max_length=500, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["listing", "organization"], name="uniq_interest")]
        ordering = ["-created_at", "-id"]
        verbose_name = _("expression of interest")
        verbose_name_plural = _("expressions of interest")

    def __str__(self) -> str:
        return f"{self.organization_id} → {self.listing_id} ({self.status})"
