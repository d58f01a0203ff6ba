"""REST endpoints of the professional database: facts with provenance, cases, history, access log, import/export.

No `from __future__ import annotations` here: the fact endpoints are made in a loop, and ninja reads their
payload and response types from real annotations.
"""

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Router, Status
from ninja.files import UploadedFile

from agglo.access.client import client_ip
from agglo.access.models import AccessLogEntry
from agglo.access.policy import organization_ids
from agglo.access.quotas import profile_viewed
from agglo.access.services import sensitive_views_record
from agglo.common.api_guard import upload_flag
from agglo.common.errors import Forbidden, NotFound
from agglo.common.paging import Limit, Offset, page
from agglo.common.schemas import Since, file_download, one_of, patch_of, versioned
from agglo.common.versions import version_tag
from agglo.profiles import selectors, services
from agglo.profiles.exporting import CONTENT_TYPES, export_response
from agglo.profiles.models import CapabilityTerm
from agglo.profiles.presenters import fix_message, profile_summary
from agglo.profiles.schemas import (
    AccessOut,
    CapabilitiesIn,
    CapabilitiesOut,
    CaseIn,
    CaseOut,
    CasePatch,
    CaseRatingIn,
    CaseRatingOut,
    DisclosureIn,
    DisclosureOut,
    EventOut,
    EvidenceOut,
    FinancialsIn,
    FinancialsOut,
    HolderOut,
    ImportOut,
    IndicatorsOut,
    IpIn,
    IpOut,
    ParticipantIn,
    ParticipantInputIn,
    ParticipantOut,
    ProfileOut,
    QualityOut,
    RatingsIn,
    RatingsOut,
    StatementVerifyIn,
    TermOut,
    VerifyIn,
)
from agglo.profiles.selectors.exports import EXPORT_KINDS
from agglo.profiles.services.facts import kind_named
from agglo.profiles.services.imports import IMPORT_KINDS
from agglo.registry.selectors import organization_get

router = Router(tags=["profiles"])


def _org(request: HttpRequest, org_id: int):
    return organization_get(actor=request.auth, pk=org_id)


def _read(request: HttpRequest, org_id: int):
    """The organization whose profile data a request reads: each such read of another member's counts against the
    reader's daily limit of profile views, whichever part of the profile it asks for (no harvesting by parts)."""
    org = _org(request, org_id)
    profile_viewed(actor=request.auth, organization_id=org.pk, address=client_ip(request))
    return org


def _group_hidden(group: str) -> Forbidden:
    return Forbidden(
        _("The owner does not show you this part of its profile: %(group)s.")
        % {"group": dict(AccessLogEntry.Group.choices).get(group, group)}
    )


def _log(request: HttpRequest, org_id: int, group: str) -> None:
    if group in ("financials", "credit"):
        sensitive_views_record(viewer=request.auth, owner_ids=[org_id], groups=[group], channel="api")


