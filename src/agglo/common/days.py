"""The one rule for a day given in an API body, a query or a service call (files and spreadsheets read days more
freely: `profiles.tabular.day_written`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils.translation import gettext_lazy

NOT_A_DATE = gettext_lazy("Must be a date, such as 2026-12-31.")

# ISO 8601's extended forms only: a day (2026-12-31), or an ISO week (2027-W02, its Monday) or one of its days
# (2027-W02-3), as an ERP may key capacity by. A compact 20261231 reads as a number, and a JSON number is no day:
# pydantic takes one for seconds since 1970 in UTC, so Beijing's midnight was refused and 08:00 taken for the day
# (review 105).
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}-W\d{2}(?:-\d)?", re.ASCII)


def iso_day(value: Any) -> dt.date | None:
    """`value` as a day by the rule above (spaces around it do not count), or None."""
    if isinstance(value, dt.datetime):
        return None  # a moment is not a day: which day it falls on depends on the time zone
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not ISO_DAY.fullmatch(text := value.strip()):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:  # a day or week the calendar has not (2027-02-29, 2027-W53)
        return None
