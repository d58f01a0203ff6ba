from django.urls import path

from agglo.factory.views import (
    board,
    calendar_file,
    capacity,
    disputes,
    documents,
    orders,
    plan_file,
    scorecards,
    shared,
)

app_name = "factory"
urlpatterns = [
    path("factory/", orders.home, name="home"),
    path("factory/orders/new/", orders.order_new, name="order_new"),
    path("factory/orders/<int:pk>/", orders.order_detail, name="order"),
    path("factory/orders/<int:pk>/plan/", orders.order_replan, name="order_replan"),
    path("factory/orders/<int:pk>/cancel/", orders.order_cancel, name="order_cancel"),
    path("factory/orders/<int:pk>/plan.<slug:format>", plan_file.plan_download, name="plan_download"),
    path("factory/orders/<int:pk>/terms/", orders.order_amend, name="order_amend"),
    path("factory/orders/<int:pk>/documents/", documents.documents_add, name="documents_add"),
    path("factory/documents/<int:document_id>/", documents.document, name="document"),
    path("factory/documents/<int:document_id>/remove/", documents.document_remove, name="document_remove"),
    path("factory/jobs/", board.job_board, name="jobs"),
    path("factory/orders/<int:pk>/accept-offers/", board.offers_accept, name="offers_accept"),
    path("factory/allocations/<int:pk>/<slug:action>/", board.allocation_action, name="allocation_action"),
    path("factory/capacity/", capacity.capacity, name="capacity"),
    path("factory/capacity/file/", calendar_file.calendar_upload, name="calendar_upload"),
    path("factory/capacity/file.<slug:format>", calendar_file.calendar_download, name="calendar_download"),
    path("factory/scorecards/", scorecards.scorecards, name="scorecards"),
    path("factory/shared/", shared.shared, name="shared"),
    path("factory/disputes/", disputes.dispute_list, name="disputes"),
    path("factory/disputes/<int:pk>/rule/", disputes.dispute_ruling, name="dispute_ruling"),
]
