"""Names and titles are one line: they go into mail subjects, log entries and single-line cells."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy

# line breaks, tabs and the other control characters (a title with CR/LF stopped every copy of a notification's
# mail; review 49 F7 and recheck 50 N6)
# (C0 and C1 controls, the Unicode line and paragraph separators, and the bidirectional overrides and isolates,
# which make a name read otherwise than it is)
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
ONE_LINE = gettext_lazy("Must be one line: no line breaks, tabs or other control characters.")


def is_one_line(text: str) -> bool:
    return not _NOT_ONE_LINE.search(text)


def one_line(text: str) -> str:
    """Text folded onto one line, for a mail's subject: text written before names were checked, or free text,
    may hold line breaks, which a header may not (one failed every copy of a notification's mail; review 49 F7)."""
    return " ".join(str(text).split())
