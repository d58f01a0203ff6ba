"""An order's plan as a file, to read in a spreadsheet: the reader's part of it, as the order page shows it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from agglo.common.downloads import attachment
from agglo.common.errors import ValidationFailed
from agglo.factory.selectors.plan_file import plan_file
from agglo.factory.views.orders import order_or_404


@login_required
@require_GET
def plan_download(request: HttpRequest, pk: int, format: str) -> HttpResponse:
    order = order_or_404(request, pk)
    try:
        body, content_type, name = plan_file(actor=request.user, order=order, format=format)
    except ValidationFailed as exc:
        raise Http404(str(exc)) from exc
    return attachment(body, content_type, name)
