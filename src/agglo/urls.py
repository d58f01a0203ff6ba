from django.contrib import admin
from django.urls import include, path

from agglo.api import api
from agglo.web.auth_views import admin_login, admin_password_change, language_switch

admin.site.login = admin_login  # type: ignore[method-assign]  # the platform's login, with lockout and two-factor
admin.site.password_change = admin_password_change  # type: ignore[method-assign]  # which also revokes tokens

urlpatterns = [
    path("i18n/setlang/", language_switch, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("agglo.web.urls")),
    path("", include("agglo.profiles.urls")),
    path("", include("agglo.market.urls")),
    path("", include("agglo.matching.urls")),
    path("", include("agglo.factory.urls")),
    path("", include("agglo.ledger.urls")),
    path("", include("agglo.policy.urls")),
    path("", include("agglo.registry.urls")),
]

handler400 = "agglo.web.views.bad_request"
handler403 = "agglo.web.views.forbidden"
handler404 = "agglo.web.views.not_found"
handler500 = "agglo.web.views.server_error"
