"""REST endpoints of the virtual factory: catalogue, capabilities and calendars, orders and plans, the job
board, execution and scorecards."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from agglo.access.api_auth import MemberAuth
from agglo.common.api_guard import upload_flag
from agglo.common.downloads import attachment
from agglo.common.errors import NotFound
from agglo.common.paging import Limit, LongLimit, Offset, page
from agglo.common.schemas import Since, file_download, one_of, versioned
from agglo.common.versions import version_tag
from agglo.factory.downloads import drawing_download
from agglo.factory.models import Allocation, Capability
from agglo.factory.schemas import (
    AllocationOut,
    AmendPreviewOut,
    CalendarImportOut,
    CancelIn,
    CapabilityIn,
    CapabilityOut,
    CounterDecisionIn,
    DelayIn,
    DisputeReplyIn,
    DisputeRulingIn,
    OfferAnswerIn,
    OffersAcceptIn,
    OrderAmendIn,
    OrderDocumentOut,
    OrderIn,
    OrderOut,
    ProcessOut,
    ProgressIn,
    ReceiptIn,
    ScorecardOut,
    SharedCapacityOut,
    SlotOut,
    WeekIn,
    WithdrawIn,
)
from agglo.factory.selectors import orders as selectors
from agglo.factory.selectors.calendar import Week, calendar_page, capacity_calendar, week_of
from agglo.factory.selectors.calendar_file import CONTENT_TYPES as CALENDAR_TYPES
from agglo.factory.selectors.calendar_file import calendar_file
from agglo.factory.selectors.plan_file import plan_file
from agglo.factory.selectors.scorecards import scorecard_list as scorecards_visible
from agglo.factory.selectors.shared import MIN_FACTORIES, shared_capacity, shared_capacity_check
from agglo.factory.services import amend, capacity, disputes, documents, execution, jobs, orders
from agglo.factory.services.calendar_file import calendar_import
from agglo.factory.services.capacity import page_start_checked
from agglo.profiles.services.imports import size_check

router = Router(tags=["factory"], auth=MemberAuth())  # every endpoint but the catalogue is a member's


@router.get("/processes", response=list[ProcessOut], summary="The process catalogue", auth=None)
def process_list(request: HttpRequest) -> Any:
    return list(selectors.process_list())


@router.get("/capabilities", response=list[CapabilityOut], summary="Your factories' capabilities")
def capability_list(
    request: HttpRequest,
    response: HttpResponse,
    organization_id: int | None = None,
    limit: Limit = 500,
    offset: Offset = 0,
) -> Any:
    """By factory, then process; `organization_id` keeps one factory's (an operator reads every factory's)."""
    rows = selectors.capability_list(actor=request.auth, organization_id=organization_id)
    return page(rows, response, limit=limit, offset=offset)


@router.put(
    "/organizations/{int:org_id}/capabilities",
    response=CapabilityOut,
    summary="Declare or update a capability",
    openapi_extra=versioned(if_match=True),
)
def capability_save(request: HttpRequest, response: HttpResponse, org_id: int, payload: CapabilityIn) -> Any:
    """Fields left out keep what the factory declared before. With `If-Match`, a declaration changed since that
    version is not changed (412), and none is declared anew."""
    saved = capacity.capability_save(
        actor=request.auth,
        organization_id=org_id,
        data=payload.dict(exclude_unset=True),
        if_match=request.headers.get("If-Match"),
    )
    response["ETag"] = version_tag(saved)
    return saved


@router.get(
    "/capabilities/{int:capability_id}",
    response=CapabilityOut,
    summary="One of your factories' capabilities",
    openapi_extra=versioned(),
)
def capability_detail(request: HttpRequest, response: HttpResponse, capability_id: int) -> Any:
    """The `ETag` is the declaration's version: send it back as `If-Match` with a change."""
    cap = _capability(request, capability_id)
    response["ETag"] = version_tag(cap)
    return cap


def _capability(request: HttpRequest, capability_id: int) -> Any:
    cap = selectors.capability_list(actor=request.auth).filter(pk=capability_id).first()
    if cap is None:
        raise NotFound(_("No capability with id %(capability_id)s.") % {"capability_id": capability_id})
    return cap


def _slot(capability_id: int, week: Week) -> dict[str, Any]:
    return {"capability_id": capability_id, **asdict(week), "over_room": week.over_room}


