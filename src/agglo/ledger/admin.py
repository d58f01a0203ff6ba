from django.contrib import admin

from agglo.ledger.models import Cosignature, LogEntry, SignedCheckpoint, Witness


class ReadOnly(admin.ModelAdmin):
    """The log is written only by its services; even operators only look (audit: `agglo ledger audit`)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnly):
    list_display = ["index", "type", "subject", "logged_at"]
    list_filter = ["type"]
    exclude = ["data"]


@admin.register(SignedCheckpoint)
class CheckpointAdmin(ReadOnly):
    list_display = ["size", "published_at"]
    exclude = ["root"]


@admin.register(Witness)
class WitnessAdmin(admin.ModelAdmin):
    """Register witnesses through the API (validated); here operators can switch one off."""

    list_display = ["name", "verifier_key", "active", "created_at"]
    fields = ["active"]

    def has_add_permission(self, request):
        return False


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnly):
    list_display = ["checkpoint", "witness", "signed_at", "received_at"]
