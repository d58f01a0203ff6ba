from django.urls import path

from agglo.registry import views

app_name = "registry"
urlpatterns = [
    path("directory/", views.directory, name="directory"),
    path("organizations/<int:pk>/edit/", views.organization_edit, name="organization_edit"),
    path("organizations/<int:pk>/positions/", views.position_add_page, name="position_add"),
    path(
        "organizations/<int:pk>/positions/<int:position_id>/remove/", views.position_remove_page, name="position_remove"
    ),
    path(
        "organizations/<int:pk>/relations/<int:relation_id>/remove/",
        views.relation_remove_page,
        name="relation_remove",
    ),
    path("chains/", views.chain_index, name="chains"),
    path("chains/<slug:code>/", views.chain_map_page, name="chain_map"),
    path("apply/", views.admission_apply_page, name="apply"),
    path("apply/status/<str:token>/", views.admission_status_page, name="admission_status"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/<int:pk>/", views.review_detail, name="review_detail"),
    path("review/<int:pk>/documents/<int:doc_id>/", views.review_document, name="review_document"),
]