@router.get(
    "/capabilities/{int:capability_id}/weeks",
    response=list[SlotOut],
    summary="One capability's capacity calendar: a page of weeks from `from` (as the calendar page shows them)",
)
def capacity_weeks(request: HttpRequest, capability_id: int, start: str = Query("", alias="from")) -> Any:
    cap = _capability(request, capability_id)
    page = calendar_page(page_start_checked(start))
    return [_slot(cap.pk, w) for w in capacity_calendar(Capability.objects.filter(pk=cap.pk), page.weeks)[0][1]]


@router.put("/capabilities/{int:capability_id}/weeks", response=SlotOut, summary="Set one week's capacity")
def capacity_week(request: HttpRequest, capability_id: int, payload: WeekIn) -> Any:
    cap = _capability(request, capability_id)
    slot = capacity.capacity_set(actor=request.auth, capability=cap, week=payload.week, capacity=payload.capacity)
    return _slot(cap.pk, week_of(cap, slot.week))


@router.get(
    "/capacity/file",
    response={200: None},
    summary="Your capacity calendar as a file (CSV, XLSX): a row per capability and week",
    openapi_extra=file_download(
        "The file (an attachment): the weeks of the calendar page that starts at `from`.", CALENDAR_TYPES.values()
    ),
)
def calendar_download(
    request: HttpRequest,
    format: Annotated[str, one_of(CALENDAR_TYPES)] = "csv",
    start: str = Query("", alias="from"),
) -> HttpResponse:
    weeks = calendar_page(page_start_checked(start)).weeks
    body, content_type, name = calendar_file(actor=request.auth, format=format, weeks=weeks)
    return attachment(body, content_type, name)


@router.get(
    "/capacity/shared",
    response=SharedCapacityOut,
    summary="The cluster's shared capacity: member factories' weeks pooled by process, or by province for one",
)
def capacity_shared(
    request: HttpRequest, process: str = "", province: str = "", start: str = Query("", alias="from")
) -> Any:
    """Capacity and free room per week, over a page of weeks from `from` (as the calendar's). Members in good
    standing, government officers, operators and auditors may read it. A pool, or a week of it, that could tell one
    factory's figures is withheld."""
    shared_capacity_check(request.auth)  # before any filter is read: an outsider is refused, not corrected
    weeks = calendar_page(page_start_checked(start)).weeks
    pools = shared_capacity(actor=request.auth, weeks=weeks, process=process, province=province)
    return {"weeks": weeks, "min_factories": MIN_FACTORIES, "pools": pools}


@router.post(
    "/capacity/file",
    response={200: CalendarImportOut, 422: CalendarImportOut},
    summary="Import a capacity calendar file (CSV or XLSX, multipart)",
)
def calendar_upload(request: HttpRequest, file: File[UploadedFile], dry_run: bool = False) -> Any:
    """A dry run reports every bad row and writes nothing; a real run writes every changed week or, if any row is
    bad, none (422). The columns are those of the download. `dry_run` may also come as a field of the form. The
    first 1,000 problems are listed, `errors_total` counts them all."""
    dry_run = upload_flag(request, "dry_run", dry_run)
    size_check(file.size or 0)
    result = calendar_import(actor=request.auth, body=file.read(), filename=file.name or "upload", dry_run=dry_run)
    body = {**result.__dict__, "errors": [e.__dict__ for e in result.errors]}
    return Status(422 if result.errors and not dry_run else 200, body)


