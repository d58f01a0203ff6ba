"""REST endpoints for organizations, regions, chains, positions, relations and admission."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from agglo.access import policy
from agglo.access.client import client_ip
from agglo.access.quotas import profile_viewed
from agglo.access.services import sensitive_views_record
from agglo.common.errors import NotFound, ValidationFailed
from agglo.common.idempotency import answer_secret
from agglo.common.language import SESSION_LANGUAGE, language_of, language_remember
from agglo.common.paging import MOST_OFFSET, Limit, Offset, between, page
from agglo.common.schemas import one_of, versioned
from agglo.common.versions import version_tag
from agglo.registry import selectors, services
from agglo.registry.kinds import Kind, Layer
from agglo.registry.models import Admission, Organization, Region, Relation
from agglo.registry.schemas import (
    KINDS,
    AdmissionCreated,
    AdmissionReviewIn,
    AdmissionReviewOut,
    AdmissionStatusOut,
    ChainDetail,
    ChainMapOut,
    ChainOut,
    DirectoryOut,
    LanguageIn,
    MeOut,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatch,
    PositionIn,
    PositionOut,
    RegionOut,
    RegionPage,
    RejectIn,
    RelationIn,
    RelationOut,
    StatusIn,
)
from agglo.registry.selectors.chains import chain_links
from agglo.registry.selectors.directory import MAX_PAGE_SIZE
from agglo.registry.services.admission import APPLICATION_CONTACT_FIELDS, APPLICATION_ORG_FIELDS

router = Router(tags=["registry"])


@router.get("/me", response=MeOut, summary="Who am I")
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.auth
    return {
        "username": user.get_username() if user.is_authenticated else "",
        "authenticated": user.is_authenticated,
        "platform_roles": sorted(policy.platform_roles(user)),
        "organizations": sorted(policy.organization_ids(user)),
        "language": language_of(user) if user.is_authenticated else get_language(),
    }


@router.put("/me/language", response=MeOut, summary="Choose the language the platform writes to you in")
def me_language(request: HttpRequest, payload: LanguageIn) -> dict[str, Any]:
    language_remember(request.auth, payload.language)
    if getattr(request, "session", None) is not None and request.user.pk == request.auth.pk:
        request.session[SESSION_LANGUAGE] = payload.language  # the caller's browser pages follow at once
    return me(request)


# --- organizations -----------------------------------------------------------------------------------------


@router.get("/organizations", response=DirectoryOut, summary="Search the member directory")
def organization_search(
    request: HttpRequest,
    q: str = "",
    kind: Annotated[str, one_of(Kind, blank=True)] = "",
    layer: Annotated[str, one_of(Layer, blank=True)] = "",
    area: str = "",
    chain: str = "",
    segment: str = "",
    status: Annotated[str, one_of(Organization.Status, blank=True)] = "",
    page: Annotated[int, between(1, 10_000)] = 1,
    page_size: Annotated[int, between(1, MAX_PAGE_SIZE)] = 20,
) -> dict[str, Any]:
    filters = selectors.DirectoryFilters(
        q=q, kind=kind, layer=layer, area=area, chain=chain, segment=segment, status=status
    )
    result = selectors.organization_search(actor=request.auth, filters=filters, page=page, page_size=page_size)
    return {
        "count": result.total,
        "page": result.page,
        "page_size": result.page_size,
        "pages": result.pages,
        "items": result.items,
        "facets": result.facets,
    }


@router.post("/organizations", response={201: OrganizationOut}, summary="Register a member directly (operators)")
def organization_create(request: HttpRequest, payload: OrganizationIn) -> Status:
    org = services.organization_create(
        actor=request.auth, data=payload.dict(exclude_none=True), status=Organization.Status.MEMBER
    )
    return Status(201, org)


@router.get(
    "/organizations/{int:org_id}", response=OrganizationOut, summary="One organization", openapi_extra=versioned()
)
def organization_detail(request: HttpRequest, response: HttpResponse, org_id: int) -> Organization:
    """The `ETag` is the organization's version: send it back as `If-Match` with a change."""
    org = selectors.organization_get(actor=request.auth, pk=org_id)
    response["ETag"] = version_tag(org)
    profile_viewed(actor=request.auth, organization_id=org.pk, address=client_ip(request))
    has_contacts = org.contact_name or org.contact_email or org.contact_phone
    if has_contacts and selectors.contacts_visible(actor=request.auth, organization=org):
        sensitive_views_record(viewer=request.auth, owner_ids=[org.pk], groups=["contacts"], channel="api")
    return org


@router.patch(
    "/organizations/{int:org_id}",
    response=OrganizationOut,
    summary="Change an organization",
    openapi_extra=versioned(if_match=True),
)
def organization_update(
    request: HttpRequest, response: HttpResponse, org_id: int, payload: OrganizationPatch
) -> Organization:
    """With `If-Match`, an organization changed since that version is not changed: 412."""
    org = selectors.organization_get(actor=request.auth, pk=org_id)
    changed = services.organization_update(
        actor=request.auth,
        organization=org,
        data=payload.dict(exclude_unset=True),
        if_match=request.headers.get("If-Match"),
    )
    response["ETag"] = version_tag(changed)
    return changed


