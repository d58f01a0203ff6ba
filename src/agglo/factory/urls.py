from django.urls import path

from agglo.factory import views

app_name = "factory"
urlpatterns = [
    path("factory/", views.home, name="home"),
    path("factory/orders/new/", views.order_new, name="order_new"),
    path("factory/orders/<int:pk>/", views.order_detail, name="order"),
    path("factory/orders/<int:pk>/plan/", views.order_replan, name="order_replan"),
    path("factory/orders/<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
    path("factory/orders/<int:pk>/terms/", views.order_amend, name="order_amend"),
    path("factory/jobs/", views.job_board, name="jobs"),
    path("factory/allocations/<int:pk>/<slug:action>/", views.allocation_action, name="allocation_action"),
    path("factory/capacity/", views.capacity, name="capacity"),
    path("factory/scorecards/", views.scorecards, name="scorecards"),
    path("factory/disputes/", views.dispute_list, name="disputes"),
    path("factory/disputes/<int:pk>/rule/", views.dispute_ruling, name="dispute_ruling"),
]
