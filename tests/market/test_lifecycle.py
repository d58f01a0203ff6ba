"""The pure rules of needs and offers: kinds, types, status moves, region rules."""

import pytest

from agglo.market import lifecycle
from agglo.market.lifecycle import Status


def test_status_moves():
    assert lifecycle.next_status("submit", "draft") == Status.PUBLISHED
    assert lifecycle.next_status("renew", "expired") == Status.PUBLISHED
    assert lifecycle.next_status("close", "published") == Status.CLOSED
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.next_status("submit", "closed")
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.next_status("renew", "draft")
    for action, (sources, _target) in lifecycle.TRANSITIONS.items():
        assert Status.CLOSED not in sources, action  # closed is final


def test_subkinds():
    assert lifecycle.subkind_ok("service", "legal")
    assert lifecycle.subkind_ok("financing", "leasing")
    assert not lifecycle.subkind_ok("service", "")
    assert not lifecycle.subkind_ok("capital", "loan")
    assert lifecycle.subkind_ok("capital", "")


def test_region_rules():
    codes = frozenset({"440000", "320000"})
    assert lifecycle.region_allows("anywhere", frozenset(), "650000")
    assert lifecycle.region_allows("only", codes, "440000")
    assert not lifecycle.region_allows("only", codes, "650000")
    assert not lifecycle.region_allows("exclude", codes, "320000")
    assert lifecycle.region_allows("exclude", codes, "DE")