def _register(name: str, label: str, schema_in: type, schema_out: type, verify_in: type = VerifyIn) -> None:
    kind = kind_named(name)
    schema_patch = patch_of(schema_in)

    @router.get(
        f"/organizations/{{int:org_id}}/{name}",
        response=list[schema_out],
        summary=f"List {label}",
        operation_id=f"{name}_list",
    )
    def fact_list(request: HttpRequest, org_id: int, updated_after: Since | None = None) -> Any:
        """`updated_after`: only facts changed after that moment (an ERP's sync since its last run)."""
        org = _read(request, org_id)
        facts = selectors.fact_list(actor=request.auth, organization=org, kind=kind)
        if facts is None:
            raise _group_hidden(kind.group)
        _log(request, org.pk, kind.group)
        if updated_after is not None:  # in the order they changed, so that the last one read marks where to go on
            facts = facts.filter(updated_at__gt=updated_after).order_by("updated_at", "pk")
        return list(facts)

    @router.post(
        f"/organizations/{{int:org_id}}/{name}",
        response={201: schema_out},
        summary=f"Record {label}",
        operation_id=f"{name}_create",
    )
    def fact_create(request: HttpRequest, org_id: int, payload: schema_in) -> Any:  # type: ignore[valid-type]
        org = _org(request, org_id)
        fact = services.fact_create(
            actor=request.auth, organization=org, kind=name, data=payload.dict(exclude_unset=True)
        )  # type: ignore[attr-defined]
        return Status(201, _as_read(request, fact))

    @router.get(
        f"/{name}/{{int:fact_id}}",
        response=schema_out,
        summary=f"One of the {label}",
        operation_id=f"{name}_get",
        openapi_extra=versioned(),
    )
    def fact_get(request: HttpRequest, response: HttpResponse, fact_id: int) -> Any:
        fact = selectors.fact_get(actor=request.auth, kind=kind, pk=fact_id)
        response["ETag"] = version_tag(fact)  # send it back as If-Match with a change
        profile_viewed(
            actor=request.auth,
            organization_id=fact.organization_id,  # type: ignore[attr-defined]
            address=client_ip(request),
        )
        _log(request, fact.organization_id, kind.group)  # type: ignore[attr-defined]
        return fact

    @router.patch(
        f"/{name}/{{int:fact_id}}",
        response=schema_out,
        summary=f"Change one of the {label}",
        operation_id=f"{name}_update",
        openapi_extra=versioned(if_match=True),
    )
    def fact_update(request: HttpRequest, response: HttpResponse, fact_id: int, payload: schema_patch) -> Any:  # type: ignore[valid-type]
        fact = selectors.fact_get(actor=request.auth, kind=kind, pk=fact_id)
        data = payload.dict(exclude_unset=True)  # type: ignore[attr-defined]
        services.fact_update(actor=request.auth, fact=fact, data=data, if_match=request.headers.get("If-Match"))
        changed = _as_read(request, fact)
        response["ETag"] = version_tag(changed)
        return changed

    @router.delete(
        f"/{name}/{{int:fact_id}}",
        response={204: None},
        summary=f"Delete one of the {label}",
        operation_id=f"{name}_delete",
        openapi_extra=versioned(etag=False, if_match=True),
    )
    def fact_delete(request: HttpRequest, fact_id: int) -> Any:
        fact = selectors.fact_get(actor=request.auth, kind=kind, pk=fact_id)
        services.fact_delete(actor=request.auth, fact=fact, if_match=request.headers.get("If-Match"))
        return Status(204, None)

    @router.post(
        f"/{name}/{{int:fact_id}}/verify",
        response=schema_out,
        summary=f"Verify one of the {label}",
        operation_id=f"{name}_verify",
    )
    def fact_verify(request: HttpRequest, fact_id: int, payload: verify_in) -> Any:  # type: ignore[valid-type]
        fact = selectors.fact_get(actor=request.auth, kind=kind, pk=fact_id)
        services.fact_verify(actor=request.auth, fact=fact, source=payload.source, note=payload.note)  # type: ignore[attr-defined]
        return _as_read(request, fact)

    def _as_read(request: HttpRequest, fact: Any) -> Any:
        """A fact just written, as a read shows it: `stale` counts a newer fact of its kind that replaced it."""
        return selectors.fact_get(actor=request.auth, kind=kind, pk=fact.pk)


_register("financials", "financial statements", FinancialsIn, FinancialsOut, StatementVerifyIn)
_register("ratings", "credit ratings", RatingsIn, RatingsOut)
_register("ip", "IP assets", IpIn, IpOut)
_register("capabilities", "capabilities", CapabilitiesIn, CapabilitiesOut)


@router.post(
    "/financials/{int:fact_id}/evidence", response={201: list[EvidenceOut]}, summary="Attach evidence files (multipart)"
)
def evidence_add(request: HttpRequest, fact_id: int, files: File[list[UploadedFile]]) -> Any:
    fact = selectors.fact_get(actor=request.auth, kind=kind_named("financials"), pk=fact_id)
    return Status(201, services.evidence_add(actor=request.auth, statement=fact, files=files))  # type: ignore[arg-type]


@router.delete(
    "/financials/{int:fact_id}/evidence/{int:evidence_id}",
    response={204: None},
    summary="Remove an evidence file (an audited mark left without files is dropped)",
)
def evidence_remove(request: HttpRequest, fact_id: int, evidence_id: int) -> Any:
    fact = selectors.fact_get(actor=request.auth, kind=kind_named("financials"), pk=fact_id)
    evidence = selectors.evidence_get(actor=request.auth, organization=fact.organization, pk=evidence_id)  # type: ignore[attr-defined]
    if evidence.statement_id != fact.pk:
        raise NotFound(_("No such evidence file on this statement."))
    services.evidence_remove(actor=request.auth, evidence=evidence)
    return Status(204, None)


