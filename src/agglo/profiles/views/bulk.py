"""Bulk import of CSV/XLSX files (dry run or applied) and export as CSV, XLSX or JSON."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from agglo.access import policy
from agglo.access.models import DailyQuota
from agglo.access.ratelimit import RateLimited
from agglo.access.selectors import daily_usage
from agglo.common.errors import DomainError, ValidationFailed
from agglo.common.problem import too_many
from agglo.profiles import services
from agglo.profiles.exporting import export_response
from agglo.profiles.forms import (
    EXPORT_LABELS,
    ImportForm,
)
from agglo.profiles.messages import FIELD_LABELS
from agglo.profiles.selectors.exports import EXPORT_KINDS
from agglo.registry.forms import apply_service_errors


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload a CSV/XLSX file: check it (dry run) or apply it; every bad row is listed with its column and rule."""
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.import_size_check(upload.size or 0)
            result = services.import_file(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                body=upload.read(),
                filename=upload.name or "upload",
                dry_run=form.cleaned_data["dry_run"],
            )
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
            status = 400
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = 403 if exc.status == 403 else 400
        else:
            status = 200 if not result.errors else 400
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "profiles/import.html",
        {
            "form": form,
            "result": result,
            "export_kinds": [(k, EXPORT_LABELS[k]) for k in EXPORT_KINDS],
            "formats": ("csv", "xlsx", "json"),
            "field_labels": FIELD_LABELS,
            "has_own": bool(policy.organization_ids(request.user)),
            "limits": _export_limits(request.user),
        },
        status=status,
    )


def _export_limits(user: Any) -> dict[str, Any]:
    """What an export of others' data counts against today: the exports, and for members (not government officers
    or the platform's staff) a profile view of each other organization in it (`quotas.profiles_exported`)."""
    usage = daily_usage(user)
    views = None if policy.platform_roles(user) else usage.get(DailyQuota.Kind.PROFILE_VIEW)
    return {"exports": usage.get(DailyQuota.Kind.EXPORT), "views": views}


@login_required
def export_page(request: HttpRequest, kind: str, format: str) -> HttpResponse:
    # a link on another site would spend the reader's daily exports and put their name in others' access logs
    # (review 49 F8): an export starts from the platform's own pages, or is typed in
    if request.headers.get("Sec-Fetch-Site", "none") not in ("same-origin", "none"):  # a sibling site too
        raise PermissionDenied(_("Start an export from the import and export page."))
    try:
        return export_response(request.user, kind, format, channel="export", own=request.GET.get("own") == "1")
    except RateLimited as exc:
        return too_many(request, exc)
    except ValidationFailed as exc:
        raise Http404(str(exc)) from exc
    except DomainError as exc:
        raise PermissionDenied(exc.message) from exc
