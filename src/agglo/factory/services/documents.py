"""An order's drawings and specifications: the buyer attaches and removes them; the factories that serve the order
are told when new ones come while their work is open."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from agglo.access.models import AccessLogEntry
from agglo.access.policy import PUBLIC_ORG_STATUSES
from agglo.access.services import sensitive_views_record
from agglo.common.audit import record
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.language import Joined, Phrase
from agglo.common.uploads import DRAWING_TYPES, check_documents, files_removed_on_failure, store_upload
from agglo.factory.models import Allocation, Order, OrderDocument
from agglo.factory.selectors.orders import may_decide
from agglo.factory.services.telling import tell_factory
from agglo.factory.services.work import buyer_not_in_good_standing, standing_refused
from agglo.registry.services.standing import standing_held

MAX_DOCUMENTS = 20
FILE_SEPARATOR = pgettext_lazy("between file names", ", ")
OPEN_WORK = (Allocation.Status.OFFERED, Allocation.Status.COUNTERED, Allocation.Status.ACCEPTED)


def _may_change(actor: Any, order: Order) -> None:
    if not may_decide(actor, order):
        standing_refused(actor, order.buyer_id, buyer_not_in_good_standing())
        raise Forbidden(_("Only whoever placed the order, or an admin of the buyer, attaches or removes its files."))
    if order.status in Order.CLOSED:
        raise ValidationFailed({"status": [_("This order is closed.")]})


def documents_checked(files: Sequence[UploadedFile], errors: dict[str, list[str]], *, held: int = 0) -> None:
    """Errors under `files` for files of a kind not taken, too large, or too many with the `held` ones."""
    check_documents(files, errors, field="files", max_count=MAX_DOCUMENTS, held=held, types=DRAWING_TYPES)


def documents_stored(*, actor: Any, order: Order, files: Sequence[UploadedFile]) -> list[OrderDocument]:
    """Keep checked files as the order's documents, on the audit trail by name and digest. Files are written to
    storage as they come; if anything fails before the rows are kept, those written are taken away again (a
    rolled-back row leaves no file behind)."""
    saved: list[OrderDocument] = []
    with files_removed_on_failure(saved):
        for f in files:
            document = OrderDocument(order=order, uploaded_by=actor)
            saved.append(document)
            store_upload(document, f, default_name="drawing", types=DRAWING_TYPES)
        record(
            "factory.order_documents_added",
            actor=actor,
            subject=order,
            payload={"files": [{"name": d.original_name, "sha256": d.sha256} for d in saved]},
            organization_id=order.buyer_id,
        )
    return saved


@transaction.atomic
def order_documents_add(*, actor: Any, order: Order, files: Sequence[UploadedFile]) -> list[OrderDocument]:
    """The buyer attaches drawings or specifications (PDF, PNG, JPEG, STEP or ZIP, recognised from their bytes);
    all or none are kept. Factories with open work on the order hear of them. The buyer's standing is held first,
    then the order, as its other steps on the order take them: a suspended buyer's people read, they do not act."""
    standing_held([order.buyer_id], actor=actor)
    order = Order.objects.select_for_update().get(pk=order.pk)  # the count below cannot race another upload
    _may_change(actor, order)
    errors: dict[str, list[str]] = {}
    if not files:
        errors["files"] = [_("Attach at least one file.")]
    documents_checked(files, errors, held=order.documents.count())
    if errors:
        raise ValidationFailed(errors)
    saved = documents_stored(actor=actor, order=order, files=files)
    with files_removed_on_failure(saved):
        _tell_serving(order, saved)
    return saved


def _tell_serving(order: Order, saved: list[OrderDocument]) -> None:
    """The factories that may read the new files (`selectors.orders.reads_drawings`) hear of them; a suspended one,
    which may not, is not told their names (review 96)."""
    working = (
        order.allocations.filter(status__in=OPEN_WORK, factory__status__in=PUBLIC_ORG_STATUSES)
        .values_list("factory_id", flat=True)
        .distinct()
    )
    for factory in sorted(set(working)):
        tell_factory(
            factory,
            "factory.order_documents",
            Phrase(
                ngettext_lazy(
                    "The buyer of order %(product)s attached %(n)d file: %(names)s.",
                    "The buyer of order %(product)s attached %(n)d files: %(names)s.",
                    "n",
                ),
                product=order.product,
                n=len(saved),
                names=Joined((d.original_name for d in saved), FILE_SEPARATOR),
            ),
        )


@transaction.atomic
def order_document_remove(*, actor: Any, document: OrderDocument) -> None:
    """The buyer takes a file back (a drawing replaced by a newer revision); the audit trail keeps its name and
    digest. The buyer's standing is held first, as for an upload."""
    standing_held([Order.objects.values_list("buyer_id", flat=True).get(pk=document.order_id)], actor=actor)
    order = Order.objects.select_for_update().get(pk=document.order_id)
    _may_change(actor, order)
    record(
        "factory.order_document_removed",
        actor=actor,
        subject=order,
        payload={"name": document.original_name, "sha256": document.sha256},
        organization_id=order.buyer_id,
    )
    name, storage = document.file.name, document.file.storage
    document.delete()
    transaction.on_commit(lambda: storage.delete(name))  # the file goes once the row is gone for good


def drawing_read(reader: Any, document: OrderDocument, *, channel: str) -> None:
    """A download of the buyer's drawing by anyone outside the buyer lands in the buyer's access log (`drawings`),
    so that the buyer sees which factories took its drawings and when."""
    sensitive_views_record(
        viewer=reader, owner_ids=[document.order.buyer_id], groups=[AccessLogEntry.Group.DRAWINGS], channel=channel
    )