@router.get("/organizations/{int:org_id}/profile", response=ProfileOut, summary="Profile overview")
def profile(request: HttpRequest, org_id: int) -> Any:
    org = _read(request, org_id)
    summary = profile_summary(actor=request.auth, organization=org)
    sensitive_views_record(viewer=request.auth, owner_ids=[org.pk], groups=summary["logged_groups"], channel="api")
    return summary


@router.get("/organizations/{int:org_id}/indicators", response=list[IndicatorsOut], summary="Indicators by year")
def indicators(request: HttpRequest, org_id: int) -> Any:
    org = _read(request, org_id)
    facts = selectors.fact_list(actor=request.auth, organization=org, kind=kind_named("financials"))
    if facts is None:
        raise _group_hidden("financials")
    _log(request, org.pk, "financials")
    return selectors.indicator_list(list(facts))


@router.get("/organizations/{int:org_id}/quality", response=QualityOut, summary="Data-quality score (owners)")
def quality(request: HttpRequest, org_id: int) -> Any:
    score = selectors.quality_get(actor=request.auth, organization=_org(request, org_id))
    return {**score.__dict__, "fixes": [{**f.__dict__, "message": fix_message(f)} for f in score.fixes]}


@router.get("/organizations/{int:org_id}/history", response=list[EventOut], summary="Change history")
def history(request: HttpRequest, response: HttpResponse, org_id: int, limit: Limit = 500, offset: Offset = 0) -> Any:
    """Newest first."""
    org = _read(request, org_id)
    events = page(selectors.history_events(actor=request.auth, organization=org), response, limit=limit, offset=offset)
    return selectors.history_shown(actor=request.auth, organization=org, events=events)


@router.get("/organizations/{int:org_id}/access-log", response=list[AccessOut], summary="Who viewed sensitive data")
def access_log(
    request: HttpRequest, response: HttpResponse, org_id: int, limit: Limit = 500, offset: Offset = 0
) -> Any:
    rows = selectors.access_log_list(actor=request.auth, organization=_org(request, org_id))
    return page(rows, response, limit=limit, offset=offset)


@router.put(
    "/organizations/{int:org_id}/disclosure", response=DisclosureOut, summary="Set who sees financials and credit"
)
def disclosure(request: HttpRequest, org_id: int, payload: DisclosureIn) -> Any:
    org = _org(request, org_id)
    services.disclosure_set(actor=request.auth, organization=org, data=payload.dict(exclude_none=True))
    org.refresh_from_db()
    return selectors.disclosure_levels(org)


@router.get("/capability-terms", response=list[TermOut], summary="Search the capability catalogue")
def capability_terms(
    request: HttpRequest,
    response: HttpResponse,
    q: str = "",
    kind: Annotated[str, one_of(CapabilityTerm.Kind, blank=True, checked=True)] = "",
    limit: Limit = 200,
    offset: Offset = 0,
) -> Any:
    return page(selectors.capability_terms(q=q[:100], kind=kind), response, limit=limit, offset=offset)


@router.get("/capability-terms/{code}/organizations", response=list[HolderOut], summary="Who holds a capability")
def capability_holders(
    request: HttpRequest, response: HttpResponse, code: str, limit: Limit = 500, offset: Offset = 0
) -> Any:
    return page(selectors.capability_holders(actor=request.auth, code=code), response, limit=limit, offset=offset)


# --- cases ---------------------------------------------------------------------------------------------------


@router.get("/organizations/{int:org_id}/cases", response=list[CaseOut], summary="Collaboration cases")
def case_list(request: HttpRequest, org_id: int) -> Any:
    return selectors.case_list(actor=request.auth, organization=_read(request, org_id))


@router.post("/organizations/{int:org_id}/cases", response={201: CaseOut}, summary="Declare a case")
def case_create(request: HttpRequest, org_id: int, payload: CaseIn) -> Any:
    case = services.case_create(
        actor=request.auth, organization=_org(request, org_id), data=payload.dict(exclude_unset=True)
    )
    return Status(201, selectors.case_get(actor=request.auth, pk=case.pk))


@router.get("/cases/{int:case_id}", response=CaseOut, summary="One case", openapi_extra=versioned())
def case_get(request: HttpRequest, response: HttpResponse, case_id: int) -> Any:
    """The `ETag` is the case record's version: its lead sends it back as `If-Match` with a change."""
    case = selectors.case_get(actor=request.auth, pk=case_id)
    response["ETag"] = version_tag(case)
    if not ({case.organization_id} | {p.organization_id for p in case.participants.all()}) & organization_ids(
        request.auth
    ):  # a case of others: a view of its lead's profile
        profile_viewed(actor=request.auth, organization_id=case.organization_id, address=client_ip(request))
    return case


