"""The solver core on the Generalized Assignment Problem: the file format, published optima, infeasibility."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from agglo.factory.gap import GapFormatError, agent_search, check_assignment, parse_gap, solve_gap

DATA = Path(__file__).with_name("data")


def problem(name: str):
    return parse_gap((DATA / name).read_text())


@pytest.mark.parametrize(("name", "minimum", "maximum"), [("gap1-0", 261, 336), ("gap12-4", 945, 1446)])
def test_published_optima(name, minimum, maximum):
    p = problem(name)
    low = solve_gap(p, time_limit=20)
    assert (low.status, low.objective, low.bound) == ("optimal", minimum, minimum)
    assert check_assignment(p, low.assignment) == minimum
    high = solve_gap(p, maximize=True, time_limit=20)
    assert (high.status, high.objective) == ("optimal", maximum)
    assert check_assignment(p, high.assignment) == maximum


def test_a_larger_problem_gets_a_bound_and_a_feasible_answer_in_time():
    p = problem("a05100")
    result = solve_gap(p, time_limit=5)
    assert result.status in ("optimal", "feasible") and result.bound <= 1698 <= result.objective
    assert check_assignment(p, result.assignment) == result.objective


def test_infeasible_problems_are_reported_not_crashed():
    too_big = parse_gap("2 2  1 1 1 1  5 5 5 5  3 3")  # no job fits any agent
    assert solve_gap(too_big).status == "infeasible"
    crowded = parse_gap("1 2  1 1  2 2  3")  # each fits alone, not both
    result = solve_gap(crowded)
    assert result.status == "infeasible" and result.assignment == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "number of agents"),
        ("2 x", "number 2 ('x') is not a whole number"),
        ("1 1  1_0  1  3", "number 3 ('1_0') is not a whole number"),
        ("1 1  1  99999999999  3", "number 4 ('99999999999') is not a whole number written in at most 10"),
        ("1 1  1  1  2000000000", "number 5 (2000000000) is above 1000000000"),
        ("0 3", "at least 1"),
        ("1 2  1 1  2 2", "expected 7 numbers"),
        ("1 1  1  -1  3", "number 4 (-1) is a resource use, which must not be negative"),
        ("1 1  1  1  -3", "number 5 (-3) is a capacity, which must not be negative"),
        ("2  1 1  1  1  3  1 1  2  1  4", "an OR-Library collection of 2 problems"),
    ],
)
def test_format_errors_say_where(text, message):
    with pytest.raises(GapFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_gap(text)


def test_assignment_check():
    p = parse_gap("2 2  1 2 3 4  1 1 1 1  1 1")
    assert check_assignment(p, [0, 1]) == 5
    with pytest.raises(ValueError, match="over capacity"):
        check_assignment(p, [0, 0])
    with pytest.raises(ValueError, match="does not exist"):
        check_assignment(p, [0, 2])


def test_the_command(capsys, tmp_path):
    call_command("solve-gap", str(DATA / "gap1-0"), "--json", "--time-limit", "10")
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "optimal" and out["objective"] == 261 and len(out["assignment"]) == 15
    call_command("solve-gap", str(DATA / "gap1-0"), "--maximize", "--json")
    assert json.loads(capsys.readouterr().out)["objective"] == 336
    bad = tmp_path / "bad.txt"
    bad.write_text("3 3 1 2")
    with pytest.raises(CommandError, match="expected 23 numbers"):
        call_command("solve-gap", str(bad), "--json")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("solve-gap", str(tmp_path / "missing"), "--json")
    with pytest.raises(CommandError, match="--time-limit"):
        call_command("solve-gap", str(DATA / "gap1-0"), "--time-limit", "0")
    # saved by a Windows editor, with a byte-order mark
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + (DATA / "gap1-0").read_bytes())
    call_command("solve-gap", str(bom), "--json", "--time-limit", "10")
    assert json.loads(capsys.readouterr().out)["objective"] == 261


def test_the_agent_search_improves_a_poor_assignment_and_keeps_it_feasible():
    p = problem("gap12-4")
    worst = solve_gap(p, maximize=True, time_limit=20).assignment  # the most expensive plan: 1446
    better = agent_search(p, worst, until=time.perf_counter() + 3)
    assert check_assignment(p, better) <= 973  # within 3 % of the optimum 945
    best = solve_gap(p, time_limit=20).assignment
    assert check_assignment(p, agent_search(p, best, until=time.perf_counter() + 1)) == 945  # never worse
    richer = agent_search(p, best, maximize=True, until=time.perf_counter() + 3)
    assert check_assignment(p, richer) >= 1403  # within 3 % of the maximum 1446


@pytest.mark.parametrize(
    ("optima", "said"),
    [
        ("file,opt_min,best_known_min\n", "lists no cattrysse1994/"),
        ("file,opt_min\ncattrysse1994/gap1-0,261\n", "no column best_known_min"),
        ("file,opt_min,best_known_min\ncattrysse1994/gap1-0,,261\n", "row 2: cattrysse1994/gap1-0 has no whole-number"),
    ],
)
def test_the_benchmark_names_what_is_wrong_with_its_gap_data(tmp_path, monkeypatch, optima, said):
    (tmp_path / "optima.csv").write_text(optima)
    monkeypatch.setenv("AGGLO_GAP_DATA", str(tmp_path))
    with pytest.raises(CommandError, match=said):
        call_command("bench", "factory", "--gap-time-limit", "1", "--synthetic-time-limit", "1", "--size", "10")
