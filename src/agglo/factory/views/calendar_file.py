"""The capacity calendar as a file: download it to edit in a spreadsheet, and import it back."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from agglo.access import policy
from agglo.common.downloads import attachment
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.factory.forms import CalendarFileForm
from agglo.factory.selectors.calendar import calendar_page
from agglo.factory.selectors.calendar_file import KEY_COLUMNS, calendar_file
from agglo.factory.services.calendar_file import calendar_import
from agglo.factory.services.capacity import page_start_checked
from agglo.profiles.services.imports import size_check
from agglo.registry.forms import apply_service_errors


@login_required
@require_GET
def calendar_download(request: HttpRequest, format: str) -> HttpResponse:
    """The weeks of the calendar page that starts at `from` (the first page by default)."""
    try:
        body, content_type, name = calendar_file(
            actor=request.user, format=format, weeks=calendar_page(page_start_checked(request.GET.get("from"))).weeks
        )
    except ValidationFailed as exc:
        raise Http404(str(exc)) from exc
    return attachment(body, content_type, name)


@login_required
@require_http_methods(["GET", "POST"])
def calendar_upload(request: HttpRequest) -> HttpResponse:
    """Check a calendar file (dry run) or apply it; every bad row is listed with its column and rule."""
    form = CalendarFileForm(request.POST or None, request.FILES or None)
    result, status = None, 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            size_check(upload.size or 0)  # before the body is read, as the API does (data review 58 L7)
            result = calendar_import(
                actor=request.user,
                body=upload.read(),
                filename=upload.name or "upload",
                dry_run=form.cleaned_data["dry_run"],
            )
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
            status = 400
        else:
            status = 400 if result.errors else 200
    elif request.method == "POST":
        status = 400
    context = {
        "form": form,
        "result": result,
        "key_columns": KEY_COLUMNS,
        "may_import": policy.is_operator(request.user) or bool(policy.administered_organization_ids(request.user)),
    }
    return render(request, "factory/calendar_file.html", context, status=status)
