"""The capacity calendar: a member's factories declare what they make and set their free capacity week by week."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from agglo.common.errors import Forbidden, NotFound, PreconditionFailed, ValidationFailed
from agglo.common.form_versions import FormVersion
from agglo.common.numbers import posted_id
from agglo.factory.forms import CapabilityForm
from agglo.factory.selectors import orders as selectors
from agglo.factory.selectors.calendar import calendar_page, capacity_calendar, crowded_weeks, offers_waiting, week_of
from agglo.factory.selectors.planning import certificates_of, first_open_day
from agglo.factory.services import capacity as capacity_services
from agglo.factory.services.telling import weeks_listed
from agglo.factory.views.acting import error_parts, my_orgs
from agglo.factory.weeks import monday, with_years
from agglo.registry.forms import apply_service_errors
from agglo.registry.models import Organization


@login_required
@require_http_methods(["GET", "POST"])
def capacity(request: HttpRequest) -> HttpResponse:
    """The member's capabilities and their calendar: capacity and reserved work, week by week."""
    orgs = my_orgs(request.user)
    editing = _capability_to_edit(request, orgs)
    initial = _capability_initial(editing) if editing else {"organization": orgs[0].pk if orgs else None}
    setting_week = request.method == "POST" and bool(request.POST.get("week"))  # the calendar's "Set week" form
    form = _capability_form(None if setting_week else request.POST or None, initial, orgs, editing)
    # a change carries the version of the declaration it was drawn with (`common.form_versions`)
    version = FormVersion(editing, {} if setting_week else request.POST) if editing else None
    if version:
        version.draw(form)
    week_failed: dict[str, Any] = {}  # the "Set week" form as sent, when it has errors to show
    page_from = request.GET.get("from")
    if request.method == "POST":
        if setting_week:
            key = posted_id(request.POST.get("capability"))
            cap = selectors.capability_list(actor=request.user).filter(pk=key).first() if key is not None else None
            if cap is None:
                raise Http404
            try:
                slot = capacity_services.capacity_set(
                    actor=request.user, capability=cap, week=request.POST["week"], capacity=request.POST.get("capacity")
                )
                messages.success(request, _("Capacity saved."))
                if (held := week_of(cap, slot.week)).over_room:
                    messages.warning(
                        request,
                        _(
                            "Open offers to you hold %(n)d %(unit)s in the week of %(week)s, more than the "
                            "%(room)d now left: you cannot accept them all. Answer them on the job board (decline, or "
                            "counter-offer what you can make)."
                        )
                        % {
                            "n": held.on_offer,
                            "unit": cap.process.unit,
                            "week": slot.week,
                            "room": held.room,
                        },
                    )
            except Forbidden as exc:
                raise PermissionDenied(str(exc)) from exc
            except ValidationFailed as exc:  # back on the page the form was on, with what was typed
                week_failed = {k: request.POST.get(k, "") for k in ("week", "capacity")}
                week_failed |= {"capability": cap.pk, "errors": error_parts(exc), "fields": list(exc.errors or {})}
                page_from = request.POST.get("from")
            else:
                back = calendar_page(request.POST.get("from")).weeks[0]  # to the page the form was on
                return redirect(f"{reverse('factory:capacity')}?from={back.isoformat()}")
        elif form.is_valid():
            data = dict(form.cleaned_data)
            data["process"] = data["process"].code
            organization_id = data.pop("organization")
            known = selectors.capability_list(actor=request.user, organization_id=organization_id)
            declared = known.filter(process_id=data["process"]).first()
            if declared is not None and not editing:
                # the blank form would put its defaults over the terms declared: changing them is "Change terms"
                form.add_error(
                    "process",
                    _("This factory already declares this process: use “Change terms” on its row to change it."),
                )
            else:
                crowded_before = crowded_weeks(declared) if declared is not None else []
                try:
                    saved = capacity_services.capability_save(
                        actor=request.user,
                        organization_id=organization_id,
                        data=data,
                        if_match=version.sent if version else None,
                    )
                    if declared is not None and saved.updated_at == declared.updated_at:  # the same terms again
                        messages.info(request, _("Nothing changed."))
                    else:
                        messages.success(request, _("Capability updated.") if declared else _("Capability saved."))
                    _warn_of_waiting_offers(request, saved, crowded_before)
                    return redirect("factory:capacity")
                except ValidationFailed as exc:
                    apply_service_errors(form, exc)
                except PreconditionFailed as exc:  # drawn again as a merge with the declaration now
                    if version is None or editing is None:  # only a change carries a version
                        raise
                    version.refused(exc)
                    editing.refresh_from_db()
                    fresh = _capability_form(None, _capability_initial(editing), orgs, editing)
                    form = version.redraw(form, fresh)
                except (Forbidden, NotFound) as exc:
                    form.add_error("organization", str(exc))
    page = calendar_page(page_from)
    calendar = capacity_calendar(selectors.capability_list(actor=request.user), page.weeks)
    return render(
        request,
        "factory/capacity.html",
        {
            "form": form,
            "calendar": calendar,
            "weeks": page.weeks,
            "week_heads": with_years(page.weeks),
            "orgs": orgs,
            "editing": editing,
            "version": version.value if version else "",
            "drawn": version.drawn if version else "",
            # which of its declared certifications its profile holds a certificate of (orders may count only those)
            "certificates": _certificates(editing) if editing and editing.certifications else None,
            "earlier": page.earlier,
            "later": page.later,
            "open_from": monday(first_open_day()),
            "week_failed": week_failed,
        },
        status=400 if request.method == "POST" else 200,
    )