@router.get("/orders", response=list[OrderOut], summary="Orders you placed or serve in")
def order_list(
    request: HttpRequest,
    response: HttpResponse,
    status: Annotated[str, one_of(selectors.STATUS_FILTERS, blank=True, checked=True)] = "",
    role: Annotated[str, one_of(selectors.ROLE_FILTERS, blank=True, checked=True)] = "",
    q: str = "",
    updated_after: Since | None = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> Any:
    """Newest first; with `updated_after`, only the orders whose record or whose work you see changed after that
    moment (`changed_at`), in the order they changed: an ERP's sync since its last run. `status` keeps one status,
    or `open`: all but delivered and cancelled; `role` the orders your organizations placed (`buyer`) or that
    their factories are offered work in (`factory`); `q` finds an order by its number or by words of its product
    or its buyer's name."""
    filters = {"status": status, "role": role, "q": q[:100]}
    if updated_after is None:
        rows = selectors.order_list(actor=request.auth, **filters)
    else:
        rows = selectors.orders_changed(actor=request.auth, after=updated_after, **filters)
    return page(rows.prefetch_related("operations__process"), response, limit=limit, offset=offset)


@router.post("/orders", response={201: OrderOut}, summary="Enter an order with its route")
def order_create(request: HttpRequest, payload: OrderIn) -> Any:
    data = payload.dict()
    data["operations"] = [dict(op) for op in data["operations"]]
    return Status(201, orders.order_create(actor=request.auth, data=data))


@router.get(
    "/orders/{int:order_id}", response=OrderOut, summary="One order with its plan's figures", openapi_extra=versioned()
)
def order_get(request: HttpRequest, response: HttpResponse, order_id: int) -> Any:
    """The `ETag` is the order's version: send it back as `If-Match` with a change or a cancellation."""
    order = selectors.order_get(actor=request.auth, pk=order_id)
    response["ETag"] = version_tag(order)
    return order


@router.patch(
    "/orders/{int:order_id}",
    response=OrderOut,
    summary="Buyer: change the due week, quantities or terms",
    openapi_extra=versioned(if_match=True),
)
def order_amend(request: HttpRequest, response: HttpResponse, order_id: int, payload: OrderAmendIn) -> Any:
    """With `If-Match`, an order changed since that version (by anyone, or by a re-plan) is not changed: 412."""
    order = selectors.order_get(actor=request.auth, pk=order_id)
    changed = amend.order_amend(
        actor=request.auth,
        order=order,
        data=payload.dict(exclude_unset=True),
        if_match=request.headers.get("If-Match"),
    )
    response["ETag"] = version_tag(changed)
    return changed


@router.post(
    "/orders/{int:order_id}/amend-preview",
    response=AmendPreviewOut,
    summary="Buyer: what a change would do to accepted work, changing nothing",
    openapi_extra=versioned(etag=False, if_match=True),
)
def order_amend_preview(request: HttpRequest, order_id: int, payload: OrderAmendIn) -> Any:
    order = selectors.order_get(actor=request.auth, pk=order_id)
    return amend.order_amend_preview(
        actor=request.auth, order=order, data=payload.dict(exclude_unset=True), if_match=request.headers.get("If-Match")
    )


@router.post(
    "/orders/{int:order_id}/plan",
    response=OrderOut,
    summary="Plan (or plan again) with the solver",
    openapi_extra=versioned(),
)
def order_plan(request: HttpRequest, response: HttpResponse, order_id: int) -> Any:
    planned = orders.order_plan(actor=request.auth, order=selectors.order_get(actor=request.auth, pk=order_id))
    response["ETag"] = version_tag(planned)
    return planned


@router.post(
    "/orders/{int:order_id}/cancel",
    response=OrderOut,
    summary="Cancel an order (whoever placed it, or an admin of the buyer)",
    openapi_extra=versioned(if_match=True),
)
def order_cancel(request: HttpRequest, response: HttpResponse, order_id: int, payload: CancelIn) -> Any:
    """With `If-Match`, an order changed since that version is not cancelled: 412."""
    order = selectors.order_get(actor=request.auth, pk=order_id)
    cancelled = orders.order_cancel(
        actor=request.auth, order=order, reason=payload.reason, if_match=request.headers.get("If-Match")
    )
    response["ETag"] = version_tag(cancelled)
    return cancelled


@router.get("/orders/{int:order_id}/documents", response=list[OrderDocumentOut], summary="An order's drawings")
def order_documents(request: HttpRequest, order_id: int) -> Any:
    """The buyer's drawings and specifications, for the buyer, the factories the current plan offers work to or
    that accepted or delivered some, and operators; an empty list for others who see the order."""
    return selectors.drawings_of(actor=request.auth, order=selectors.order_get(actor=request.auth, pk=order_id))


@router.post(
    "/orders/{int:order_id}/documents",
    response={201: list[OrderDocumentOut]},
    summary="Buyer: attach drawings or specifications (multipart `files`)",
)
def order_documents_add(request: HttpRequest, order_id: int, files: File[list[UploadedFile]]) -> Status:
    """PDF, PNG, JPEG, STEP or ZIP, recognised from their bytes, at most 20 per order; all or none are kept
    (422 names each bad file). Factories with open work on the order are told."""
    order = selectors.order_get(actor=request.auth, pk=order_id)
    return Status(201, documents.order_documents_add(actor=request.auth, order=order, files=files))


@router.get("/documents/{int:document_id}", summary="One of an order's files, as a download")
def order_document(request: HttpRequest, document_id: int) -> Any:
    doc = selectors.document_get(actor=request.auth, pk=document_id)
    return drawing_download(request.auth, doc, channel="api")


@router.delete("/documents/{int:document_id}", response={204: None}, summary="Buyer: remove one of an order's files")
def order_document_delete(request: HttpRequest, document_id: int) -> Status:
    doc = selectors.document_get(actor=request.auth, pk=document_id)
    documents.order_document_remove(actor=request.auth, document=doc)
    return Status(204, None)


@router.get("/orders/{int:order_id}/allocations", response=list[AllocationOut], summary="The current plan")
def order_allocations(
    request: HttpRequest, response: HttpResponse, order_id: int, limit: LongLimit = 1000, offset: Offset = 0
) -> Any:
    """By week; `limit` rows from `offset`, the whole count in `X-Total-Count`."""
    order = selectors.order_get(actor=request.auth, pk=order_id)
    rows = selectors.plan_allocations(actor=request.auth, order=order)
    return page(rows, response, limit=limit, offset=offset, most=1000)


@router.get(
    "/orders/{int:order_id}/plan/file",
    response={200: None},
    summary="The current plan as a file (CSV, XLSX): a row per piece of work you see",
    openapi_extra=file_download(
        "The file (an attachment): the whole plan for the buyer, operators and auditors, its own part for a factory.",
        CALENDAR_TYPES.values(),
    ),
)
def order_plan_file(
    request: HttpRequest, order_id: int, format: Annotated[str, one_of(CALENDAR_TYPES)] = "csv"
) -> HttpResponse:
    order = selectors.order_get(actor=request.auth, pk=order_id)
    body, content_type, name = plan_file(actor=request.auth, order=order, format=format)
    return attachment(body, content_type, name)


@router.get(
    "/orders/{int:order_id}/changes",
    response=list[AllocationOut],
    summary="How the plan changed: work declined, withdrawn, unanswered, late, or moved by a re-plan",
)
def order_changes(
    request: HttpRequest, response: HttpResponse, order_id: int, limit: LongLimit = 1000, offset: Offset = 0
) -> Any:
    """Newest first; every re-plan may add rows, so the list pages (`X-Total-Count`) like the job board."""
    order = selectors.order_get(actor=request.auth, pk=order_id)
    rows = selectors.plan_changes(actor=request.auth, order=order)
    return page(rows, response, limit=limit, offset=offset, most=1000)


@router.get("/jobs", response=list[AllocationOut], summary="Your job board: work offered to your factories")
def job_board(
    request: HttpRequest,
    response: HttpResponse,
    status: Annotated[str, one_of(Allocation.Status, blank=True, checked=True)] = "",
    updated_after: Since | None = None,
    limit: Limit = 500,
    offset: Offset = 0,
) -> Any:
    """The open work by week, then what your factories answered or did, newest first. With `updated_after`, every
    piece of your work changed after that moment, in the order it changed (`updated_at`), also offers a re-plan
    withdrew before you answered (`superseded`): an ERP's sync since its last run."""
    if updated_after is None:
        rows = selectors.job_board_listing(actor=request.auth, status=status)
    else:
        rows = selectors.jobs_changed(actor=request.auth, after=updated_after, status=status)
    return selectors.with_free_room(page(rows, response, limit=limit, offset=offset))


def _allocation(request: HttpRequest, pk: int) -> Any:
    return selectors.allocation_get(actor=request.auth, pk=pk)


@router.post("/allocations/{int:allocation_id}/answer", response=AllocationOut, summary="Accept, decline or counter")
def allocation_answer(request: HttpRequest, allocation_id: int, payload: OfferAnswerIn) -> Any:
    return jobs.allocation_respond(
        actor=request.auth,
        allocation=_allocation(request, allocation_id),
        action=payload.action,
        quantity=payload.quantity,
        note=payload.note,
        whole_step=payload.whole_step,
    )


@router.post(
    "/orders/{int:order_id}/accept-offers",
    response=list[AllocationOut],
    summary="Factory: accept every open offer of one order at once",
)
def offers_accept(request: HttpRequest, order_id: int, payload: OffersAcceptIn) -> Any:
    """Each offer is accepted as `/allocations/{id}/answer` would accept it, or none is (422 naming the first that
    cannot be). With `offers`, the ids of the offers the caller read: if the open ones are not exactly these (the
    order was re-planned since), none is accepted (422, `offers`)."""
    order = selectors.order_get(actor=request.auth, pk=order_id)
    return jobs.offers_accept(actor=request.auth, order=order, factory_id=payload.factory, offers=payload.offers)


@router.post(
    "/allocations/{int:allocation_id}/counter", response=AllocationOut, summary="Buyer: take or refuse a counter-offer"
)
def allocation_counter(request: HttpRequest, allocation_id: int, payload: CounterDecisionIn) -> Any:
    return jobs.counter_decide(
        actor=request.auth, allocation=_allocation(request, allocation_id), accept=payload.accept
    )


@router.post("/allocations/{int:allocation_id}/withdraw", response=AllocationOut, summary="Give back accepted work")
def allocation_withdraw(request: HttpRequest, allocation_id: int, payload: WithdrawIn) -> Any:
    return execution.allocation_withdraw(
        actor=request.auth, allocation=_allocation(request, allocation_id), reason=payload.reason
    )


@router.post("/allocations/{int:allocation_id}/delay", response=AllocationOut, summary="Report accepted work late")
def allocation_delay(request: HttpRequest, allocation_id: int, payload: DelayIn) -> Any:
    allocation = _allocation(request, allocation_id)
    return execution.allocation_delay(
        actor=request.auth, allocation=allocation, weeks=payload.weeks, reason=payload.reason
    )


@router.post("/allocations/{int:allocation_id}/progress", response=AllocationOut, summary="Report execution")
def allocation_progress(request: HttpRequest, allocation_id: int, payload: ProgressIn) -> Any:
    # an empty report (or started: false alone) is refused by the service, as the job board's form is
    data = {k: v for k, v in payload.dict().items() if v is not None and v is not False}
    return execution.allocation_progress(actor=request.auth, allocation=_allocation(request, allocation_id), data=data)


@router.post(
    "/allocations/{int:allocation_id}/receipt", response=AllocationOut, summary="Buyer: confirm or dispute a delivery"
)
def allocation_receipt(request: HttpRequest, allocation_id: int, payload: ReceiptIn) -> Any:
    return execution.allocation_receipt(
        actor=request.auth,
        allocation=_allocation(request, allocation_id),
        confirm=payload.confirm,
        defects_found=payload.defects_found,
        note=payload.note,
    )


@router.post(
    "/allocations/{int:allocation_id}/dispute-reply", response=AllocationOut, summary="Factory: answer a dispute"
)
def allocation_dispute_reply(request: HttpRequest, allocation_id: int, payload: DisputeReplyIn) -> Any:
    allocation = _allocation(request, allocation_id)
    return disputes.dispute_answer(actor=request.auth, allocation=allocation, reply=payload.reply)


@router.post(
    "/allocations/{int:allocation_id}/dispute-referral",
    response=AllocationOut,
    summary="Buyer or factory: ask the platform to decide a dispute",
)
def allocation_dispute_referral(request: HttpRequest, allocation_id: int) -> Any:
    return disputes.dispute_refer(actor=request.auth, allocation=_allocation(request, allocation_id))


@router.post(
    "/allocations/{int:allocation_id}/dispute-ruling", response=AllocationOut, summary="Operator: rule on a dispute"
)
def allocation_dispute_ruling(request: HttpRequest, allocation_id: int, payload: DisputeRulingIn) -> Any:
    return disputes.dispute_rule(
        actor=request.auth,
        allocation=_allocation(request, allocation_id),
        upheld=payload.upheld,
        defects_found=payload.defects_found,
        ruling=payload.ruling,
    )


@router.get("/disputes", response=list[AllocationOut], summary="Operator: disputes referred to the platform")
def dispute_list(
    request: HttpRequest, response: HttpResponse, decided: bool = False, limit: Limit = 200, offset: Offset = 0
) -> Any:
    """Those awaiting a ruling, oldest first, or (`decided`) those ruled on or settled, newest first."""
    rows = selectors.disputes_referred(actor=request.auth, decided=decided)  # operators only: refused first
    return page(rows, response, limit=limit, offset=offset)


@router.get("/scorecards", response=list[ScorecardOut], summary="Factories' delivery records")
def scorecard_list(request: HttpRequest, response: HttpResponse, limit: Limit = 500, offset: Offset = 0) -> Any:
    """Most work on record first, then by name."""
    return page(scorecards_visible(actor=request.auth), response, limit=limit, offset=offset)
