"""The policy calculators: the technology-based SME evaluation and the R&D additional deduction."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from agglo.common.errors import DomainError, labelled_errors
from agglo.policy import calculators as calculators_core
from agglo.policy import estimates, selectors

# the calculators' fields, as their forms label them
CALCULATOR_FIELDS = {
    "staff": gettext_lazy("Total staff"),
    "tech_staff": gettext_lazy("Technical staff"),
    "revenue": gettext_lazy("Sales revenue last year (yuan)"),
    "total_assets": gettext_lazy("Total assets (yuan)"),
    "rd_expense": gettext_lazy("R&D expenses (yuan)"),
    "total_cost": gettext_lazy("Total costs and expenses (yuan)"),
    "ip_class_i": gettext_lazy("Class I IP (invention patents, new plant varieties, new drugs, IC layouts…)"),
    "ip_class_ii": gettext_lazy("Class II IP (utility models, designs, software copyrights)"),
    "expensed": gettext_lazy("R&D expenses charged this year (yuan)"),
    "amortisation": gettext_lazy("Amortisation of R&D intangible assets this year (yuan)"),
    "year": gettext_lazy("Tax year"),
    "industry": gettext_lazy("Industry, if excluded from the deduction"),
}


@require_http_methods(["GET", "POST"])
def calculators(request: HttpRequest) -> HttpResponse:
    """The technology-based SME evaluation and the R&D additional deduction, started from my own records."""
    values: dict[str, Any] = selectors.calculator_defaults(actor=request.user) if request.user.is_authenticated else {}
    which, result, errors = request.POST.get("calculator", ""), None, {}
    if request.method == "POST":
        # what was sent, over the other calculator's starting figures (a form sends only its own fields)
        sent = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        flags = (*estimates.TECH_SME_FLAGS,) if which == "tech_sme" else ("ic_or_machine_tool",)
        values = {k: v for k, v in values.items() if k not in flags} | sent
        try:
            if which == "tech_sme":
                result = estimates.tech_sme(request.POST)
            elif which == "rd_deduction":
                result = estimates.rd_deduction(request.POST)
            else:
                errors = {"calculator": [_("Choose a calculator.")]}
        except DomainError as exc:
            errors = exc.errors
    context = {
        "values": values,
        "which": which,
        "result": result,
        # each bad field's errors after its label, shown in the form that was sent
        "errors": [line for _field, line in labelled_errors(errors, CALCULATOR_FIELDS)],
        "flags": estimates.TECH_SME_FLAGS,
        "industries": sorted(estimates.INDUSTRY_NAMES.items(), key=lambda item: str(item[1])),
        "tech_sme_source": calculators_core.TECH_SME_SOURCE,
        "deduction_source": calculators_core.DEDUCTION_SOURCE,
    }
    return render(request, "policy/calculators.html", context, status=422 if errors else 200)
