"""REST endpoints of the policy library: policies with their rules, who matches, and my eligibility."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Router, Status
from ninja.files import UploadedFile

from agglo.common.errors import LoginRequired
from agglo.common.paging import Limit, LongLimit, Offset, page
from agglo.common.schemas import one_of, versioned
from agglo.common.versions import version_tag
from agglo.policy import applications, estimates, needs, payments, selectors, services
from agglo.policy.downloads import application_download, policy_document_download
from agglo.policy.models import Policy
from agglo.policy.schemas import (
    AnsweredNeedOut,
    ApplicationDocumentOut,
    ApplicationIn,
    ApplicationOut,
    DecisionIn,
    DeductionIn,
    DeductionOut,
    DocumentOut,
    EligibilityOut,
    GrantedOut,
    GrantIn,
    MatchOut,
    NeedAnswerIn,
    NeedDashboardOut,
    NeedIn,
    NeedOut,
    PaymentIn,
    PaymentOut,
    PolicyIn,
    PolicyOut,
    PolicyPatch,
    TechSmeIn,
    TechSmeOut,
)
from agglo.registry.selectors.organizations import organization_get

router = Router(tags=["policy"])


@router.get("/policies", response=list[PolicyOut], summary="Published policies (and your agency's drafts)")
def policy_index(
    request: HttpRequest,
    response: HttpResponse,
    q: str = "",
    kind: Annotated[str, one_of(Policy.Kind, blank=True, checked=True)] = "",
    limit: Limit = 200,
    offset: Offset = 0,
) -> Any:
    rows = selectors.policy_list(actor=request.auth, q=q[:100], kind=kind[:20])
    return page(rows, response, limit=limit, offset=offset)


@router.get("/policies/{int:policy_id}", response=PolicyOut, summary="One policy", openapi_extra=versioned())
def policy_detail(request: HttpRequest, response: HttpResponse, policy_id: int) -> Any:
    """The `ETag` is the policy's version: its agency sends it back as `If-Match` with a change."""
    policy = selectors.policy_get(actor=request.auth, pk=policy_id)
    response["ETag"] = version_tag(policy)
    return policy


@router.post("/organizations/{int:org_id}/policies", response={201: PolicyOut}, summary="Draft a policy (agencies)")
def policy_create(request: HttpRequest, org_id: int, payload: PolicyIn) -> Status:
    if not request.auth.is_authenticated:
        raise LoginRequired(_("Log in as a government agency's admin to draft policies."))
    issuer = organization_get(actor=request.auth, pk=org_id)
    return Status(201, services.policy_create(actor=request.auth, issuer=issuer, data=payload.dict()))


@router.patch(
    "/policies/{int:policy_id}",
    response=PolicyOut,
    summary="Change a policy (its agency)",
    openapi_extra=versioned(if_match=True),
)
def policy_update(request: HttpRequest, response: HttpResponse, policy_id: int, payload: PolicyPatch) -> Any:
    """With `If-Match`, a policy changed since that version (a change, publishing, closing) is not changed: 412."""
    policy = selectors.policy_get(actor=request.auth, pk=policy_id)
    changed = services.policy_update(
        actor=request.auth,
        policy=policy,
        data=payload.dict(exclude_none=True),
        if_match=request.headers.get("If-Match"),
    )
    response["ETag"] = version_tag(changed)
    return changed


@router.post("/policies/{int:policy_id}/publish", response=PolicyOut, summary="Publish and match the members")
def policy_publish(request: HttpRequest, policy_id: int) -> Any:
    policy = selectors.policy_get(actor=request.auth, pk=policy_id)
    return services.policy_publish(actor=request.auth, policy=policy)


@router.post("/policies/{int:policy_id}/close", response=PolicyOut, summary="Close a published policy")
def policy_close(request: HttpRequest, policy_id: int) -> Any:
    policy = selectors.policy_get(actor=request.auth, pk=policy_id)
    return services.policy_close(actor=request.auth, policy=policy)


