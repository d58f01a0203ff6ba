"""Shared base models and the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Adds created/updated timestamps."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class StoredFile(models.Model):
    """What `common.uploads.store_upload` keeps of an uploaded file beside the file itself (which each kind of
    document declares, with where it is stored): its name as sent, its type read from its bytes, size and digest."""

    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class AuditEvent(models.Model):
    """One recorded state change: who did what to which record, with the details needed to explain it later."""

    occurred_at = models.DateTimeField(_("occurred at"), auto_now_add=True, db_index=True)
    event = models.CharField(_("event"), max_length=80, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    subject_type = models.CharField(_("subject type"), max_length=80)
    subject_id = models.CharField(_("subject id"), max_length=64)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    # The organization whose data the subject is, so one organization's full history is one indexed read,
    # and the field group (e.g. "financials") so that history is shown only to those who may see that group.
    organization_id = models.PositiveIntegerField(null=True, blank=True)
    group = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["organization_id", "-occurred_at"], name="audit_org_time"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.event} {self.subject_type}:{self.subject_id}"


class Notification(models.Model):
    """An in-app message to one user: something happened that they should look at."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    verb = models.CharField(_("event"), max_length=60)
    text = models.CharField(_("text"), max_length=500)  # in the reader's language when written
    # the platform's own words in every language it speaks, so that the list follows the reader's language
    # switch (empty for someone's own words, which are as they wrote them)
    texts = models.JSONField(default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.verb}"

    @property
    def shown(self) -> str:
        """The text in the language now active, where the platform wrote it in that language."""
        return str(self.texts.get(get_language() or "") or self.text)


class LanguagePreference(models.Model):
    """The language a user reads the platform in: their pages once logged in, their notifications and e-mails."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="language_preference"
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("language preference")
        verbose_name_plural = _("language preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"


class SentRequest(models.Model):
    """A change a user sent, kept for a day, so that the same request sent again (a double click, a page reloaded
    over its form, an API client's retry under the same Idempotency-Key) gets the first answer instead of acting
    twice. A request that fails leaves no row: it changed nothing, so sending it again is safe."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)  # SHA-256 hex of the client's key, or of a page's form as sent
    fingerprint = models.CharField(max_length=64)  # SHA-256 hex of the method, address and body
    started_at = models.DateTimeField(db_index=True)
    done = models.BooleanField(default=False)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    location = models.CharField(max_length=2000, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    body = models.BinaryField(default=b"", blank=True)
    # the answer held a secret shown once (a new token): it is not kept, and a retry is told so
    withheld = models.BooleanField(default=False)
    # a page's redirect: the messages it queued for the next page, [level, text], shown again with a replay
    notes = models.JSONField(default=list, blank=True)
    # a page's form by what it says, without the drawing's token: the same content sent from a form drawn again
    content = models.CharField(max_length=64, blank=True)
    # the sender's rights once it was done (`access.policy.standing`): no replay once they changed
    standing = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="sent_request_once")]
        verbose_name = _("sent request")
        verbose_name_plural = _("sent requests")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key[:12]}"
