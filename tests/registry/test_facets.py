"""The in-memory facet counter against a brute-force count, and the facet table staying current."""

import numpy as np
import pytest
from django.contrib.auth.models import AnonymousUser
from hypothesis import given, settings
from hypothesis import strategies as st

from agglo.registry import facet_index
from agglo.registry.facets import NONE, FacetTable, Selection, count, newest
from agglo.registry.selectors import DirectoryFilters, organization_search
from agglo.registry.services import organization_set_status, organization_update, position_add

ROWS = 40


@st.composite
def tables(draw):
    status = np.array(draw(st.lists(st.sampled_from([NONE, 0, 1]), min_size=ROWS, max_size=ROWS)), dtype=np.int32)
    kind = np.array(draw(st.lists(st.integers(0, 3), min_size=ROWS, max_size=ROWS)), dtype=np.int32)
    area = np.array(draw(st.lists(st.integers(0, 4), min_size=ROWS, max_size=ROWS)), dtype=np.int32)
    chains = np.array(draw(st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=ROWS, max_size=ROWS)))
    segs = np.array(draw(st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=ROWS, max_size=ROWS)))
    return FacetTable(status, kind, kind % 2, area, chains.astype(bool), segs.astype(bool))


def brute(table, ids, sel, skip=""):
    out = []
    for i in ids:
        if not 0 <= i < table.size or table.status[i] != sel.status:
            continue
        checks = {
            "kind": sel.kind == NONE or table.kind[i] == sel.kind,
            "layer": sel.layer == NONE or table.layer[i] == sel.layer,
            "area": sel.area == NONE or table.area[i] == sel.area,
            "chain": sel.chain == NONE or table.chains[i, sel.chain],
            "segment": sel.segment == NONE or table.segments[i, sel.segment],
        }
        if all(ok for name, ok in checks.items() if name != skip):
            out.append(i)
    return out


@settings(max_examples=150, deadline=None)
@given(
    table=tables(),
    ids=st.one_of(st.none(), st.lists(st.integers(-2, ROWS + 2), max_size=60, unique=True)),
    kind=st.sampled_from([NONE, 0, 1, 2, 3]),
    area=st.sampled_from([NONE, 0, 4]),
    chain=st.sampled_from([NONE, 0, 2]),
    segment=st.sampled_from([NONE, 1, 3]),
)
def test_counts_match_brute_force(table, ids, kind, area, chain, segment):
    sel = Selection(status=0, kind=kind, area=area, chain=chain, segment=segment)
    given_ids = None if ids is None else np.array(ids, dtype=np.int32)
    result = count(table, given_ids, sel)
    order = list(range(ROWS)) if ids is None else ids
    assert result.rows.tolist() == brute(table, order, sel)  # order of the given ids is kept
    assert result.total == len(result.rows)
    kinds = {}
    for i in brute(table, order, sel, skip="kind"):
        kinds[int(table.kind[i])] = kinds.get(int(table.kind[i]), 0) + 1
    assert result.kind == kinds
    chains = {}
    for i in brute(table, order, sel, skip="chain"):
        for c in np.flatnonzero(table.chains[i]):
            chains[int(c)] = chains.get(int(c), 0) + 1
    assert result.chain == chains


def test_newest_pages_through_ids_in_descending_order():
    rows = np.array([5, 90, 12, 40, 7], dtype=np.int32)
    assert newest(rows, 0, 2).tolist() == [90, 40]
    assert newest(rows, 2, 2).tolist() == [12, 7]
    assert newest(rows, 4, 2).tolist() == [5]
    assert newest(rows, 9, 2).tolist() == []


@pytest.mark.django_db
def test_facet_table_follows_every_change(make_org, operator):
    anon = AnonymousUser()

    def search(**f):
        return organization_search(actor=anon, filters=DirectoryFilters(**f))

    org = make_org(kind="enterprise")
    assert search(kind="enterprise").total == 1
    table_before, _ = facet_index.current()
    assert facet_index.current()[0] is table_before  # unchanged data: the same table is reused
    position_add(actor=operator, organization=org, segment_code="nev-battery-cells", role="produces")
    assert search(chain="nev").total == 1 and search(segment="nev-battery-cells").total == 1
    organization_update(actor=operator, organization=org, data={"kind": "tech_sme"})
    assert search(kind="enterprise").total == 0 and search(kind="tech_sme").total == 1
    make_org()
    assert search().total == 2
    organization_set_status(actor=operator, organization=org, status="suspended")
    assert search().total == 1
    assert organization_search(actor=operator, filters=DirectoryFilters(status="suspended")).total == 1
