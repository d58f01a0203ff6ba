"""Names and titles are one line: they go into mail subjects, log entries and single-line cells."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy

# line breaks, tabs and the other control characters (a title with CR/LF stopped every copy of a notification's
# mail; review 49 F7 and recheck 50 N6)
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
ONE_LINE = gettext_lazy("Must be one line: no line breaks, tabs or other control characters.")


def is_one_line(text: str) -> bool:
    return not _NOT_ONE_LINE.search(text)
