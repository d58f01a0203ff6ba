"""Home, notifications, health and error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme

from agglo.common.notify import notification_list, notifications_mark_read
from agglo.common.problem import problem_response
from agglo.registry import selectors


def home(request: HttpRequest) -> HttpResponse:
    context = {"stats": selectors.cluster_stats(), "chains": selectors.chain_list()}
    if request.user.is_authenticated:
        from agglo.policy.selectors import policies_for

        context["policies"] = policies_for(actor=request.user)
    return render(request, "web/home.html", context)


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first; posting marks them all read."""
    if request.method == "POST":
        notifications_mark_read(user=request.user)
        return redirect("web:notifications")
    items = notification_list(user=request.user).order_by("-created_at")[:100]
    return render(request, "web/notifications.html", {"items": items})


@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow one of the user's notifications to what it is about, marking it read on the way."""
    item = notification_list(user=request.user).filter(pk=pk).first()
    if item is None:
        raise Http404
    notifications_mark_read(user=request.user, pk=item.pk)
    # only a path on this site: a link is the platform's own, but never an open redirect ("//host", "/\\host")
    on_site = item.link.startswith("/") and url_has_allowed_host_and_scheme(item.link, allowed_hosts=None)
    return redirect(item.link if on_site else "web:notifications")


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico where a page names none (their own error pages): the icon, not a 404 page,
    which would also show, and so use up, the messages waiting for the user's next page."""
    return redirect(static("web/favicon.svg"), permanent=True)


def healthz(request: HttpRequest) -> JsonResponse:
    """For a load balancer: 200 while the database answers and the pages' static files can be named, else 503
    with what failed (a release whose `collectstatic` was skipped answered every page with a 500 while this said
    ok; review 53 F10)."""
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.db import DatabaseError

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "database unavailable"}, status=503)
    try:
        staticfiles_storage.url("web/agglo.css")  # the manifest names it, as every page does
    except ValueError:
        return JsonResponse({"status": "static files not collected (agglo collectstatic)"}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})


# the API's own problem types (docs/api.md), for a path no operation answers
API_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 500: "internal_error"}


def _error(request: HttpRequest, status: int, title: str, detail: str = "") -> HttpResponse:
    if request.path.startswith("/api/"):
        if status == 404:  # no such operation, or an id in the path that is not one: as the API's own 404 reads
            from django.utils.translation import gettext as _

            title = _("Not found.")
        return problem_response(status, title, code=API_CODES.get(status, f"http_{status}"), instance=request.path)
    return render(request, "web/error.html", {"status": status, "title": title, "detail": detail}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from django.utils.translation import gettext as _

    return _error(request, 400, _("Bad request"))


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from django.utils.translation import gettext as _

    # a service's refusal says who may do this ("Only the buyer decides on a counter-offer."); Django's carry none
    return _error(request, 403, _("You may not see this page"), str(exception or ""))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from django.utils.translation import gettext as _

    return _error(request, 404, _("Page not found"))


def server_error(request: HttpRequest) -> HttpResponse:
    from django.utils.translation import gettext as _

    return _error(request, 500, _("Something went wrong; it has been logged"))
