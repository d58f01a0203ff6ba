from django.urls import path

from agglo.registry import views

app_name = "registry"
urlpatterns = [
    path("directory/", views.directory, name="directory"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization"),
    path("chains/", views.chain_index, name="chains"),
    path("chains/<slug:code>/", views.chain_map_page, name="chain_map"),
    path("apply/", views.admission_apply_page, name="apply"),
    path("apply/status/<str:token>/", views.admission_status_page, name="admission_status"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/<int:pk>/", views.review_detail, name="review_detail"),
    path("review/<int:pk>/documents/<int:doc_id>/", views.review_document, name="review_document"),
]
