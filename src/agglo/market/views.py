"""Market pages: browse needs and offers, post and edit one, its page with interest and the owner's board,
and one's own listings and answers. Matches are shown on the listing page by the matching app (htmx panel)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from agglo.access import policy
from agglo.common.errors import DomainError, Forbidden, NotFound, PreconditionFailed, ValidationFailed, labelled_errors
from agglo.common.form_versions import FormVersion
from agglo.common.idempotency import confirm_repeat
from agglo.common.paging import rows_of
from agglo.market import selectors, services
from agglo.market.forms import BrowseForm, CloseForm, DeclineForm, InterestForm, ListingForm
from agglo.market.lifecycle import DECIDED, InterestStatus, Status
from agglo.market.models import Interest, Listing
from agglo.market.validation import LISTING_FIELDS
from agglo.registry.forms import apply_service_errors
from agglo.registry.models import Organization

PAGE_SIZE = 20

BOARD_PAGE = 50  # responses per page of a listing's board


def _editable_orgs(user: Any) -> list[Organization]:
    ids = [i for i in policy.organization_ids(user) if policy.can_edit_organization(user, i)]
    return list(Organization.objects.filter(pk__in=ids, status=Organization.Status.MEMBER).order_by("name_zh"))


def _listing(request: HttpRequest, pk: int) -> Listing:
    try:
        return selectors.listing_get(actor=request.user, pk=pk)
    except NotFound as exc:
        raise Http404 from exc


def _is_owner(user: Any, listing: Listing) -> bool:
    return listing.organization_id in policy.organization_ids(user) or policy.sees_all_organizations(user)


def browse(request: HttpRequest) -> HttpResponse:
    """Published needs and offers the reader may see, searchable and filtered by side and kind."""
    form = BrowseForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.listing_list(
        actor=request.user,
        side=filters.get("side", ""),
        kind=filters.get("kind", ""),
        q=filters.get("q", ""),
        status=Status.PUBLISHED,
    )
    # the page's ids first, then only their rows (`common.paging.ids_first`)
    page = Paginator(qs.values_list("pk", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
    shown = rows_of(qs, list(page.object_list))
    rows = [(x, x._owner_revealed) for x in selectors.owners_revealed(request.user, shown)]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "can_post": bool(_editable_orgs(request.user)),  # the button only where posting is allowed
    }
    return render(request, "market/browse.html", context)


def _form_data(form: ListingForm) -> dict[str, Any]:
    data = {k: form.cleaned_data.get(k) for k in LISTING_FIELDS}
    for name in ("amount_min", "amount_max", "term_months_min", "term_months_max", "rate_min", "rate_max", "deadline"):
        data[name] = data[name] or None  # an empty box means no value
    data["subkind"] = data["subkind"] or ""
    return data


@login_required
@require_http_methods(["GET", "POST"])
@confirm_repeat
def listing_new(request: HttpRequest) -> HttpResponse:
    """Post a need or an offer for one of the organizations the user administers; save a draft or publish."""
    orgs = _editable_orgs(request.user)
    if not orgs:
        raise PermissionDenied(_("Only admins of member organizations publish needs and offers."))
    form = ListingForm(
        request.POST or None, initial={"side": request.GET.get("side", "need"), "region_rule": "anywhere"}
    )
    chosen = orgs[0]
    if request.method == "POST":
        chosen = next((o for o in orgs if str(o.pk) == request.POST.get("organization")), orgs[0])
        if form.is_valid():
            try:
                listing = services.listing_create(actor=request.user, organization=chosen, data=_form_data(form))
                if "publish" in request.POST:
                    listing = services.listing_submit(actor=request.user, listing=listing)
                    messages.success(
                        request,
                        _("Published.")
                        if listing.status == Status.PUBLISHED
                        else _("Sent to the operators for review."),
                    )
                else:
                    messages.success(request, _("Draft saved."))
                return redirect("market:detail", pk=listing.pk)
            except ValidationFailed as exc:
                apply_service_errors(form, exc)
            except Forbidden as exc:
                raise PermissionDenied(str(exc)) from exc
    context = {"form": form, "orgs": orgs, "chosen": chosen, "title": _("Post a need or offer")}
    return render(request, "market/form.html", context, status=400 if request.method == "POST" else 200)


def _edit_initial(listing: Listing) -> dict[str, Any]:
    initial = {k: getattr(listing, k) for k in LISTING_FIELDS}
    initial["tags"] = ", ".join(listing.tags)
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def listing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    listing = _listing(request, pk)
    if not policy.can_edit_organization(request.user, listing.organization_id):
        raise PermissionDenied(_("Only the organization's admins change its listings."))
    form = ListingForm(request.POST or None, initial=_edit_initial(listing))
    version = FormVersion(listing, request.POST)
    version.draw(form)
    if request.method == "POST" and form.is_valid():
        try:
            services.listing_update(actor=request.user, listing=listing, data=_form_data(form), if_match=version.sent)
            messages.success(request, _("Saved."))
            return redirect("market:detail", pk=listing.pk)
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        except PreconditionFailed as exc:  # drawn again as a merge with the record now
            version.refused(exc)
            listing.refresh_from_db()
            fresh = ListingForm(initial=_edit_initial(listing))
            form = version.redraw(form, fresh)
    context = {
        "form": form,
        "listing": listing,
        "version": version.value,
        "drawn": version.drawn,
        "title": _("Change “%(title)s”") % {"title": listing.title},
    }
    return render(request, "market/form.html", context, status=400 if request.method == "POST" else 200)


def listing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The listing; for its owner the actions, the board of responses and the matches; for other members the
    form to express interest (or where their answer stands)."""
    return _detail(request, _listing(request, pk))


