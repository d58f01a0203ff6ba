"""Shared production capacity: processes, factories' capabilities and weekly calendars, orders and their plans."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agglo.common.models import StoredFile
from agglo.common.stamps import StampedQuerySet, StampsChanges
from agglo.registry.models.bilingual import Bilingual, BilingualNameMixin


class Process(BilingualNameMixin, models.Model):
    """A manufacturing process in the catalogue, and the unit its capacity is counted in."""

    code = models.SlugField(_("code"), max_length=30, primary_key=True)
    name_zh = models.CharField(_("Chinese name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60)
    unit_zh = models.CharField(_("Chinese unit"), max_length=20)
    unit_en = models.CharField(_("English unit"), max_length=20)
    # "¥12 / machine-hour": English counts one unit in the singular (Chinese has one form)
    unit_one_en = models.CharField(_("English unit, singular"), max_length=20, blank=True, default="")

    class Meta:
        ordering = ["code"]
        verbose_name = _("process")

    def __str__(self) -> str:
        return self.name

    @property
    def unit(self) -> Bilingual:
        """The capacity unit in both languages, worded in each reader's (as a notification's parameter)."""
        return Bilingual(self.unit_zh, self.unit_en)

    @property
    def unit_one(self) -> Bilingual:
        """One capacity unit, as a price is per unit ("¥12 / machine-hour")."""
        return Bilingual(self.unit_zh, self.unit_one_en or self.unit_en)

    def unit_for(self, n: int | None) -> Bilingual:
        """The unit after a count: "1 machine-hour", "2 machine-hours" (Chinese has one form)."""
        return self.unit_one if n == 1 else self.unit


class Capability(models.Model):
    """One member factory's ability to run one process, with its default weekly capacity and its terms."""

    class Grade(models.IntegerChoices):
        BASIC = 1, _("Basic")
        STANDARD = 2, _("Standard")
        HIGH = 3, _("High")

    organization = models.ForeignKey(
        "registry.Organization", on_delete=models.CASCADE, related_name="factory_capabilities"
    )
    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="factory_capabilities")
    weekly_capacity = models.PositiveIntegerField(_("capacity per week"))
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=2)
    setup_cost = models.DecimalField(_("setup cost"), max_digits=12, decimal_places=2, default=0)
    min_lot = models.PositiveIntegerField(_("minimum lot"), default=1)
    quality_grade = models.PositiveSmallIntegerField(_("quality grade"), choices=Grade.choices, default=2)
    certifications = models.JSONField(_("certifications"), default=list, blank=True)
    lead_weeks = models.PositiveSmallIntegerField(_("lead time (weeks)"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)  # its version (`common.versions`)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "process"], name="capability_org_process")]
        ordering = ["organization_id", "process_id"]
        verbose_name = _("capability")

    def __str__(self) -> str:
        return f"{self.organization_id}:{self.process_id}"


class CapacitySlot(models.Model):
    """A capability's capacity in one week (Monday): overridden from the default, and what accepted work holds."""

    capability = models.ForeignKey(Capability, on_delete=models.CASCADE, related_name="slots")
    week = models.DateField(_("week"))
    capacity = models.PositiveIntegerField(_("capacity"))
    reserved = models.PositiveIntegerField(_("reserved"), default=0)
    # set for this week by the factory; otherwise the slot only holds reservations and follows the declared capacity
    by_hand = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["capability", "week"], name="slot_capability_week"),
            models.CheckConstraint(condition=models.Q(reserved__lte=models.F("capacity")), name="slot_within_capacity"),
        ]
        ordering = ["capability_id", "week"]

    def __str__(self) -> str:
        return f"{self.capability_id}@{self.week}"


