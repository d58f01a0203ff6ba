from django.urls import path

from agglo.policy import views

app_name = "policy"
urlpatterns = [
    path("policies/", views.library, name="library"),
    path("policies/new/", views.draft, name="draft"),
    path("policies/<int:pk>/", views.detail, name="detail"),
    path("policies/<int:pk>/publish/", views.publish, name="publish"),
    path("policies/<int:pk>/apply/", views.apply, name="apply"),
    path("policies/<int:pk>/grant-eligible/", views.grant_eligible, name="grant_eligible"),
    path("applications/<int:pk>/decide/", views.decide, name="decide"),
]