@router.patch("/cases/{int:case_id}", response=CaseOut, summary="Change a case", openapi_extra=versioned(if_match=True))
def case_update(request: HttpRequest, response: HttpResponse, case_id: int, payload: CasePatch) -> Any:
    """With `If-Match`, a case record changed since that version is not changed: 412."""
    case = selectors.case_get(actor=request.auth, pk=case_id)
    services.case_update(
        actor=request.auth, case=case, data=payload.dict(exclude_unset=True), if_match=request.headers.get("If-Match")
    )
    changed = selectors.case_get(actor=request.auth, pk=case_id)
    response["ETag"] = version_tag(changed)
    return changed


@router.post("/cases/{int:case_id}/participants", response={201: ParticipantOut}, summary="Add a participant")
def participant_add(request: HttpRequest, case_id: int, payload: ParticipantIn) -> Any:
    case = selectors.case_get(actor=request.auth, pk=case_id)
    return Status(201, services.participant_add(actor=request.auth, case=case, data=payload.dict(exclude_none=True)))


@router.patch(
    "/cases/{int:case_id}/participants/{int:participant_id}",
    response=ParticipantOut,
    summary="Change a participant's input",
)
def participant_input(request: HttpRequest, case_id: int, participant_id: int, payload: ParticipantInputIn) -> Any:
    case = selectors.case_get(actor=request.auth, pk=case_id)
    participant = services.participant_get(case=case, pk=participant_id)
    return services.participant_update_input(
        actor=request.auth, participant=participant, data=payload.dict(exclude_unset=True)
    )


@router.post(
    "/cases/{int:case_id}/participants/{int:participant_id}/confirm",
    response=ParticipantOut,
    summary="Confirm participation",
)
def participant_confirm(request: HttpRequest, case_id: int, participant_id: int, seen: str | None = None) -> Any:
    """`seen`: the participant's `input_seen` as read; if the input changed since, a 409 instead of confirming it."""
    case = selectors.case_get(actor=request.auth, pk=case_id)
    participant = services.participant_get(case=case, pk=participant_id)
    return services.participant_confirm(actor=request.auth, participant=participant, seen=seen)


@router.post("/cases/{int:case_id}/ratings", response={201: CaseRatingOut}, summary="Rate a partner in a case")
def case_rate(request: HttpRequest, case_id: int, payload: CaseRatingIn) -> Any:
    case = selectors.case_get(actor=request.auth, pk=case_id)
    return Status(201, services.case_rate(actor=request.auth, case=case, data=payload.dict(exclude_unset=True)))


# --- import and export ---------------------------------------------------------------------------------------


@router.post("/imports/{kind}", response={200: ImportOut, 422: ImportOut}, summary="Import CSV or XLSX (multipart)")
def import_file(
    request: HttpRequest,
    kind: Annotated[str, one_of(IMPORT_KINDS)],
    file: File[UploadedFile],
    dry_run: bool = False,
) -> Any:
    """A dry run reports every bad row and writes nothing; a real run writes all rows or, if any is bad, none (422).
    `dry_run` may also come as a field of the form."""
    dry_run = upload_flag(request, "dry_run", dry_run)
    services.import_size_check(file.size or 0)
    result = services.import_file(
        actor=request.auth, kind=kind, body=file.read(), filename=file.name or "upload", dry_run=dry_run
    )
    body = {**result.__dict__, "errors": [e.__dict__ for e in result.errors]}
    return Status(422 if result.errors and not dry_run else 200, body)


@router.get(
    "/exports/{kind}",
    response={200: None},
    summary="Export what you may see (CSV, XLSX, JSON)",
    openapi_extra=file_download("The file, as `format` asks (an attachment).", CONTENT_TYPES.values()),
)
def export(
    request: HttpRequest,
    kind: Annotated[str, one_of(EXPORT_KINDS)],
    format: Annotated[str, one_of(CONTENT_TYPES)] = "csv",
    own: bool = False,
) -> HttpResponse:
    """`own=true`: only the rows of your own organizations, a file you can import again."""
    return export_response(request.auth, kind, format, channel="api", own=own)
