"""Page forms of the virtual factory. They parse what the browser sends; the services own the rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

from agglo.factory.models import Capability, Order, Process
from agglo.factory.selectors.orders import ROLE_FILTERS, STATUS_FILTERS
from agglo.factory.services.orders import MAX_OPERATIONS
from agglo.registry.models import Region
from agglo.registry.selectors import region_names

OPERATION_ROWS = 8


class OrderFilterForm(forms.Form):
    """The order list's search bar: each control names itself, as the market's does."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"aria-label": _("Search orders"), "placeholder": _("Order number, product or buyer")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *STATUS_FILTERS],
        widget=forms.Select(attrs={"aria-label": _("Status")}),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        required=False,
        choices=[("", _("Placed or served in")), *ROLE_FILTERS],
        widget=forms.Select(attrs={"aria-label": _("Role")}),
    )


class OrderForm(forms.Form):
    product = forms.CharField(label=_("Product"), max_length=200)
    quantity = forms.CharField(
        label=_("Quantity"),
        help_text=_("How many finished products: for your records; each step of the route carries its own quantity."),
    )
    start_week = forms.CharField(
        label=_("First week"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    due_week = forms.CharField(label=_("Due week"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    min_quality = forms.ChoiceField(
        label=_("Minimum quality grade"), choices=[("0", "—"), *Capability.Grade.choices], required=False
    )
    certifications = forms.CharField(
        label=_("Required certifications"), required=False, help_text=_("Comma-separated, e.g. ISO9001, IATF16949.")
    )
    certificates = forms.ChoiceField(
        label=_("Certifications count when"),
        choices=Order.Certificates.choices,
        initial=Order.Certificates.DECLARED,
        required=False,
        help_text=_(
            "A factory's certificates are on record when its profile lists them with their number, still valid; "
            "the platform's operators verify them on request."
        ),
    )
    max_suppliers = forms.CharField(label=_("Suppliers per operation at most"), initial="3")
    max_share = forms.CharField(
        label=_("Largest share of one factory"), required=False, help_text=_("Between 0.1 and 1; empty for no cap.")
    )
    regions_only = forms.CharField(
        label=_("Only these provinces"),
        required=False,
        help_text=_("Province names or codes, comma-separated, e.g. Guangdong, Jiangsu or 440000, 320000."),
    )
    regions_excluded = forms.CharField(label=_("Not these provinces"), required=False)
    budget = forms.CharField(
        label=_("Budget (yuan)"),
        required=False,
        help_text=_("Covers production and setups; the plan's risk and lateness figures are not money paid."),
    )
    late_penalty = forms.CharField(
        label=_("Lateness penalty per week (yuan)"),
        required=False,
        initial="0",
        help_text=_(
            "What a week late costs you: the plan weighs it against cheaper factories. With 0 the due week comes "
            "first: the plan meets it whenever capacity allows, whatever it costs."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The service checks every field, the route with them, and names every problem in one answer; a field
        # the form refused first would hide the rest. The browser still asks for what is required.
        for field in self.fields.values():
            if field.required:
                field.widget.attrs["required"] = True
                field.required = False
            # lengths too (the box keeps its maxlength); not the NUL check, which no database takes
            field.validators = [v for v in field.validators if isinstance(v, ProhibitNullCharactersValidator)]
        keypads(self.fields)


def keypads(fields: dict[str, Any]) -> None:
    """A phone shows the keypad its figures need (they stay text fields: the service reads "1,000" too)."""
    for name, mode in NUMBER_KEYPADS.items():
        if name in fields:
            fields[name].widget.attrs["inputmode"] = mode


NUMBER_KEYPADS = {
    "quantity": "numeric",
    "max_suppliers": "numeric",
    "max_share": "decimal",
    "budget": "decimal",
    "late_penalty": "decimal",
}


class OrderTermsForm(forms.Form):
    """What a buyer may change on an open order: the entry form's own fields, and each step's quantity
    (`op-N-quantity`, as on entry)."""

    due_week = OrderForm.declared_fields["due_week"]
    quantity = forms.CharField(
        label=_("Quantity"),
        help_text=_(
            "How many finished products. A new quantity scales each step's quantity in proportion (rounded up), "
            "except the steps whose quantity you change below."
        ),
    )
    max_suppliers = OrderForm.declared_fields["max_suppliers"]
    max_share = OrderForm.declared_fields["max_share"]
    budget = OrderForm.declared_fields["budget"]
    late_penalty = OrderForm.declared_fields["late_penalty"]
    regions_only = OrderForm.declared_fields["regions_only"]
    regions_excluded = OrderForm.declared_fields["regions_excluded"]

    def __init__(self, *args: Any, steps: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for op in steps:  # the route's operations, in order; named in the reader's language
            self.fields[step_field(op.seq)] = forms.CharField(
                label=_("Step %(seq)d · %(process)s (%(unit)s)")
                % {"seq": op.seq, "process": op.process.name, "unit": op.process.unit},
                widget=forms.TextInput(attrs={"inputmode": "numeric"}),
            )
        for field in self.fields.values():  # the service checks what is sent (and only that), naming each field
            field.required = False
        keypads(self.fields)


def step_field(seq: int) -> str:
    """The form field of a step's quantity, as the entry form names it."""
    return f"op-{seq}-quantity"


def terms_initial(order: Order) -> dict[str, Any]:
    """The order's terms as the order forms show them: provinces by name in the reader's language, as the fields
    take them (codes read alike: recheck 51 R8)."""
    return {
        "max_suppliers": order.max_suppliers,
        "max_share": order.max_share if order.max_share is not None else "",
        "budget": order.budget if order.budget is not None else "",
        "late_penalty": order.late_penalty,
        "regions_only": ", ".join(region_names(order.regions_only)),
        "regions_excluded": ", ".join(region_names(order.regions_excluded)),
    }


def repeat_initial(order: Order, start: str) -> dict[str, Any]:
    """The new-order form filled from an earlier order ("Order again"): its terms, from the first open week `start`,
    due as many weeks later as the earlier one was."""
    first = dt.date.fromisoformat(start)
    return {
        **terms_initial(order),
        "product": order.product,
        "quantity": order.quantity,
        "start_week": start,
        "due_week": (first + (order.due_week - order.start_week)).isoformat(),
        "min_quality": str(order.min_quality),
        "certifications": ", ".join(order.certifications),
        "certificates": order.certificates,
    }


def repeat_rows(order: Order) -> list[dict[str, Any]]:
    """The earlier order's route as the form's rows."""
    return [
        {"process": op.process_id, "quantity": str(op.quantity), "after": ", ".join(str(a) for a in op.after)}
        for op in order.operations.order_by("seq")
    ]


def operation_rows(data: Any) -> list[dict[str, Any]]:
    """The route rows the browser sent (`op-N-process`, `op-N-quantity`, `op-N-after`), up to the last one filled
    in. An empty row before it stays, so that step numbers (and the `after` that name them) are the form's, and
    the row is reported as missing its process."""
    rows = [
        {
            "process": (data.get(f"op-{n}-process") or "").strip(),
            "quantity": (data.get(f"op-{n}-quantity") or "").strip(),
            "after": (data.get(f"op-{n}-after") or "").strip(),
        }
        for n in range(1, MAX_OPERATIONS + 1)  # a repeated order may bring more rows than a new form has
    ]
    while rows and not any(rows[-1].values()):
        rows.pop()
    return rows


class CapabilityForm(forms.Form):
    organization = forms.TypedChoiceField(label=_("Factory"), coerce=int)
    process = forms.ModelChoiceField(
        label=_("Process"), queryset=Process.objects.all(), to_field_name="code", empty_label="—"
    )
    weekly_capacity = forms.CharField(label=_("Capacity per week"))
    unit_cost = forms.CharField(label=_("Unit cost (yuan)"))
    setup_cost = forms.CharField(label=_("Setup cost (yuan)"), required=False)
    min_lot = forms.CharField(label=_("Minimum lot"), initial="1")
    quality_grade = forms.ChoiceField(label=_("Quality grade"), choices=Capability.Grade.choices, initial=2)
    certifications = forms.CharField(label=_("Certifications"), required=False)
    lead_weeks = forms.CharField(label=_("Lead time (weeks)"), initial="0")
    active = forms.BooleanField(
        label=_("Offered to new plans"),
        required=False,
        initial=True,
        help_text=_("Untick to receive no new offers for this process; accepted work stays."),
    )

    def __init__(self, *args: Any, organizations: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # only the user's own factories: a posted id outside them is an invalid choice, not a lookup
        field = cast(forms.TypedChoiceField, self.fields["organization"])
        field.choices = [(o.pk, o.name) for o in organizations]


class CalendarFileForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}))
    dry_run = forms.BooleanField(label=_("Check only (dry run): write nothing"), required=False, initial=True)


class SharedCapacityForm(forms.Form):
    """The filters of the shared capacity page: every process, or one process by province; anywhere, or in one
    province."""

    process = forms.ChoiceField(label=_("Process"), required=False)
    province = forms.ChoiceField(label=_("Province"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["process"]).choices = [
            ("", _("Every process")),
            *((p.code, p.name) for p in Process.objects.order_by("code")),
        ]
        cast(forms.ChoiceField, self.fields["province"]).choices = [
            ("", _("Every province")),
            *((r.code, r.name) for r in Region.objects.filter(level=Region.Level.PROVINCE).order_by("code")),
        ]
