from django.urls import path, re_path

from agglo.ledger import views

app_name = "ledger"
urlpatterns = [
    # Fixed paths that outside verifiers and tile clients rely on: never rename them.
    path("ledger/checkpoint", views.checkpoint, name="checkpoint"),
    path("ledger/key", views.key, name="key"),
    re_path(r"^ledger/tile/(?P<path>[0-9a-z./]+)$", views.tile, name="tile"),
    path("ledger/", views.overview, name="overview"),
    path("ledger/mine/", views.mine, name="mine"),
    path("ledger/receipts/<int:index>.json", views.receipt, name="receipt"),
]
