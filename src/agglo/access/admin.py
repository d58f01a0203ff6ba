from django.contrib import admin

from agglo.access import policy
from agglo.access.models import (
    AccessLogEntry,
    ApiToken,
    DailyQuota,
    Invitation,
    LoginThrottle,
    Membership,
    Node,
    NodeKey,
    PlatformRole,
)


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

    list_display = ["name", "user", "node", "scope", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the platform's services (which audit the change); operators look, and may delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class NodeKeyInline(admin.TabularInline):
    model = NodeKey
    fields = ["key_id", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Node)
class NodeAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "role", "created_at", "revoked_at"]
    raw_id_fields = ["organization", "user"]
    inlines = [NodeKeyInline]


@admin.register(LoginThrottle)
class LoginThrottleAdmin(ReadOnlyAdmin):
    """Delete a row to lift a lock early."""

    list_display = ["key", "failures", "first_failure_at", "locked_until"]
    search_fields = ["key"]


@admin.register(DailyQuota)
class DailyQuotaAdmin(ReadOnlyAdmin):
    list_display = ["day", "user", "kind", "count", "alerted"]
    list_filter = ["kind", "alerted", "day"]
    raw_id_fields = ["user"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read only: organization admins invite on their People page (the mailed token is not kept to be resent)."""

    list_display = ["email", "organization", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    raw_id_fields = ["organization", "invited_by", "accepted_by"]
    exclude = ["token_hash"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
