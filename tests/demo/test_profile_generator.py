"""The demo's professional-database facts obey the rules real data must."""

from __future__ import annotations

import datetime as dt

from agglo.demo.profile_generator import OrgRef, generate_facts
from agglo.profiles import rules

TERMS = [("iso-9001", "certification"), ("eda", "technology"), ("cnc-machining", "process"), ("sem", "equipment")]


def facts(seed: int = 7):
    orgs = [OrgRef(i, "tech_sme" if i % 3 else "university", 2000 + i % 20, 20 + i) for i in range(1, 200)]
    return generate_facts(orgs, [(1, 2), (3, 4), (5, 6)], TERMS, seed, this_year=2026)


def test_demo_facts_are_deterministic():
    assert facts(7) == facts(7)
    assert facts(7) != facts(8)


def test_demo_statements_and_patents_pass_the_rules():
    generated = facts()
    assert generated.statements and generated.ip and generated.capabilities
    today = dt.date(2026, 11, 27)
    for s in generated.statements:
        values = {**s.figures, "year": s.year, "as_of": dt.date(s.year, 12, 31)}
        errors, _warnings = rules.statement_problems(values, today=today)
        assert errors == [], (s, errors)
    for a in generated.ip:
        values = {
            "kind": a.kind,
            "number": a.number,
            "status": a.status,
            "as_of": today,
            "filed_on": dt.date(a.filed_year, 3, 1),
            "granted_on": dt.date(a.granted_year, 9, 1) if a.granted_year else None,
        }
        assert rules.ip_problems(values, today=today) == [], a
