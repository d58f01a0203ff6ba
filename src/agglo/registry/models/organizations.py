from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from agglo.common.models import TimeStampedModel
from agglo.registry.kinds import Kind, Layer, SizeClass
from agglo.registry.models.bilingual import BilingualNameMixin
from agglo.registry.models.chains import Segment
from agglo.registry.models.regions import Region

KIND_LABELS = {
    Kind.TECH_SME: _("Tech-based SME"),
    Kind.ENTERPRISE: _("Other enterprise"),
    Kind.UNIVERSITY: _("University"),
    Kind.RESEARCH_INSTITUTE: _("Research institute"),
    Kind.INTERMEDIARY: _("S&T intermediary"),
    Kind.ASSOCIATION: _("Industry association"),
    Kind.BANK: _("Bank"),
    Kind.SECURITIES: _("Securities firm"),
    Kind.FUND: _("Fund"),
    Kind.LEASING_GUARANTEE: _("Leasing or guarantee firm"),
    Kind.SERVICE_FIRM: _("Professional service firm"),
    Kind.GOVERNMENT: _("Government agency"),
}
LAYER_LABELS = {
    Layer.CORE: _("Core environment"),
    Layer.AUXILIARY: _("Auxiliary environment"),
    Layer.EXTERNAL: _("External environment"),
}
SIZE_LABELS = {
    SizeClass.MICRO: _("Micro"),
    SizeClass.SMALL: _("Small"),
    SizeClass.MEDIUM: _("Medium"),
    SizeClass.LARGE: _("Large"),
}


class Organization(BilingualNameMixin, TimeStampedModel):
    """An innovation entity (创新主体): a firm, university, institute, intermediary, financier or agency."""

    class Status(models.TextChoices):
        APPLICANT = "applicant", _("Applicant")
        MEMBER = "member", _("Member")
        SUSPENDED = "suspended", _("Suspended")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public")
        MEMBERS = "members", _("Members")
        PARTNERS = "partners", _("Partners")
        PRIVATE = "private", _("Private")

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True, null=True, blank=True)
    foreign_registry_id = models.CharField(_("foreign registry id"), max_length=60, blank=True)
    name_zh = models.CharField(_("Chinese name"), max_length=200, db_index=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=24, choices=[(k.value, v) for k, v in KIND_LABELS.items()])
    layer = models.CharField(
        _("environment layer"), max_length=12, choices=[(k.value, v) for k, v in LAYER_LABELS.items()]
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="organizations", verbose_name=_("region"))
    # Province for Chinese members, the country for foreign ones: the level the directory facets on.
    area = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    founded_year = models.PositiveSmallIntegerField(_("founding year"), null=True, blank=True)
    headcount = models.PositiveIntegerField(_("headcount"), null=True, blank=True)
    size_class = models.CharField(
        _("size class"), max_length=8, blank=True, choices=[(k.value, v) for k, v in SIZE_LABELS.items()]
    )
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.APPLICANT)
    contacts_visibility = models.CharField(
        _("contacts visible to"), max_length=10, choices=Visibility.choices, default=Visibility.MEMBERS
    )
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    # Tokens for full-text search (registry.text.index_tokens), kept current by the services.
    search_text = models.TextField(editable=False, blank=True)
    # The chains and segments the organization holds positions on, as "|ic|pv|" and "|ic-design|pv-cells|":
    # derived from Position and kept by the position services, so that the directory counts chain and segment
    # facets in the in-memory facet table (registry.facet_index) and filter pages without joining positions.
    chain_codes = models.CharField(max_length=400, editable=False, blank=True, default="")
    segment_codes = models.CharField(max_length=2000, editable=False, blank=True, default="")
    joined_at = models.DateTimeField(_("member since"), null=True, blank=True)

    class Meta:
        ordering = ["name_zh"]
        indexes = [
            models.Index(fields=["status", "area"], name="org_status_area"),
            models.Index(fields=["status", "name_zh", "id"], name="org_status_name"),
            models.Index(fields=["region", "status"], name="org_region_status"),
            # The directory's facet table checks the latest change on every request (registry.facet_index).
            models.Index(fields=["updated_at"], name="org_updated"),
        ]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    @property
    def segment_list(self) -> list[str]:
        """The codes held in `segment_codes` ("|a|b|"), in order."""
        return [code for code in self.segment_codes.split("|") if code]

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[Kind(self.kind)])

    @property
    def layer_label(self) -> str:
        return str(LAYER_LABELS[Layer(self.layer)])


class Position(models.Model):
    """An organization's place on a chain segment, with the role it plays there."""

    class Role(models.TextChoices):
        PRODUCES = "produces", _("Produces")
        SUPPLIES = "supplies", _("Supplies")
        USES = "uses", _("Uses")
        RESEARCHES = "researches", _("Researches")
        SERVES = "serves", _("Serves")
        FINANCES = "finances", _("Finances")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="positions")
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="positions")
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "segment", "role"], name="uniq_position"),
        ]
        indexes = [models.Index(fields=["segment", "role"], name="position_segment_role")]
        verbose_name = _("chain position")
        verbose_name_plural = _("chain positions")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.role} {self.segment_id}"


class Relation(models.Model):
    """A declared tie between two organizations (source → target), with dates and where it is known from."""

    class Kind(models.TextChoices):
        SUPPLIER_OF = "supplier_of", _("Supplier of")
        CUSTOMER_OF = "customer_of", _("Customer of")
        PARTNER = "partner", _("Partner of")
        COMPETITOR = "competitor", _("Competitor of")
        SHAREHOLDER = "shareholder", _("Shareholder of")

    class Source(models.TextChoices):
        SELF_DECLARED = "self_declared", _("Self-declared")
        CONFIRMED = "confirmed", _("Confirmed by both")
        OPERATOR_VERIFIED = "operator_verified", _("Operator-verified")
        IMPORTED = "imported", _("Imported")

    source_org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="relations_out")
    target_org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="relations_in")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    started_on = models.DateField(_("since"), null=True, blank=True)
    ended_on = models.DateField(_("until"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.SELF_DECLARED)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source_org", "target_org", "kind"], name="uniq_relation"),
            models.CheckConstraint(condition=~models.Q(source_org=models.F("target_org")), name="relation_not_self"),
        ]
        verbose_name = _("relation")
        verbose_name_plural = _("relations")

    def __str__(self) -> str:
        return f"{self.source_org_id} {self.kind} {self.target_org_id}"
