from django.urls import path

from agglo.profiles.views import bulk, cases, catalogue, facts, profile

app_name = "profiles"
urlpatterns = [
    path("organizations/<int:pk>/", profile.organization_profile, name="organization"),
    path("organizations/<int:pk>/tab/<slug:tab>/", profile.organization_profile, name="organization_tab"),
    path("organizations/<int:pk>/disclosure/", facts.disclosure_page, name="disclosure"),
    path("organizations/<int:pk>/facts/<slug:kind>/new/", facts.fact_edit, name="fact_new"),
    path("organizations/<int:pk>/facts/<slug:kind>/<int:fact_id>/", facts.fact_edit, name="fact_edit"),
    path(
        "organizations/<int:pk>/facts/<slug:kind>/<int:fact_id>/<slug:action>/", facts.fact_action, name="fact_action"
    ),
    path("organizations/<int:pk>/evidence/<int:evidence_id>/", facts.evidence_file, name="evidence"),
    path("organizations/<int:pk>/evidence/<int:evidence_id>/remove/", facts.evidence_remove, name="evidence_remove"),
    path("organizations/<int:pk>/cases/new/", cases.case_edit, name="case_new"),
    path("organizations/<int:pk>/cases/<int:case_id>/", cases.case_edit, name="case_edit"),
    path("organizations/<int:pk>/cases/<int:case_id>/<slug:action>/", cases.case_action, name="case_action"),
    path("profiles/import/", bulk.import_page, name="import"),
    path("profiles/export/<slug:kind>.<slug:format>", bulk.export_page, name="export"),
    path("capabilities/", catalogue.catalogue_page, name="catalogue"),
]
