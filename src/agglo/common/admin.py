from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from agglo.common.models import AuditEvent

# the operators' back office, named as the platform (Django's default reads "Django administration")
admin.site.site_header = _("Agglo operations")
admin.site.site_title = _("Agglo operations")
admin.site.index_title = _("Platform administration")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "event", "actor_label", "subject_type", "subject_id"]
    list_filter = ["event", "subject_type"]
    search_fields = ["event", "subject_id", "actor_label"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):  # the trail is written by services only
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
