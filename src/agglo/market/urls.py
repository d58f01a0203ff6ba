from django.urls import path

from agglo.market import views

app_name = "market"
urlpatterns = [
    path("market/", views.browse, name="browse"),
    path("market/new/", views.listing_new, name="new"),
    path("market/mine/", views.mine, name="mine"),
    path("market/review/", views.review_queue, name="review_queue"),
    path("market/<int:pk>/", views.listing_detail, name="detail"),
    path("market/<int:pk>/edit/", views.listing_edit, name="edit"),
    path("market/<int:pk>/<slug:action>/", views.listing_action, name="action"),
    path("market/interests/<int:pk>/<slug:action>/", views.interest_action, name="interest_action"),
]
