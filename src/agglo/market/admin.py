"""Django admin for operators and auditors: browse needs, offers and interest; writes go through the services."""

from __future__ import annotations

from django.contrib import admin

from agglo.market.models import Interest, Listing
from agglo.registry.admin import ReadOnlyAdmin


@admin.register(Listing)
class ListingAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "side", "kind", "organization", "status", "visibility", "anonymous", "expires_on"]
    list_filter = ["side", "kind", "status", "visibility"]
    search_fields = ["title_zh", "title_en", "organization__name_zh"]


@admin.register(Interest)
class InterestAdmin(ReadOnlyAdmin):
    list_display = ["listing", "organization", "cooperation", "status", "created_at"]
    list_filter = ["status", "cooperation"]
