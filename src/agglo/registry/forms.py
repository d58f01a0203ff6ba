"""Page forms. They parse what the browser sends; the services own the rules and report errors per field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agglo.common.errors import ValidationFailed
from agglo.registry.kinds import Kind
from agglo.registry.models import Position, Region
from agglo.registry.models.organizations import KIND_LABELS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


def apply_service_errors(form: forms.Form, exc: ValidationFailed) -> None:
    """Show a service's field errors beside the matching form fields."""
    for field, messages in exc.errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message if target else f"{field}: {message}")


def region_choices() -> list[Any]:
    """Regions to pick from, grouped: each Chinese province (itself, then its cities), then the other countries."""
    rows = list(Region.objects.exclude(code="CN").order_by("code"))
    cities: dict[str, list[Region]] = {}
    for r in rows:
        if r.level == "prefecture" and r.parent_id:
            cities.setdefault(r.parent_id, []).append(r)
    groups: list[Any] = [("", "—")]

    def option(r: Region) -> tuple[str, str]:  # 北京市（110000） in Chinese, Beijing (110000) in English
        return r.code, _("%(name)s (%(code)s)") % {"name": r.name, "code": r.code}

    for p in (r for r in rows if r.level == "province"):
        groups.append((p.name, [option(p), *(option(c) for c in cities.get(p.pk, []))]))
    groups.append((_("Other countries"), [option(r) for r in rows if r.level == "country"]))
    return groups


class AdmissionForm(forms.Form):
    name_zh = forms.CharField(label=_("Chinese name"), max_length=200)
    name_en = forms.CharField(label=_("English name"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[(k.value, KIND_LABELS[k]) for k in Kind])
    region = forms.ChoiceField(
        label=_("Region"),
        choices=(),  # filled from the regions table: each province with its cities, then other countries
        help_text=_("The city (or province) where the organization is registered; outside China, its country."),
    )
    uscc = forms.CharField(
        label=_("Unified social credit code"),
        max_length=30,
        required=False,
        help_text=_("18 characters, required for organizations in China."),
    )
    foreign_registry_id = forms.CharField(
        label=_("Foreign registry id"),
        max_length=60,
        required=False,
        help_text=_("For organizations outside China."),
    )
    founded_year = forms.IntegerField(label=_("Founding year"), required=False)
    headcount = forms.IntegerField(label=_("Headcount"), required=False)
    website = forms.CharField(label=_("Website"), max_length=200, required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    tags = forms.CharField(label=_("Tags"), max_length=700, required=False, help_text=_("Separate with commas."))
    contact_name = forms.CharField(label=_("Contact person"), max_length=100)
    contact_email = forms.CharField(
        label=_("Contact email"),
        max_length=254,
        help_text=_("Becomes the login of the organization's admin account."),
    )
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    password = forms.CharField(label=_("Password for the admin account"), widget=forms.PasswordInput, strip=False)
    password_again = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)
    message = forms.CharField(
        label=_("Message to the reviewer"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    documents = MultipleFileField(
        label=_("Documents"),
        required=False,  # the service asks for one, in its own words; the label still shows it is needed
        help_text=_("Business licence and other proof: PDF, PNG or JPEG, up to 10 MB each."),
    )
    documents.needed = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = region_choices()

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class RespondForm(forms.Form):
    note = forms.CharField(label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 3}))
    documents = MultipleFileField(label=_("More documents"), required=False)


class ReviewForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("approve", _("Approve")),
            ("reject", _("Reject")),
            ("request_info", _("Ask for more information")),
        ]
    )
    note = forms.CharField(label=_("Note or reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class OrganizationEditForm(forms.Form):
    # the service checks the name (required, its length) with every other field, in one answer
    name_zh = forms.CharField(label=_("Chinese name"), required=False, widget=forms.TextInput(attrs={"required": True}))
    name_en = forms.CharField(label=_("English name"), max_length=200, required=False)
    website = forms.CharField(label=_("Website"), max_length=200, required=False)
    # numbers stay text here, so that the service checks them with every other rule in one answer
    founded_year = forms.CharField(
        label=_("Founding year"), required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    headcount = forms.CharField(
        label=_("Headcount"), required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    tags = forms.CharField(label=_("Tags"), max_length=700, required=False, help_text=_("Separate with commas."))
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=100, required=False)
    contact_email = forms.CharField(label=_("Contact email"), max_length=254, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    contacts_visibility = forms.ChoiceField(
        label=_("Contacts visible to"),
        required=False,  # the service names a missing or unknown level with the other fields' problems
        choices=[
            ("public", _("Everyone")),
            ("members", _("Member organizations")),
            ("partners", _("Partners only")),
            ("private", _("Nobody else")),
        ],
    )


class PositionForm(forms.Form):
    segment = forms.ChoiceField(label=_("Chain segment"))
    role = forms.ChoiceField(label=_("Role"), choices=Position.Role.choices)

    def __init__(self, *args, segments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [(s.code, f"{s.chain.name} · {s.name}") for s in segments]