@router.post("/organizations/{int:org_id}/status", response=OrganizationOut, summary="Suspend, reinstate, withdraw")
def organization_status(request: HttpRequest, org_id: int, payload: StatusIn) -> Organization:
    org = selectors.organization_get(actor=request.auth, pk=org_id)
    return services.organization_set_status(
        actor=request.auth, organization=org, status=payload.status, reason=payload.reason
    )


@router.get("/organizations/{int:org_id}/positions", response=list[PositionOut], summary="Chain positions")
def position_list(request: HttpRequest, org_id: int) -> Any:
    org = selectors.organization_get(actor=request.auth, pk=org_id)
    profile_viewed(
        actor=request.auth, organization_id=org.pk, address=client_ip(request)
    )  # part of its profile, as the page shows it
    return selectors.position_list(actor=request.auth, organization=org)


@router.post("/organizations/{int:org_id}/positions", response={201: PositionOut}, summary="Add a chain position")
def position_add(request: HttpRequest, org_id: int, payload: PositionIn) -> Status:
    org = selectors.organization_get(actor=request.auth, pk=org_id)
    return Status(
        201,
        services.position_add(
            actor=request.auth,
            organization=org,
            segment_code=payload.segment,
            role=payload.role,
            note=payload.note,
        ),
    )


@router.delete("/positions/{int:position_id}", response={204: None}, summary="Remove a chain position")
def position_remove(request: HttpRequest, position_id: int) -> Status:
    position = selectors.position_list(actor=request.auth).filter(pk=position_id).first()
    if position is None:
        raise NotFound(_("No position with id %(position_id)s.") % {"position_id": position_id})
    services.position_remove(actor=request.auth, position=position)
    return Status(204, None)


@router.get("/organizations/{int:org_id}/relations", response=list[RelationOut], summary="Relations")
def relation_list(request: HttpRequest, org_id: int) -> Any:
    org = selectors.organization_get(actor=request.auth, pk=org_id)
    profile_viewed(
        actor=request.auth, organization_id=org.pk, address=client_ip(request)
    )  # part of its profile, as the page shows it
    return selectors.relation_list(actor=request.auth, organization=org)


@router.post("/organizations/{int:org_id}/relations", response={201: RelationOut}, summary="Declare a relation")
def relation_add(request: HttpRequest, org_id: int, payload: RelationIn) -> Status:
    org = selectors.organization_get(actor=request.auth, pk=org_id)
    return Status(
        201,
        services.relation_add(
            actor=request.auth,
            source=org,
            target_id=payload.target,
            kind=payload.kind,
            started_on=payload.started_on,
            ended_on=payload.ended_on,
            note=payload.note,
        ),
    )


@router.delete("/relations/{int:relation_id}", response={204: None}, summary="Remove a relation")
def relation_remove(request: HttpRequest, relation_id: int) -> Status:
    relation = Relation.objects.select_related("source_org").filter(pk=relation_id).first()
    if (
        relation is None
        or not selectors.organization_list(actor=request.auth)
        .filter(pk__in=(relation.source_org_id, relation.target_org_id))
        .exists()
    ):
        raise NotFound(_("No relation with id %(relation_id)s.") % {"relation_id": relation_id})
    services.relation_remove(actor=request.auth, relation=relation)
    return Status(204, None)


# --- regions and chains ------------------------------------------------------------------------------------


