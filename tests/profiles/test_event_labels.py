"""Every event the platform records is worded in the reader's language on the history pages: none shows its code
(review 100 found "Order · documents_added")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation

from agglo.profiles.templatetags.profiles_tags import event_label

SOURCE = Path(__file__).resolve().parents[2] / "src" / "agglo"
EVENT = re.compile(r'"([a-z]+\.[a-z_]+)"')


def recorded_events() -> set[str]:
    """The events named where they are recorded: the first argument of `record(…)` (a literal, or either side of a
    conditional), and the factory's steps (`audit_step("…")`, recorded as `factory.allocation_…`)."""
    names: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"\brecord\(", text):
            first = text[call.end() :].split(",", 1)[0]
            names |= set(EVENT.findall(first))
        names |= {f"factory.allocation_{verb}" for verb in re.findall(r'\baudit_step\(\s*"([a-z_]+)"', text)}
    return names


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_recorded_event_has_words(language: str) -> None:
    events = recorded_events()
    assert len(events) > 50  # the scan found them
    with translation.override(language):
        raw = {e: event_label(e) for e in events if "_" in event_label(e) or event_label(e) == e.split(".", 1)[1]}
    assert raw == {}
