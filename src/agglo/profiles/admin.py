"""Django admin for operators and auditors: browse the professional database; writes go through the services."""

from __future__ import annotations

from django.contrib import admin

from agglo.profiles.models import (
    CapabilityTerm,
    Case,
    CreditRating,
    FinancialStatement,
    ImportRun,
    IPAsset,
    OrganizationCapability,
)
from agglo.registry.admin import ReadOnlyAdmin

PROVENANCE = ["source", "as_of", "valid_until", "verified_by"]


@admin.register(FinancialStatement)
class FinancialStatementAdmin(ReadOnlyAdmin):
    list_display = ["organization", "year", "revenue", "total_assets", *PROVENANCE]
    list_filter = ["source", "year"]
    search_fields = ["organization__name_zh", "organization__uscc"]
    raw_id_fields = ["organization"]


@admin.register(CreditRating)
class CreditRatingAdmin(ReadOnlyAdmin):
    list_display = ["organization", "grade", "rating_body", "agency_name", *PROVENANCE]
    list_filter = ["grade", "rating_body"]
    search_fields = ["organization__name_zh", "agency_name"]


@admin.register(IPAsset)
class IPAssetAdmin(ReadOnlyAdmin):
    list_display = ["organization", "kind", "number", "title", "status", *PROVENANCE]
    list_filter = ["kind", "status"]
    search_fields = ["number", "title", "organization__name_zh"]


@admin.register(OrganizationCapability)
class OrganizationCapabilityAdmin(ReadOnlyAdmin):
    list_display = ["organization", "term", "certificate_no", *PROVENANCE]
    list_filter = ["term__kind"]
    search_fields = ["organization__name_zh", "term__code"]


@admin.register(CapabilityTerm)
class CapabilityTermAdmin(ReadOnlyAdmin):
    """The catalogue is curated in data/capabilities.json and loaded with `agglo load_catalogue`."""

    list_display = ["code", "kind", "name_zh", "name_en"]
    list_filter = ["kind"]
    search_fields = ["code", "name_zh", "name_en", "synonyms"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["title", "organization", "kind", "started_on", "ended_on", "visibility"]
    list_filter = ["kind", "visibility"]
    search_fields = ["title", "organization__name_zh"]


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "kind", "filename", "actor", "status", "rows", "created", "updated", "duration_ms"]
    list_filter = ["kind", "status"]
