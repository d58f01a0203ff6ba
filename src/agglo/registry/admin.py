"""Django admin for operators: browse everything; changes go through the services (one write path)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agglo.access import policy
from agglo.common.errors import DomainError
from agglo.common.idempotency import acted
from agglo.registry import services
from agglo.registry.models import (
    Admission,
    AdmissionEvent,
    Chain,
    Organization,
    Position,
    Region,
    Relation,
    Segment,
    SegmentLink,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows records; edits happen on the platform's pages and API, where services validate and audit them."""

    def has_module_permission(self, request):
        return policy.sees_all_organizations(request.user)

    def has_view_permission(self, request, obj=None):
        return policy.sees_all_organizations(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PositionInline(admin.TabularInline):
    model = Position
    extra = 0
    fields = ["segment", "role", "note"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


# What the operator is told a status change did, and set off in the background (each app's `receivers`).
DONE = {
    "suspended": lambda n: ngettext(
        "%(n)d organization suspended: it is hidden from the directory, search, matching and listings until "
        "reinstated, its factories' open offers and work not yet begun are taken back and the orders concerned "
        "planned again without it; its admins, and the buyers, factories and respondents concerned, are told.",
        "%(n)d organizations suspended: they are hidden from the directory, search, matching and listings until "
        "reinstated, their factories' open offers and work not yet begun are taken back and the orders concerned "
        "planned again without them; their admins, and the buyers, factories and respondents concerned, are told.",
        n,
    ),
    "withdrawn": lambda n: ngettext(
        "%(n)d organization marked as withdrawn: its open orders are called off, its factories' open offers and "
        "work not yet begun taken back, its published needs and offers closed, and its nodes revoked; its admins, "
        "and the buyers, factories and respondents concerned, are told.",
        "%(n)d organizations marked as withdrawn: their open orders are called off, their factories' open offers "
        "and work not yet begun taken back, their published needs and offers closed, and their nodes revoked; "
        "their admins, and the buyers, factories and respondents concerned, are told.",
        n,
    ),
    "member": lambda n: ngettext(
        "%(n)d organization reinstated: others see it, its needs and offers and its capacity again, and its people "
        "can act for it. Its admins are told, with what was taken back or closed meanwhile and is not restored.",
        "%(n)d organizations reinstated: others see them, their needs and offers and their capacity again, and "
        "their people can act for them. Their admins are told, with what was taken back or closed meanwhile and "
        "is not restored.",
        n,
    ),
}


def _set_status(status: str, label: str):
    def action(modeladmin, request, queryset):
        done = unchanged = 0
        for org in queryset:
            if org.status == status:
                unchanged += 1
                continue
            try:
                services.organization_set_status(actor=request.user, organization=org, status=status)
                done += 1
                acted(request)  # a partial success is kept: the same action sent again must not change them again
            except DomainError as exc:
                modeladmin.message_user(request, f"{org}: {exc.message}", messages.ERROR)
        if done:
            modeladmin.message_user(request, DONE[status](done) % {"n": done}, messages.SUCCESS)
        if unchanged:
            modeladmin.message_user(
                request,
                ngettext(
                    "%(n)d organization already had this status and was left as it was.",
                    "%(n)d organizations already had this status and were left as they were.",
                    unchanged,
                )
                % {"n": unchanged},
                messages.WARNING,
            )

    action.short_description = label
    action.__name__ = f"set_{status}"
    return action


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ["name_zh", "name_en", "kind", "layer", "region", "status", "joined_at"]
    list_filter = ["status", "layer", "kind", "size_class"]
    search_fields = ["name_zh", "name_en", "uscc", "foreign_registry_id"]
    list_select_related = ["region"]
    inlines = [PositionInline]
    actions = [
        _set_status("suspended", _("Suspend")),
        _set_status("member", _("Reinstate as member")),
        _set_status("withdrawn", _("Mark as withdrawn")),
    ]
    exclude = ["search_text", "chain_codes"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ["code", "name_zh", "name_en", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name_zh", "name_en"]


class SegmentInline(admin.TabularInline):
    model = Segment
    extra = 0
    fields = ["code", "name_zh", "name_en", "stage", "order"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Chain)
class ChainAdmin(ReadOnlyAdmin):
    list_display = ["code", "name_zh", "name_en"]
    inlines = [SegmentInline]


@admin.register(SegmentLink)
class SegmentLinkAdmin(ReadOnlyAdmin):
    list_display = ["upstream", "downstream"]
    list_filter = ["upstream__chain"]


@admin.register(Relation)
class RelationAdmin(ReadOnlyAdmin):
    list_display = ["source_org", "kind", "target_org", "started_on", "ended_on", "source"]
    list_filter = ["kind", "source"]
    raw_id_fields = ["source_org", "target_org"]


class AdmissionEventInline(admin.TabularInline):
    model = AdmissionEvent
    extra = 0
    readonly_fields = ["status", "note", "by_applicant", "actor", "occurred_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Admission)
class AdmissionAdmin(ReadOnlyAdmin):
    list_display = ["organization", "status", "contact_email", "created_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["organization__name_zh", "contact_email"]
    exclude = ["admin_password_hash", "tracking_token"]
    inlines = [AdmissionEventInline]