def _detail(request: HttpRequest, listing: Listing, interest_form: Any = None, status: int = 200) -> HttpResponse:
    """The listing's page; `interest_form` is an interest sent with errors, shown again as typed."""
    user = request.user
    owner = _is_owner(user, listing)
    mine = policy.active_organization_ids(user) - {listing.organization_id}
    answered = (
        Interest.objects.filter(listing=listing, organization_id__in=mine).select_related("organization").first()
        if mine
        else None
    )
    context = {
        "listing": listing,
        # the catalogue's names for the listing's terms, in the reader's language (the codes where none is known)
        "term_names": selectors.term_names(listing.terms or []),
        "segment_names": selectors.segment_names(listing.segments or []),
        "region_names": selectors.region_names(listing.regions or []),
        "revealed": selectors.owner_revealed(user, listing),
        "owner": owner,
        "can_edit": policy.can_edit_organization(user, listing.organization_id),
        "can_review": listing.status == Status.REVIEW and policy.is_operator(user),
        # responses page apart: a popular listing had hundreds on one page
        "board": Paginator(selectors.interest_board(actor=user, listing=listing), BOARD_PAGE).get_page(
            request.GET.get("responses")
        )
        if owner
        else [],
        "answered": answered,
        "interest_form": (interest_form or InterestForm())
        if mine and not answered and listing.status == Status.PUBLISHED
        else None,
        "close_form": CloseForm(),
        "decline_form": DeclineForm(auto_id=False),  # one box per row: no shared id, the aria-label names it
        "decided": DECIDED,
        "moves": (InterestStatus.CONTACTED, InterestStatus.EVALUATED),
    }
    return render(request, "market/detail.html", context, status=status)


@login_required
@require_http_methods(["POST"])
def listing_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """submit, renew, close, approve or send_back (operators, for listings in review), or express (interest)."""
    listing = _listing(request, pk)
    try:
        if action == "submit":
            services.listing_submit(actor=request.user, listing=listing)
            messages.success(request, _("Submitted."))
        elif action == "renew":
            services.listing_renew(actor=request.user, listing=listing)
            messages.success(request, _("Renewed."))
        elif action == "close":
            form = CloseForm(request.POST)
            if not form.is_valid():
                raise ValidationFailed({k: list(v) for k, v in form.errors.items()})
            services.listing_close(actor=request.user, listing=listing, **form.cleaned_data)
            messages.success(request, _("Closed."))
        elif action in ("approve", "send_back"):
            note = request.POST.get("note", "")
            services.listing_review(actor=request.user, listing=listing, approve=action == "approve", note=note)
            messages.success(request, _("Published.") if action == "approve" else _("Sent back to its owner."))
        elif action == "express":
            form = InterestForm(request.POST)
            try:
                if not form.is_valid():
                    raise ValidationFailed({k: list(v) for k, v in form.errors.items()})
                orgs = sorted(policy.active_organization_ids(request.user) - {listing.organization_id})
                data = {
                    **form.cleaned_data,
                    "organization": request.POST.get("organization") or (orgs[0] if orgs else None),
                }
                services.interest_express(actor=request.user, listing=listing, data=data)
            except ValidationFailed as exc:  # the form again as typed, each error beside its field
                if not form.errors:
                    for field, texts in exc.errors.items():
                        for text in texts:  # one not of a field (your region, the listing) above the form
                            if field in form.fields:
                                form.add_error(field, text)
                            else:
                                named = {"field": ACTION_LABELS.get(field, field), "message": text}
                                form.add_error(None, _("%(field)s: %(message)s") % named)
                return _detail(request, listing, interest_form=form, status=400)
            messages.success(request, _("Your interest was sent; the owner will answer here."))
        else:
            raise Http404
    except DomainError as exc:
        _report(request, exc)
    return redirect("market:detail", pk=listing.pk)