@router.get("/policies/{int:policy_id}/matches", response=list[MatchOut], summary="Eligible members and near misses")
def policy_matches(
    request: HttpRequest, response: HttpResponse, policy_id: int, limit: LongLimit = 1000, offset: Offset = 0
) -> Any:
    policy = selectors.policy_get(actor=request.auth, pk=policy_id)
    rows = selectors.match_rows(actor=request.auth, policy=policy)
    shown = selectors.explain(page(rows, response, limit=limit, offset=offset, most=1000), actor=request.auth)
    services.matches_viewed(viewer=request.auth, matches=shown, channel="api")
    return shown


@router.get(
    "/policies/{int:policy_id}/eligibility", response=list[EligibilityOut], summary="How your organizations stand"
)
def policy_eligibility(request: HttpRequest, policy_id: int) -> Any:
    if not request.auth.is_authenticated:
        raise LoginRequired(_("Log in to see your eligibility."))
    policy = selectors.policy_get(actor=request.auth, pk=policy_id)
    return [
        {
            "organization_id": org,
            "eligible": outcome.eligible,
            "in_scope": outcome.in_scope,
            "clauses": outcome.rows(),
        }
        for org, outcome in selectors.eligibility(actor=request.auth, policy=policy)
    ]


@router.post("/policies/{int:policy_id}/applications", response={201: ApplicationOut}, summary="Apply for a policy")
def application_create(request: HttpRequest, policy_id: int, payload: ApplicationIn) -> Status:
    policy = selectors.policy_get(actor=request.auth, pk=policy_id)
    application = applications.application_submit(
        actor=request.auth, policy=policy, organization_id=payload.organization_id, note=payload.note
    )
    return Status(201, application)


@router.post(
    "/applications/{int:application_id}/documents",
    response={201: list[ApplicationDocumentOut]},
    summary="Applicant: send materials with a waiting application",
)
def application_documents_add(request: HttpRequest, application_id: int, files: File[list[UploadedFile]]) -> Status:
    """Multipart `files` (PDF, PNG or JPEG, at most 10 per application); all or none are kept. To apply with them at
    once, apply first, then send them: the application waits for its decision either way."""
    application = selectors.application_get(actor=request.auth, pk=application_id)
    return Status(201, applications.application_documents_add(actor=request.auth, application=application, files=files))


@router.post(
    "/applications/{int:application_id}/payments",
    response={201: PaymentOut},
    summary="Agency: record a payment of a granted sum",
)
def grant_payment(request: HttpRequest, application_id: int, payload: PaymentIn) -> Status:
    """`amount` (more than 0, at most what is left of the granted sum), `paid_on` (from the grant's day to today),
    `reference` (the transfer or voucher number, at most 100 characters). Logged, and the member is told."""
    application = selectors.application_get(actor=request.auth, pk=application_id)
    return Status(
        201,
        payments.grant_payment_record(
            actor=request.auth,
            application=application,
            amount=payload.amount,
            paid_on=payload.paid_on,
            reference=payload.reference,
        ),
    )


@router.get("/application-documents/{int:document_id}", summary="One of an application's files, as a download")
def application_document(request: HttpRequest, document_id: int) -> Any:
    """For the member that sent it, the policy's agency and operators."""
    return application_download(selectors.application_document_get(actor=request.auth, pk=document_id))


@router.get("/policies/{int:policy_id}/applications", response=list[ApplicationOut], summary="Applications")
def application_index(
    request: HttpRequest, response: HttpResponse, policy_id: int, limit: LongLimit = 1000, offset: Offset = 0
) -> Any:
    policy = selectors.policy_get(actor=request.auth, pk=policy_id)
    rows = selectors.application_list(actor=request.auth, policy=policy)
    return page(rows, response, limit=limit, offset=offset, most=1000)


@router.post("/applications/{int:application_id}/decide", response=ApplicationOut, summary="Grant or reject")
def application_decide(request: HttpRequest, application_id: int, payload: DecisionIn) -> Any:
    application = selectors.application_get(actor=request.auth, pk=application_id)
    return applications.application_decide(
        actor=request.auth, application=application, grant=payload.grant, reason=payload.reason, amount=payload.amount
    )


