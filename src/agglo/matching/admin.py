from django.contrib import admin

from agglo.matching.models import MatchDocument, MatchEvent


class ReadOnly(admin.ModelAdmin):
    """The index is written by matching's services and the log by members' actions; the admin only reads."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MatchDocument)
class MatchDocumentAdmin(ReadOnly):
    list_display = ("source", "object_id", "organization", "live", "updated_at")
    list_filter = ("source", "live")


@admin.register(MatchEvent)
class MatchEventAdmin(ReadOnly):
    list_display = ("kind", "item_key", "query_key", "rank", "organization", "created_at")
    list_filter = ("kind",)
