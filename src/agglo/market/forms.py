"""Page forms of the market. They parse what the browser sends; the services own the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agglo.market.lifecycle import Side
from agglo.market.models import COLLATERAL_LABELS, KIND_LABELS, SUBKIND_LABELS, Interest, Listing
from agglo.profiles.models import CapabilityTerm
from agglo.registry.models import Region, Segment


def _choices(pairs: Any) -> list[tuple[str, Any]]:
    return [(k.value if hasattr(k, "value") else k, v) for k, v in pairs]


class ListingForm(forms.Form):
    side = forms.ChoiceField(
        label=_("Need or offer"),
        choices=[(Side.NEED.value, _("Need")), (Side.OFFER.value, _("Offer"))],
        widget=forms.RadioSelect,
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *_choices(KIND_LABELS.items())], required=False)
    subkind = forms.ChoiceField(
        label=_("Type (services and financing products)"),
        choices=[("", "—"), *SUBKIND_LABELS.items()],
        required=False,
    )
    title_zh = forms.CharField(label=_("Chinese title"), required=False, max_length=400)
    title_en = forms.CharField(label=_("English title"), required=False, max_length=400)
    description_zh = forms.CharField(
        label=_("Chinese description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    description_en = forms.CharField(
        label=_("English description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    terms = forms.MultipleChoiceField(
        label=_("Catalogue terms"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Technologies, processes, equipment, tests or certifications the listing is about."),
    )
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate with commas."))
    segments = forms.MultipleChoiceField(
        label=_("Chain segments"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Where on the chain it sits; empty means your organization's positions."),
    )
    region_rule = forms.ChoiceField(label=_("Region rule"), choices=Listing._meta.get_field("region_rule").choices)
    regions = forms.MultipleChoiceField(
        label=_("Regions"), required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    amount_min = forms.CharField(label=_("Amount from (yuan)"), required=False)
    amount_max = forms.CharField(label=_("Amount up to (yuan)"), required=False)
    # loan terms: a capital need's wishes, a financing product's conditions (the service refuses them elsewhere)
    term_months_min = forms.CharField(
        label=_("Term from (months)"), required=False, help_text=_("Capital needs and financing products only.")
    )
    term_months_max = forms.CharField(label=_("Term up to (months)"), required=False)
    rate_min = forms.CharField(label=_("Annual rate from (percent)"), required=False)
    rate_max = forms.CharField(
        label=_("Annual rate up to (percent)"),
        required=False,
        help_text=_("On a capital need: the highest rate you would pay."),
    )
    collateral = forms.MultipleChoiceField(
        label=_("Collateral"),
        required=False,
        choices=[(str(k), v) for k, v in COLLATERAL_LABELS.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("On a financing product: what it accepts. On a capital need: what you can give."),
    )
    deadline = forms.CharField(
        label=_("Deadline"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    visibility = forms.ChoiceField(label=_("Visible to"), choices=Listing.Visibility.choices, initial="members")
    anonymous = forms.BooleanField(
        label=_("Anonymous"),
        required=False,
        help_text=_("Your name is shown only to members whose interest you accept."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["terms"].choices = [(t.code, t.name) for t in CapabilityTerm.objects.order_by("kind", "code")]
        self.fields["segments"].choices = [
            (s.code, f"{s.chain.name} · {s.name}") for s in Segment.objects.select_related("chain")
        ]
        # China's provinces first, then countries
        regions = Region.objects.filter(level__in=("province", "country"))
        self.fields["regions"].choices = [
            (r.code, r.name) for r in sorted(regions, key=lambda r: (r.level != "province", r.code))
        ]


class InterestForm(forms.Form):
    cooperation = forms.ChoiceField(label=_("Kind of cooperation"), choices=Interest.Cooperation.choices)
    # the browser stops at the service's limits (`services.interests.LIMITS`), before anything is lost
    message = forms.CharField(
        label=_("What cooperation you propose"),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}),
        required=False,
    )
    missing = forms.CharField(
        label=_("What is still missing"), widget=forms.Textarea(attrs={"rows": 2, "maxlength": 1000}), required=False
    )
    introduction = forms.CharField(
        label=_("Who you are"), widget=forms.Textarea(attrs={"rows": 2, "maxlength": 1000}), required=False
    )


class CloseForm(forms.Form):
    # shown without their labels beside the button: each control names itself to a screen reader
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Listing.Outcome.choices, widget=forms.Select(attrs={"aria-label": _("Outcome")})
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=500,
        # shown without its label beside the button: the placeholder and the reader's label say what it is for
        widget=forms.TextInput(
            attrs={"placeholder": _("What came of it (optional)"), "aria-label": _("What came of it (optional)")}
        ),
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        required=False,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("Reason for declining (optional)"),
                "aria-label": _("Reason for declining (optional)"),
            }
        ),
    )


class BrowseForm(forms.Form):
    # a search bar without visible labels: each control names itself (and the text box says what it searches)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"aria-label": _("Search needs and offers"), "placeholder": _("Search")}),
    )
    side = forms.ChoiceField(
        label=_("Need or offer"),
        required=False,
        choices=[("", _("Both")), (Side.NEED.value, _("Needs")), (Side.OFFER.value, _("Offers"))],
        widget=forms.Select(attrs={"aria-label": _("Need or offer")}),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *_choices(KIND_LABELS.items())],
        widget=forms.Select(attrs={"aria-label": _("Kind")}),
    )