@login_required
@require_http_methods(["POST"])
def interest_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """The owner moves a response on the board: contacted, evaluated, accept, decline, or start a case."""
    try:
        interest = selectors.interest_get(actor=request.user, pk=pk)
    except NotFound as exc:
        raise Http404 from exc
    try:
        if action in (InterestStatus.CONTACTED, InterestStatus.EVALUATED):
            services.interest_advance(actor=request.user, interest=interest, status=action)
        elif action == "accept":
            services.interest_accept(actor=request.user, interest=interest)
            messages.success(
                request,
                _(
                    "Accepted: you are now partners, and see each other's names, and what each shares with "
                    "partners (such as contacts, or financial statements set to be seen by partners)."
                ),
            )
        elif action == "decline":
            form = DeclineForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            services.interest_decline(actor=request.user, interest=interest, reason=reason)
            messages.success(request, _("Declined; they will read your reason."))
        elif action == "case":
            case = services.interest_case_draft(actor=request.user, interest=interest)
            messages.success(
                request,
                _(
                    "Case “%(title)s” started; the partner confirms its part. Complete its details (kind, dates, "
                    "outcomes) here."
                )
                % {"title": case.title},
            )
            # drafted from the listing: the lead checks what was filled in for it
            return redirect("profiles:case_edit", pk=case.organization_id, case_id=case.pk)
        else:
            raise Http404
    except DomainError as exc:
        _report(request, exc)
    # back to the page of responses the form was on, at its row
    page = request.POST.get("responses", "")
    query = f"?responses={page}" if page.isdigit() else ""
    return redirect(reverse("market:detail", args=[interest.listing_id]) + f"{query}#interest-{interest.pk}")


# the action forms' fields, as they label them: an error names the field the way the reader sees it
ACTION_LABELS = {
    "organization": gettext_lazy("Organization"),
    "listing": gettext_lazy("Listing"),
    **{
        name: field.label for form in (InterestForm, CloseForm, DeclineForm) for name, field in form.base_fields.items()
    },
}


def _report(request: HttpRequest, exc: DomainError) -> None:
    if isinstance(exc, ValidationFailed):
        for _field, line in labelled_errors(exc.errors, ACTION_LABELS):
            messages.error(request, line)
    else:
        messages.error(request, str(exc))


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """Needs and offers waiting for an operator (when AGGLO_MARKET_REVIEW is on)."""
    if not policy.is_operator(request.user):
        raise PermissionDenied(_("Only operators review listings."))
    listings = selectors.listing_list(actor=request.user, status=Status.REVIEW).order_by("updated_at")
    return render(request, "market/review_queue.html", {"listings": listings})


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """The user's organizations' listings in every status, and the answers they sent."""
    own = policy.organization_ids(request.user)
    listings = (
        Listing.objects.filter(organization_id__in=own).select_related("organization").order_by("-updated_at", "-pk")
    )
    interests = selectors.my_interests(actor=request.user).order_by("-created_at", "-pk")
    context = {  # a page of each (perf review 58: 2,000 listings and 1,000 answers on one page)
        "listings": Paginator(listings, PAGE_SIZE).get_page(request.GET.get("page")),
        "interests": Paginator(interests, PAGE_SIZE).get_page(request.GET.get("sent")),
        "can_post": bool(_editable_orgs(request.user)),
    }
    return render(request, "market/mine.html", context)
