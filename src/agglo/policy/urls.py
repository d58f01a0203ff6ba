from django.urls import path

from agglo.policy import views

app_name = "policy"
urlpatterns = [
    path("policies/", views.library, name="library"),
    path("policies/new/", views.draft, name="draft"),
    path("policies/agency/", views.workspace, name="workspace"),
    path("policies/calculators/", views.calculators, name="calculators"),
    path("policies/needs/", views.need_index, name="needs"),
    path("policies/needs/<int:pk>/answer/", views.need_answer, name="need_answer"),
    path("policies/<int:pk>/", views.detail, name="detail"),
    path("policies/<int:pk>/publish/", views.publish, name="publish"),
    path("policies/<int:pk>/close/", views.close, name="close"),
    path("policies/<int:pk>/matches.csv", views.matches_export, name="matches_export"),
    path("policies/<int:pk>/edit/", views.edit, name="edit"),
    path("policies/<int:pk>/documents/", views.documents_add, name="documents_add"),
    path("policies/documents/<int:document_id>/", views.document, name="document"),
    path("policies/documents/<int:document_id>/remove/", views.document_remove, name="document_remove"),
    path("policies/<int:pk>/apply/", views.apply, name="apply"),
    path("policies/<int:pk>/grant-eligible/", views.grant_eligible, name="grant_eligible"),
    path("applications/<int:pk>/decide/", views.decide, name="decide"),
    path("applications/<int:pk>/documents/", views.application_documents_add, name="application_documents_add"),
    path("applications/<int:pk>/pay/", views.pay, name="pay"),
    path("applications/documents/<int:document_id>/", views.application_document, name="application_document"),
]
