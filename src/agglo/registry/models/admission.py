from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agglo.common.models import TimeStampedModel
from agglo.registry.models.organizations import Organization


class Admission(TimeStampedModel):
    """An application to join the platform (准入), reviewed by an operator."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        NEEDS_INFO = "needs_info", _("More information requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="admissions")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    # The applicant follows the application with this secret link; only its digest would be needed, but the
    # applicant must be able to see it again on the confirmation page, so it is random and unguessable.
    tracking_token = models.CharField(max_length=43, unique=True)
    contact_name = models.CharField(_("contact person"), max_length=100)
    contact_email = models.EmailField(_("contact email"))
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    # Hash of the password the applicant chose for the admin account that approval creates.
    admin_password_hash = models.CharField(max_length=256)
    message = models.TextField(_("message to the reviewer"), blank=True)
    # The language the applicant applied in: the decision is written to them in it, and their account keeps it.
    # Empty: the platform's default language (AGGLO_LANGUAGE).
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True, default="")
    duplicate_flags = models.JSONField(_("possible duplicates"), default=list, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    admin_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The key under which the transparency log keeps the decision's reason (hmac): the applicant can check it,
    # nobody else can test a guess of a short reason.
    text_key = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="admission_status_created")]
        verbose_name = _("admission")
        verbose_name_plural = _("admissions")

    def __str__(self) -> str:
        return f"{self.organization} ({self.status})"


class AdmissionEvent(models.Model):
    """One step in an application's history: submitted, info requested, answered, approved, rejected."""

    admission = models.ForeignKey(Admission, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=12, choices=Admission.Status.choices)
    note = models.TextField(_("note"), blank=True)
    by_applicant = models.BooleanField(default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("admission event")
        verbose_name_plural = _("admission events")

    def __str__(self) -> str:
        return f"{self.admission_id} {self.status}"


def admission_upload_path(instance: AdmissionDocument, filename: str) -> str:
    return f"admission/{instance.admission_id}/{instance.sha256[:16]}{instance.extension}"


class AdmissionDocument(models.Model):
    """A file the applicant attached (business licence, ID of the legal representative, ...)."""

    admission = models.ForeignKey(Admission, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to=admission_upload_path)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=60)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("admission document")
        verbose_name_plural = _("admission documents")

    def __str__(self) -> str:
        return self.original_name
