import pytest
from hypothesis import given
from hypothesis import strategies as st

from agglo.registry.chains import CycleError, depth, topological_order, would_create_cycle


def test_topological_order_is_upstream_first_and_stable():
    links = [("eda", "design"), ("design", "fab"), ("materials", "fab"), ("fab", "packaging")]
    order = topological_order(["packaging", "fab", "design", "eda", "materials"], links)
    assert order == ["eda", "materials", "design", "fab", "packaging"]


def test_cycle_is_reported_with_its_path():
    with pytest.raises(CycleError) as err:
        topological_order(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")])
    assert err.value.cycle[0] == err.value.cycle[-1]
    assert set(err.value.cycle) == {"a", "b", "c"}


def test_unknown_segment_in_link_is_refused():
    with pytest.raises(ValueError, match="unknown segment"):
        topological_order(["a"], [("a", "zz")])


def test_would_create_cycle():
    links = [("a", "b"), ("b", "c")]
    assert would_create_cycle(links, ("c", "a"))
    assert would_create_cycle(links, ("a", "a"))
    assert not would_create_cycle(links, ("a", "c"))


def test_depth_lays_out_columns():
    assert depth(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("a", "c"), ("d", "c")]) == {
        "a": 0,
        "d": 0,
        "b": 1,
        "c": 2,
    }


@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=40))
def test_forward_links_always_order_and_backward_link_is_a_cycle(pairs):
    # Links from lower to higher numbers form a DAG; every link must point forward in the order.
    links = sorted({(f"n{min(a, b):02d}", f"n{max(a, b):02d}") for a, b in pairs if a != b})
    nodes = [f"n{i:02d}" for i in range(13)]
    position = {n: i for i, n in enumerate(topological_order(nodes, links))}
    assert all(position[a] < position[b] for a, b in links)
    for a, b in links:
        assert would_create_cycle(links, (b, a))