@router.get("/regions", response=RegionPage, summary="Regions (GB/T 2260 and ISO 3166-1)")
def region_list(
    request: HttpRequest,
    level: Annotated[str, one_of(Region.Level, blank=True, checked=True)] = "",
    parent: str = "",
    q: str = "",
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if not 1 <= limit <= 500:
        errors["limit"] = [_("Must be between 1 and 500.")]
    if not 0 <= offset <= MOST_OFFSET:
        errors["offset"] = [_("Must be between 0 and %(n)s.") % {"n": f"{MOST_OFFSET:,}"}]
    if errors:
        raise ValidationFailed(errors)
    qs = selectors.region_list(level=level or None, parent=parent or None, q=q or None)
    return {"count": qs.count(), "items": list(qs[offset : offset + limit])}


@router.get("/regions/{code}", response=RegionOut, summary="One region")
def region_detail(request: HttpRequest, code: str) -> Any:
    return selectors.region_get(code)


@router.get("/chains", response=list[ChainOut], summary="Industry chains with their segments")
def chain_list(request: HttpRequest) -> Any:
    return list(selectors.chain_list())


@router.get("/chains/{code}", response=ChainDetail, summary="One chain with its upstream → downstream links")
def chain_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    chain = selectors.chain_get(code)
    return {**ChainOut.from_orm(chain).dict(), "links": chain_links(chain)}


@router.get("/chains/{code}/map", response=ChainMapOut, summary="Members per segment and role; gaps")
def chain_map(request: HttpRequest, code: str) -> dict[str, Any]:
    m = selectors.chain_map(actor=request.auth, code=code)
    cells = [c for column in m.columns for c in column]
    return {
        "chain": m.chain.code,
        "members": m.members,
        "areas": m.areas,
        "links": m.links,
        "gaps": [c.segment.code for c in m.gaps],
        "segments": [
            {
                "segment": c.segment.code,
                "name_zh": c.segment.name_zh,
                "name_en": c.segment.name_en,
                "stage": c.segment.stage,
                "column": c.column,
                "members": c.members,
                "areas": c.areas,
                "roles": c.roles,
                "gap": c.is_gap,
            }
            for c in cells
        ],
    }


# --- admission ---------------------------------------------------------------------------------------------


class AdmissionForm(Schema):
    """Multipart form fields of an application; attach files as `documents`."""

    name_zh: str
    name_en: str = ""
    kind: Annotated[str, one_of(KINDS)]
    region: str
    uscc: str = ""
    foreign_registry_id: str = ""
    founded_year: int | None = None
    headcount: int | None = None
    website: str = ""
    description: str = ""
    tags: str = ""
    contact_name: str
    contact_email: str
    contact_phone: str = ""
    password: str
    message: str = ""


def _only_fields(request: HttpRequest, form: type[Schema]) -> None:
    """A multipart form's fields not in `form` are refused by name, as a JSON body's are (the form parser would
    drop them without a word)."""
    unknown = sorted(set(request.POST) - set(form.model_fields))
    if unknown:
        raise ValidationFailed({name: [_("This request does not take this field.")] for name in unknown})


@router.post("/admissions", response={201: AdmissionCreated}, summary="Apply for admission (multipart)")
@answer_secret  # the tracking token reads the application's status
def admission_apply(
    request: HttpRequest,
    data: Form[AdmissionForm],
    documents: File[list[UploadedFile]] = None,
) -> Status:
    _only_fields(request, AdmissionForm)
    fields = data.dict()
    admission = services.admission_apply(
        actor=request.auth,
        organization={k: fields[k] for k in APPLICATION_ORG_FIELDS},
        contact={k: fields[k] for k in APPLICATION_CONTACT_FIELDS},
        password=fields["password"],
        message=fields["message"],
        documents=documents or [],
    )
    url = request.build_absolute_uri(reverse("registry:admission_status", args=[admission.tracking_token]))
    return Status(
        201,
        {
            "id": admission.pk,
            "status": admission.status,
            "tracking_token": admission.tracking_token,
            "status_url": url,
        },
    )


@router.get("/admissions/track/{token}", response=AdmissionStatusOut, summary="Follow an application (applicant)")
def admission_track(request: HttpRequest, token: str) -> Any:
    return selectors.admission_by_token(token)


class RespondForm(Schema):
    note: str


@router.post(
    "/admissions/track/{token}/respond",
    response=AdmissionStatusOut,
    summary="Answer a request for information",
)
def admission_respond(
    request: HttpRequest, token: str, data: Form[RespondForm], documents: File[list[UploadedFile]] = None
) -> Any:
    _only_fields(request, RespondForm)
    admission = selectors.admission_by_token(token)
    services.admission_respond(admission=admission, note=data.note, documents=documents or [])
    return selectors.admission_by_token(token)


@router.get("/admissions", response=list[AdmissionReviewOut], summary="Review queue (operators)")
def admission_list(
    request: HttpRequest,
    response: HttpResponse,
    status: Annotated[str, one_of(Admission.Status, blank=True, checked=True)] = "",
    limit: Limit = 200,
    offset: Offset = 0,
) -> Any:
    rows = selectors.admission_list(actor=request.auth, status=status or None).prefetch_related("events")
    return page(rows, response, limit=limit, offset=offset)


@router.get("/admissions/{int:admission_id}", response=AdmissionReviewOut, summary="One application (operators)")
def admission_detail(request: HttpRequest, admission_id: int) -> Any:
    return selectors.admission_get(actor=request.auth, pk=admission_id)


@router.post("/admissions/{int:admission_id}/approve", response=AdmissionReviewOut, summary="Approve")
def admission_approve(request: HttpRequest, admission_id: int, payload: AdmissionReviewIn) -> Any:
    admission = selectors.admission_get(actor=request.auth, pk=admission_id)
    services.admission_approve(actor=request.auth, admission=admission, note=payload.note)
    return selectors.admission_get(actor=request.auth, pk=admission_id)


@router.post("/admissions/{int:admission_id}/reject", response=AdmissionReviewOut, summary="Reject with a reason")
def admission_reject(request: HttpRequest, admission_id: int, payload: RejectIn) -> Any:
    admission = selectors.admission_get(actor=request.auth, pk=admission_id)
    services.admission_reject(actor=request.auth, admission=admission, reason=payload.reason)
    return selectors.admission_get(actor=request.auth, pk=admission_id)


@router.post("/admissions/{int:admission_id}/request-info", response=AdmissionReviewOut, summary="Ask for more")
def admission_request_info(request: HttpRequest, admission_id: int, payload: AdmissionReviewIn) -> Any:
    admission = selectors.admission_get(actor=request.auth, pk=admission_id)
    services.admission_request_info(actor=request.auth, admission=admission, note=payload.note)
    return selectors.admission_get(actor=request.auth, pk=admission_id)