class Order(StampsChanges, models.Model):
    """A production order a buyer places with the virtual factory; its route is its operations."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PLANNED = "planned", _("Plan offered")
        INFEASIBLE = "infeasible", _("No feasible plan")
        CONFIRMED = "confirmed", _("All accepted")
        DONE = "done", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    class Certificates(models.TextChoices):
        DECLARED = "declared", _("As the factory declares them")
        ON_RECORD = "on_record", _("On record in the factory's profile and valid")
        VERIFIED = "verified", _("On record and verified by the platform")

    CLOSED = (Status.DONE, Status.CANCELLED)  # nothing more happens to these

    buyer = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="factory_orders")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    product = models.CharField(_("product"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"))
    start_week = models.DateField(_("first week"))
    due_week = models.DateField(_("due week"))
    min_quality = models.PositiveSmallIntegerField(_("minimum quality grade"), default=0)
    certifications = models.JSONField(_("required certifications"), default=list, blank=True)
    # what counts as holding a required certification: a factory's word, or a certificate in its professional
    # database profile (C3) that is still valid, or one an operator checked
    certificates = models.CharField(
        _("certificates counted"), max_length=10, choices=Certificates.choices, default=Certificates.DECLARED
    )
    max_suppliers = models.PositiveSmallIntegerField(_("suppliers per operation at most"), default=3)
    regions_only = models.JSONField(_("only these provinces"), default=list, blank=True)
    regions_excluded = models.JSONField(_("not these provinces"), default=list, blank=True)
    budget = models.DecimalField(_("budget"), max_digits=14, decimal_places=2, null=True, blank=True)
    late_penalty = models.DecimalField(_("lateness penalty per week"), max_digits=12, decimal_places=2, default=0)
    max_share = models.DecimalField(
        _("largest share of one factory"), max_digits=4, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    plan_version = models.PositiveIntegerField(default=0)
    plan_stats = models.JSONField(default=dict, blank=True)  # objective, bound, gap, seconds, costs
    # why no plan exists: findings ({operation, rule, detail}, worded when read), or a cancellation's reason
    diagnosis = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)  # the order's own record; its work has its own

    objects = StampedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("order")

    def __str__(self) -> str:
        return self.product


class Operation(models.Model):
    """One step of an order's route: a quantity of one process, after the steps it names."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="operations")
    seq = models.PositiveSmallIntegerField(_("step"))
    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    after = models.JSONField(_("after steps"), default=list, blank=True)
    # The quantity last entered for the step and the order's quantity then. A change of the order's quantity scales
    # the step from these, not from its last rounded value, so that changing it back and forth does not creep.
    entered_quantity = models.PositiveIntegerField(editable=False)
    entered_for = models.PositiveIntegerField(editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "seq"], name="operation_order_seq")]
        ordering = ["order_id", "seq"]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.seq}"


