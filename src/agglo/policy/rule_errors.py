"""Why a rule cannot be read, in the reader's language: the pure parser (policy.rules) names a reason by its code
and fills the gaps; this words the same codes for the pages and the API."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.policy.rules import RuleError

REASON_WORDS = {
    "character": gettext_lazy("unexpected character %(char)s"),
    "expected": gettext_lazy("expected %(what)s, found %(found)s"),
    "empty": gettext_lazy("the rule is empty"),
    "end": gettext_lazy("expected and, or or the end of the rule, found %(found)s"),
    "depth": gettext_lazy("the rule nests more than %(n)d levels deep (parentheses and not)"),
    "fact": gettext_lazy("expected a fact such as headcount, found %(found)s"),
    "unknown": gettext_lazy("unknown fact %(name)s; known facts: %(known)s"),
    "operator": gettext_lazy("%(fact)s cannot be compared with %(op)s"),
    "not_number": gettext_lazy("%(fact)s is not a number"),
    "bounds": gettext_lazy("the lower bound is above the upper bound"),
    "not_list": gettext_lazy("%(fact)s is not a list; use = or in"),
    "comparison": gettext_lazy("expected a comparison after %(fact)s, found %(found)s"),
    "number": gettext_lazy("%(fact)s needs a number, found %(found)s"),
    "boolean": gettext_lazy("%(fact)s needs true or false, found %(found)s"),
    "length": gettext_lazy("a rule has at most %(n)d characters"),
    "large": gettext_lazy("%(fact)s takes a number below %(limit)s in size"),
    "percent": gettext_lazy("%(fact)s is not a percentage: write the number without the percent sign"),
}
WANTED_WORDS = {
    "paren": gettext_lazy("a closing parenthesis"),
    "bracket": gettext_lazy("a closing ]"),
    "list": gettext_lazy("a list in [ ]"),
    "and": gettext_lazy("and between the two bounds"),
    "text": gettext_lazy("a quoted text"),
}


def rule_error_text(exc: RuleError) -> str:
    """The reason and where reading stopped, as a sentence."""
    params: dict[str, Any] = dict(exc.params)
    if "found" in params:
        params["found"] = _("the end of the rule") if params["found"] is None else f"“{params['found']}”"
    for quoted in ("char", "name"):
        if quoted in params:
            params[quoted] = f"“{params[quoted]}”"
    if "what" in params:
        params["what"] = WANTED_WORDS[params["what"]]
    reason = REASON_WORDS[exc.code] % params
    return _("%(reason)s, at character %(n)d.") % {"reason": reason, "n": exc.position + 1}