@router.post(
    "/policies/{int:policy_id}/grant-eligible", response=GrantedOut, summary="Grant every eligible member (免申即享)"
)
def grant_eligible(request: HttpRequest, policy_id: int, payload: GrantIn | None = None) -> Any:
    """`amount`: what each grant pays (required when the policy has a budget)."""
    policy = selectors.policy_get(actor=request.auth, pk=policy_id)
    amount = payload.amount if payload is not None else None
    return {"granted": applications.policy_grant_eligible(actor=request.auth, policy=policy, amount=amount)}


@router.post("/policy-needs", response={201: NeedOut}, summary="File a policy need for your organization")
def need_create(request: HttpRequest, payload: NeedIn) -> Status:
    data = {"topic": payload.topic, "text": payload.text, "segment": payload.segment}
    return Status(201, needs.need_submit(actor=request.auth, organization_id=payload.organization_id, data=data))


@router.get("/policy-needs", response=list[NeedOut], summary="Policy needs: all for government, else your own")
def need_index(request: HttpRequest, response: HttpResponse, limit: Limit = 500, offset: Offset = 0) -> Any:
    return page(needs.need_list(actor=request.auth), response, limit=limit, offset=offset)


@router.get("/policy-needs/answered", response=list[AnsweredNeedOut], summary="Government's public answers")
def need_answered(request: HttpRequest, response: HttpResponse, limit: Limit = 500, offset: Offset = 0) -> Any:
    return page(needs.answered_needs(), response, limit=limit, offset=offset)


@router.post("/policy-needs/{int:need_id}/answer", response=NeedOut, summary="An agency answers a need")
def need_answer(request: HttpRequest, need_id: int, payload: NeedAnswerIn) -> Any:
    need = needs.need_get(actor=request.auth, pk=need_id)
    return needs.need_answer(actor=request.auth, need=need, answer=payload.answer, policy_id=payload.policy_id)


@router.get(
    "/policy-needs/dashboard",
    response=NeedDashboardOut,
    summary="Needs grouped by topic, province, segment and month (government)",
)
def need_dashboard(request: HttpRequest) -> Any:
    return needs.need_dashboard(actor=request.auth)


@router.post("/policy-calculators/tech-sme", response=TechSmeOut, summary="Technology-based SME evaluation")
def calculator_tech_sme(request: HttpRequest, payload: TechSmeIn) -> Any:
    return estimates.tech_sme(payload.dict())


@router.post("/policy-calculators/rd-deduction", response=DeductionOut, summary="R&D additional deduction estimate")
def calculator_rd_deduction(request: HttpRequest, payload: DeductionIn) -> Any:
    return estimates.rd_deduction(payload.dict())


@router.get("/policies/{int:policy_id}/documents", response=list[DocumentOut], summary="A policy's files")
def document_index(request: HttpRequest, policy_id: int) -> Any:
    return selectors.policy_get(actor=request.auth, pk=policy_id).documents.all()


@router.post(
    "/policies/{int:policy_id}/documents", response={201: list[DocumentOut]}, summary="Attach files (multipart)"
)
def document_add(request: HttpRequest, policy_id: int, files: File[list[UploadedFile]]) -> Status:
    policy = selectors.policy_get(actor=request.auth, pk=policy_id)
    return Status(201, services.policy_documents_add(actor=request.auth, policy=policy, files=files))


@router.get("/policy-documents/{int:document_id}", summary="One of a policy's files, as a download")
def document_download(request: HttpRequest, document_id: int) -> Any:
    """For whoever may read the policy: anyone once it is published, its agency and operators while it is a draft."""
    return policy_document_download(selectors.document_get(actor=request.auth, pk=document_id))


@router.delete("/policy-documents/{int:document_id}", response={204: None}, summary="Remove a policy's file")
def document_delete(request: HttpRequest, document_id: int) -> Status:
    document = selectors.document_get(actor=request.auth, pk=document_id)
    services.policy_document_remove(actor=request.auth, document=document)
    return Status(204, None)
