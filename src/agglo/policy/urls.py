from django.urls import path

from agglo.policy.views import applications, calculators, drafting, library, needs

app_name = "policy"
urlpatterns = [
    path("policies/", library.library, name="library"),
    path("policies/new/", drafting.draft, name="draft"),
    path("policies/agency/", library.workspace, name="workspace"),
    path("policies/calculators/", calculators.calculators, name="calculators"),
    path("policies/needs/", needs.need_index, name="needs"),
    path("policies/needs/<int:pk>/answer/", needs.need_answer, name="need_answer"),
    path("policies/<int:pk>/", library.detail, name="detail"),
    path("policies/<int:pk>/publish/", drafting.publish, name="publish"),
    path("policies/<int:pk>/close/", drafting.close, name="close"),
    path("policies/<int:pk>/matches.csv", library.matches_export, name="matches_export"),
    path("policies/<int:pk>/edit/", drafting.edit, name="edit"),
    path("policies/<int:pk>/documents/", drafting.documents_add, name="documents_add"),
    path("policies/documents/<int:document_id>/", library.document, name="document"),
    path("policies/documents/<int:document_id>/remove/", drafting.document_remove, name="document_remove"),
    path("policies/<int:pk>/apply/", applications.apply, name="apply"),
    path("policies/<int:pk>/grant-eligible/", applications.grant_eligible, name="grant_eligible"),
    path("applications/<int:pk>/decide/", applications.decide, name="decide"),
    path("applications/<int:pk>/documents/", applications.application_documents_add, name="application_documents_add"),
    path("applications/<int:pk>/pay/", applications.pay, name="pay"),
    path("applications/documents/<int:document_id>/", applications.application_document, name="application_document"),
]
