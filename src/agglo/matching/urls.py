from django.urls import path

from agglo.matching import views

app_name = "matching"
urlpatterns = [
    path("matching/listings/<int:pk>/panel/", views.listing_panel, name="listing_panel"),
    path("matching/partners/", views.partners_page, name="partners"),
    path("matching/open/", views.open_result, name="open"),
]
