"""An order's drawings and specifications: attached and removed by the buyer on the order page, downloaded by
whoever reads its drawings (`selectors.orders.reads_drawings`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from agglo.common.errors import NotFound
from agglo.factory.downloads import drawing_download
from agglo.factory.models import OrderDocument
from agglo.factory.selectors import orders as selectors
from agglo.factory.services import documents
from agglo.factory.services.documents import FILE_SEPARATOR
from agglo.factory.views.acting import acting
from agglo.factory.views.orders import order_or_404

LABELS = {"files": gettext_lazy("Drawings and specifications")}


@login_required
@require_POST
def documents_add(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_or_404(request, pk)
    with acting(request, LABELS):
        saved = documents.order_documents_add(actor=request.user, order=order, files=request.FILES.getlist("files"))
        messages.success(
            request, _("Attached: %(names)s.") % {"names": str(FILE_SEPARATOR).join(d.original_name for d in saved)}
        )
    return redirect(f"{reverse('factory:order', args=[order.pk])}#documents")


def _document_or_404(request: HttpRequest, document_id: int) -> OrderDocument:
    try:
        return selectors.document_get(actor=request.user, pk=document_id)
    except NotFound as exc:
        raise Http404 from exc


@login_required
def document(request: HttpRequest, document_id: int) -> FileResponse:
    try:
        return drawing_download(request.user, _document_or_404(request, document_id), channel="page")
    except NotFound as exc:
        raise Http404 from exc


@login_required
@require_POST
def document_remove(request: HttpRequest, document_id: int) -> HttpResponse:
    doc = _document_or_404(request, document_id)
    order_id = doc.order_id
    with acting(request, LABELS):
        documents.order_document_remove(actor=request.user, document=doc)
        messages.success(request, _("Removed: %(name)s.") % {"name": doc.original_name})
    return redirect(f"{reverse('factory:order', args=[order_id])}#documents")