def _warn_of_waiting_offers(request: HttpRequest, capability: Any, crowded_before: list[Any]) -> None:
    """After new terms: open offers the factory can no longer all accept (in weeks the change crowded), or that
    wait on a process it stopped."""
    if crowded := [w for w in crowded_weeks(capability) if w not in crowded_before]:
        messages.warning(
            request,
            _(
                "Open offers to you no longer all fit in the weeks of %(weeks)s: answer them on the job board "
                "(decline, or counter-offer what you can make)."
            )
            % {"weeks": weeks_listed(crowded)},
        )
    if not capability.active and (waiting := offers_waiting(capability)):
        messages.warning(
            request,
            ngettext(
                "You no longer offer this process, but %(n)d open offer for it still waits for your answer on the "
                "job board.",
                "You no longer offer this process, but %(n)d open offers for it still wait for your answer on the "
                "job board.",
                waiting,
            )
            % {"n": waiting},
        )


def _certificates(capability: Any) -> tuple[list[str], list[str]]:
    """The capability's declared certifications on record, each with how long it runs, and those not on record."""
    on_record, missing = certificates_of(capability)
    said = [
        (_("%(code)s (valid until %(date)s, verified)") if held.verified else _("%(code)s (valid until %(date)s)"))
        % {"code": code, "date": held.valid_until.isoformat()}
        for code, held in on_record
    ]
    return said, missing


def _capability_form(data: Any, initial: dict[str, Any], orgs: list[Organization], editing: Any) -> CapabilityForm:
    form = CapabilityForm(data, initial=initial, organizations=orgs)
    if editing:  # changing one declaration: its factory and process stay what they are, whatever is posted
        form.fields["organization"].disabled = form.fields["process"].disabled = True
    return form


def _capability_to_edit(request: HttpRequest, orgs: list[Organization]) -> Any:
    """The capability named by `?edit=` (or the form's `editing`), if it is one of the user's own factories' (else
    None: the form declares). Operators see every calendar but change terms only where they are members, as the
    form offers."""
    key = posted_id(request.GET.get("edit") if request.method == "GET" else request.POST.get("editing"))
    if key is None:
        return None
    mine = selectors.capability_list(actor=request.user).filter(organization__in=orgs)
    return mine.filter(pk=key).select_related("process").first()


def _capability_initial(cap: Any) -> dict[str, Any]:
    """The declaration form filled with what is declared now, so that changing one term keeps the others."""
    return {
        "organization": cap.organization_id,
        "process": cap.process_id,
        "weekly_capacity": cap.weekly_capacity,
        "unit_cost": cap.unit_cost,
        "setup_cost": cap.setup_cost,
        "min_lot": cap.min_lot,
        "quality_grade": cap.quality_grade,
        "certifications": ", ".join(cap.certifications),
        "lead_weeks": cap.lead_weeks,
        "active": cap.active,
    }
