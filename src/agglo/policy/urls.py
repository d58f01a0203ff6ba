from django.urls import path

from agglo.policy import views

app_name = "policy"
urlpatterns = [
    path("policies/", views.library, name="library"),
    path("policies/new/", views.draft, name="draft"),
    path("policies/<int:pk>/", views.detail, name="detail"),
    path("policies/<int:pk>/publish/", views.publish, name="publish"),
]
