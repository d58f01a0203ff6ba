from django.urls import path

from agglo.profiles import views

app_name = "profiles"
urlpatterns = [
    path("organizations/<int:pk>/", views.organization_profile, name="organization"),
    path("organizations/<int:pk>/tab/<slug:tab>/", views.organization_profile, name="organization_tab"),
    path("organizations/<int:pk>/disclosure/", views.disclosure_page, name="disclosure"),
    path("organizations/<int:pk>/facts/<slug:kind>/new/", views.fact_edit, name="fact_new"),
    path("organizations/<int:pk>/facts/<slug:kind>/<int:fact_id>/", views.fact_edit, name="fact_edit"),
    path(
        "organizations/<int:pk>/facts/<slug:kind>/<int:fact_id>/<slug:action>/", views.fact_action, name="fact_action"
    ),
    path("organizations/<int:pk>/evidence/<int:evidence_id>/", views.evidence_file, name="evidence"),
    path("organizations/<int:pk>/evidence/<int:evidence_id>/remove/", views.evidence_remove, name="evidence_remove"),
    path("organizations/<int:pk>/cases/new/", views.case_edit, name="case_new"),
    path("organizations/<int:pk>/cases/<int:case_id>/", views.case_edit, name="case_edit"),
    path("organizations/<int:pk>/cases/<int:case_id>/<slug:action>/", views.case_action, name="case_action"),
    path("profiles/import/", views.import_page, name="import"),
    path("profiles/export/<slug:kind>.<slug:format>", views.export_page, name="export"),
    path("capabilities/", views.catalogue_page, name="catalogue"),
]
