from django.urls import path

from agglo.registry.views import admission, chains, directory, editing, review

app_name = "registry"
urlpatterns = [
    path("directory/", directory.directory, name="directory"),
    path("organizations/<int:pk>/edit/", editing.organization_edit, name="organization_edit"),
    path("organizations/<int:pk>/positions/", editing.position_add_page, name="position_add"),
    path(
        "organizations/<int:pk>/positions/<int:position_id>/remove/",
        editing.position_remove_page,
        name="position_remove",
    ),
    path(
        "organizations/<int:pk>/relations/<int:relation_id>/remove/",
        editing.relation_remove_page,
        name="relation_remove",
    ),
    path("chains/", chains.chain_index, name="chains"),
    path("chains/<slug:code>/", chains.chain_map_page, name="chain_map"),
    path("apply/", admission.admission_apply_page, name="apply"),
    path("apply/status/<str:token>/", admission.admission_status_page, name="admission_status"),
    path("review/", review.review_queue, name="review_queue"),
    path("review/<int:pk>/", review.review_detail, name="review_detail"),
    path("review/<int:pk>/documents/<int:doc_id>/", review.review_document, name="review_document"),
]