class OrderDocument(StoredFile):
    """A drawing or specification the buyer attaches to an order (PDF, image, STEP model, ZIP package): read by the
    buyer and the factories serving the order (`selectors.orders.reads_drawings`)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to="orders/%Y/%m/")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta(StoredFile.Meta):
        verbose_name = _("order document")
        verbose_name_plural = _("order documents")


class Allocation(StampsChanges, models.Model):
    """Work offered to one factory: a quantity of one operation in one week; its answer and its execution."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        COUNTERED = "countered", _("Counter-offered")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Not answered in time")
        LAPSED = "lapsed", _("Counter-offer lapsed")  # the buyer did not decide on it in time
        WITHDRAWN = "withdrawn", _("Withdrawn")
        SUPERSEDED = "superseded", _("Replaced by a new plan")
        DELIVERED = "delivered", _("Delivered")

    class MovedBy(models.TextChoices):
        """Why a re-plan took accepted work away: what set it off."""

        PLAN = "plan", _("The buyer planned the order again.")
        AMENDED = "amended", _("The buyer changed the order's due week, quantities or terms.")
        DECLINED = "declined", _("A factory declined its part.")
        COUNTER = "counter", _("The buyer decided on a counter-offer.")
        WITHDRAWN = "withdrawn", _("A factory withdrew its part.")
        DELAYED = "delayed", _("A factory reported its part late.")
        EXPIRED = "expired", _("Offers went unanswered.")
        CANCELLED = "cancelled", _("The buyer cancelled the order.")
        LEFT = "left", _("The factory's organization was suspended or left the platform.")

    class Receipt(models.TextChoices):
        CONFIRMED = "confirmed", _("Receipt confirmed")
        DISPUTED = "disputed", _("Delivery disputed")
        # a dispute the platform decided: for the buyer (a failed delivery) or for the factory
        UPHELD = "upheld", _("Dispute upheld by the platform")
        DISMISSED = "dismissed", _("Dispute dismissed by the platform")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="allocations")
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="allocations")
    capability = models.ForeignKey(Capability, on_delete=models.PROTECT, related_name="allocations")
    factory = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="allocations")
    week = models.DateField(_("week"))
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=2)
    plan_version = models.PositiveIntegerField()
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OFFERED)
    # Whose turn it is: the factory's deadline for an offer, the buyer's for a counter-offer.
    respond_by = models.DateTimeField(_("answer by"))
    # the deadline whose reminder went out (a counter-offer's new deadline is reminded of again)
    reminded_by = models.DateTimeField(null=True, blank=True, editable=False)
    counter_quantity = models.PositiveIntegerField(_("counter-offer quantity"), null=True, blank=True)
    # a counter-offer the buyer took: the quantity offered before it (`quantity` is then the counter's)
    offered_quantity = models.PositiveIntegerField(_("quantity offered"), null=True, blank=True)
    # a decline of the whole step (no other week either); else only this week of it is turned down
    declined_step = models.BooleanField(_("declined the whole step"), default=False)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # accepted work a re-plan took away: what set that re-plan off
    moved_by = models.CharField(_("moved by"), max_length=12, choices=MovedBy.choices, blank=True, default="")
    started = models.BooleanField(_("started"), default=False)
    quantity_done = models.PositiveIntegerField(_("quantity done"), default=0)
    defects = models.PositiveIntegerField(_("defective units"), default=0)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    # Set on acceptance and kept through delays: the scorecard's on-time rate is measured against it.
    promised_week = models.DateField(_("promised week"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    # The buyer's answer to a delivery: its inspection's defect count replaces the factory's in the scorecard.
    receipt = models.CharField(_("receipt"), max_length=10, choices=Receipt.choices, blank=True, default="")
    defects_found = models.PositiveIntegerField(_("defects found on receipt"), null=True, blank=True)
    # A dispute and the factory's reply: seen by the two parties (and operators) only; the buyer may settle it by
    # confirming.
    dispute_reason = models.CharField(_("dispute reason"), max_length=500, blank=True, default="")
    dispute_reply = models.CharField(_("factory's reply"), max_length=500, blank=True, default="")
    # Either party may ask the platform to decide a dispute the two do not settle; an operator then rules on it.
    dispute_referred_at = models.DateTimeField(_("dispute referred to the platform"), null=True, blank=True)
    # until when the factory may answer a referred dispute before the platform rules without it: fixed when
    # referred, as the factory is told then
    dispute_answer_by = models.DateTimeField(_("factory's answer due by"), null=True, blank=True)
    dispute_ruling = models.CharField(_("platform's ruling"), max_length=500, blank=True, default="")
    # Hex key of the keyed digests (`ledger.entries.sealed`) under which this work's free text goes on the public
    # log; made when first needed, and shown to those who see the text, so that they can check the log.
    text_key = models.CharField(max_length=64, blank=True, default="", editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StampedQuerySet.as_manager()

    class Meta:
        ordering = ["week", "id"]
        indexes = [models.Index(fields=["factory", "status"], name="allocation_factory_status")]

    def __str__(self) -> str:
        return f"{self.operation_id}@{self.factory_id}/{self.week}"

    @property
    def delivery_faulted(self) -> bool:
        """A delivery the buyer disputes, or one the platform found failed: not to be shown as done."""
        return self.receipt in (self.Receipt.DISPUTED, self.Receipt.UPHELD)

    @property
    def ruling_from(self) -> dt.datetime | None:
        """When the platform may rule on a referred dispute: at once if the factory has answered, else once the
        answer time it was told at the referral is over."""
        return self.dispute_referred_at if self.dispute_reply else self.dispute_answer_by

    @property
    def awaits_factory(self) -> bool:
        """A referred dispute waits for the factory's answer, or the end of its answer time, before a ruling."""
        return self.ruling_from is not None and self.ruling_from > timezone.now()

    @property
    def receipt_open(self) -> bool:
        """Delivered work the buyer may still confirm: not answered yet, or under a dispute not yet decided."""
        return self.receipt in ("", self.Receipt.DISPUTED)


class VirtualFactory(models.Model):
    """The members serving one order, formed as they accept their work."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="virtual_factory")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("virtual factory")

    def __str__(self) -> str:
        return f"VF {self.order_id}"


class FactoryMember(models.Model):
    """A member organization's role in a virtual factory."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead (buyer)")
        SUPPLIER = "supplier", _("Supplier")
        FINAL = "final", _("Last step and delivery")

    virtual_factory = models.ForeignKey(VirtualFactory, on_delete=models.CASCADE, related_name="members")
    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["virtual_factory", "organization"], name="factory_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} ({self.role})"
