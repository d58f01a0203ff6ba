from django.contrib import admin

from agglo.access import policy
from agglo.access.models import AccessLogEntry, ApiToken, Membership, PlatformRole


@admin.register(PlatformRole)
class PlatformRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "granted_at"]
    list_filter = ["role"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "joined_at"]
    list_filter = ["role"]
    raw_id_fields = ["user", "organization"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are issued and revoked through the API or `agglo token`, which audit it."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is written by the platform when outsiders view sensitive field groups."""

    list_display = ["occurred_at", "owner", "group", "channel", "viewer_label", "viewer_orgs", "viewer_roles"]
    list_filter = ["group", "channel"]
    raw_id_fields = ["owner", "viewer"]

    def has_module_permission(self, request):
        return policy.sees_all_organizations(request.user)

    def has_view_permission(self, request, obj=None):
        return policy.sees_all_organizations(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
