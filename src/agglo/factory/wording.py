"""Diagnosis findings in words, in the reader's language."""

from __future__ import annotations

import contextlib
from typing import Any

from django.utils.translation import gettext as _

from agglo.factory.diagnosis import Finding
from agglo.factory.weeks import week_at


def finding_text(finding: Finding, order: Any) -> str:
    d: dict[str, Any] = dict(finding.detail)
    step = _("Step %(seq)s") % {"seq": finding.operation} if finding.operation else _("The order")
    if "first" in d:
        d["from"] = week_at(order.start_week, int(d["first"])).isoformat()
    if "last" in d:
        d["to"] = week_at(order.start_week, int(d["last"])).isoformat()
    texts = {
        "process": _("no member factory runs this process (%(process)s)."),
        "quality": _("no factory that runs it reaches the required quality grade."),
        "certification": _("no factory that runs it holds the required certifications."),
        "region": _("no factory that runs it lies in the allowed regions."),
        "declined": _("every capable factory has declined or withdrawn."),
        "route": _("the route is too long: it cannot start before the week of %(from)s yet must end by %(to)s."),
        "capacity": _(
            "needs %(needed)s units but the capable factories have only %(available)s free in the weeks "
            "%(from)s to %(to)s (weekly capacity)."
        ),
        "suppliers": _(
            "needs %(needed)s units but %(limit)s suppliers can make at most %(available)s in the "
            "weeks %(from)s to %(to)s (supplier limit)."
        ),
        "budget": _("costs at least %(floor)s at the cheapest capable factories, above the budget of %(budget)s."),
    }
    text = texts.get(finding.rule, _("breaks the rule %(rule)s.") % {"rule": finding.rule})
    with contextlib.suppress(KeyError, TypeError, ValueError):
        text = text % d
    return f"{step}: {text}"
