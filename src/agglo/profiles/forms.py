"""Page forms built from the field specs: they collect what the browser sends; the services judge it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agglo.profiles.fields import FieldSpec
from agglo.profiles.messages import label
from agglo.profiles.models import CapabilityTerm, Case, CaseParticipant, CreditRating, IPAsset
from agglo.profiles.models.disclosure import VISIBILITY_CHOICES
from agglo.profiles.services.imports import IMPORT_KINDS
from agglo.registry.forms import MultipleFileField

CHOICE_LABELS: dict[str, dict[str, Any]] = {
    "rating_body": dict(CreditRating.Body.choices),
    "ip.kind": dict(IPAsset.Kind.choices),
    "status": dict(IPAsset.Status.choices),
    "cases.kind": dict(Case.Kind.choices),
    "visibility": dict(VISIBILITY_CHOICES),
    "input_kind": dict(CaseParticipant.InputKind.choices),
    "role": dict(CaseParticipant.Role.choices),
}


def _term_choices() -> list[tuple[Any, Any]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for term in CapabilityTerm.objects.order_by("kind", "code"):
        groups.setdefault(term.get_kind_display(), []).append((term.code, term.name))
    return [("", "—"), *((kind, items) for kind, items in groups.items())]


# what a Chinese balance sheet and income statement call the figures the Altman Z'' score reads (policy review 58 M8)
HELP = {
    "retained_earnings": _("Surplus reserve plus undistributed profit (盈余公积 + 未分配利润)."),
    "ebit": _("Total profit plus interest expense (利润总额 + 利息费用)."),
    "current_assets": _("For the Altman Z'' score: working capital is current assets less current liabilities."),
}


def _field(kind: str, spec: FieldSpec) -> forms.Field:
    common: dict[str, Any] = {"label": label(spec.name).capitalize(), "required": False}
    if kind == "financials" and spec.name in HELP:
        common["help_text"] = HELP[spec.name]
    if spec.name == "term":
        return forms.ChoiceField(choices=_term_choices(), **common)
    if spec.type == "choice":
        labels = CHOICE_LABELS.get(f"{kind}.{spec.name}") or CHOICE_LABELS.get(spec.name) or {}
        choices = [("", "—")] * (not spec.required) + [(c, labels.get(c, c)) for c in spec.choices]
        return forms.ChoiceField(choices=choices, **common)
    if spec.type == "date":
        return forms.CharField(widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}), **common)
    if spec.type in ("int", "decimal"):
        step = "1" if spec.type == "int" else "0.01"
        return forms.CharField(widget=forms.NumberInput(attrs={"step": step}), **common)
    if spec.max_length > 300:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    return forms.CharField(**common)


def spec_form(
    kind: str, specs: dict[str, FieldSpec], data: Any = None, initial: dict[str, Any] | None = None
) -> forms.Form:
    """A form with one field per spec; values stay text so the service reports every rule itself."""
    form = forms.Form(data=data, initial=initial)
    for name, spec in specs.items():
        form.fields[name] = _field(kind, spec)
        if spec.required:
            form.fields[name].widget.attrs["data-required"] = "1"
    return form


def submitted(form: forms.Form, *, partial: bool = False) -> dict[str, Any]:
    """The values to send to a service: every field for a new record; for a change, the fields sent."""
    assert form.is_bound
    return {name: form.data.get(name, "") for name in form.fields if not partial or name in form.data}


class VerifyForm(forms.Form):
    source = forms.ChoiceField(
        choices=[
            ("operator_verified", _("Operator-verified")),
            ("bank_verified", _("Bank-verified")),
            ("audited", _("Audited")),
        ]
    )
    note = forms.CharField(required=False, max_length=1000)


class EvidenceForm(forms.Form):
    files = MultipleFileField(label=_("Evidence files (PDF, PNG, JPEG)"))


class DisclosureForm(forms.Form):
    financials_visibility = forms.ChoiceField(label=_("Financials visible to"), choices=VISIBILITY_CHOICES)
    credit_visibility = forms.ChoiceField(label=_("Credit detail visible to"), choices=VISIBILITY_CHOICES)


IMPORT_LABELS = {
    "organizations": _("Organizations (operators)"),
    "financials": _("Financial statements"),
    "ip": _("IP assets"),
    "capabilities": _("Capabilities"),
}
# what each export holds, as its row on the page names it
EXPORT_LABELS = {**IMPORT_LABELS, "organizations": _("Organizations (public fields)")}


class ImportForm(forms.Form):
    # financial statements first: organizations are the operators' to import, a member's first file is its facts
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[(k, IMPORT_LABELS[k]) for k in sorted(IMPORT_KINDS, key=lambda k: k == "organizations")],
    )
    file = forms.FileField(label=_("CSV or XLSX file"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}))
    dry_run = forms.BooleanField(label=_("Check only (dry run): write nothing"), required=False, initial=True)


class ParticipantForm(forms.Form):
    organization = forms.CharField(label=_("Partner (credit code or member id)"), max_length=18)
    input_kind = forms.ChoiceField(label=_("Input"), choices=CaseParticipant.InputKind.choices)
    input_amount = forms.CharField(
        label=_("Input value (CNY)"), required=False, widget=forms.NumberInput(attrs={"step": "0.01"})
    )
    input_note = forms.CharField(label=_("Input detail"), required=False, max_length=300)


class CaseRatingForm(forms.Form):
    rated = forms.TypedChoiceField(label=_("Participant"), coerce=int, choices=())
    score = forms.TypedChoiceField(label=_("Score"), coerce=int, choices=[(i, "★" * i) for i in range(5, 0, -1)])
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
