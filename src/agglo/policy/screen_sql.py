"""A rule as SQL, so that the database screens a whole table of kept facts and returns only the firms worth
explaining: those that may be eligible, or may lack at most one clause. Pure: text and parameters out.

The screen may let through more firms than the rule accepts, never fewer: numbers may be stored approximately
(SQLite keeps decimals as floating point), so a comparison that cannot be decided within a tiny slack counts as
possibly passed for eligibility and as not certainly failed for the count. Every firm let through is then judged
exactly, in Python, by Rule.screen and Rule.rows.

    eligible(node): 1 when the firm may pass (under an odd number of `not`s, when it surely passes)
    failed(node):   a lower bound of how many clauses the firm is short (Rule.short): an `and` adds up its
                    parts, an `or` takes the nearest (under a `not` the two swap), over clauses that surely fail
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from agglo.policy.rules import BoolOp, Compare, Node, Not, Rule

SLACK = Decimal("1e-9")
Column = Callable[[str], str]  # fact name -> quoted column
Number = Callable[[Decimal], Any]  # how the database takes a number parameter


def screen_sql(
    rule: Rule, column: Column, number: Number = lambda d: d, least: str = "MIN"
) -> tuple[str, list[Any], str, list[Any]]:
    """(eligible SQL, its parameters, failed SQL, its parameters), integer expressions over the facts table.
    `least`: the database's smallest-of-several function (SQLite `MIN`, PostgreSQL `LEAST`)."""
    eligible: list[Any] = []
    failed: list[Any] = []
    return (
        _eligible(rule.tree, False, column, number, eligible),
        eligible,
        _failed(rule.tree, False, column, number, failed, least),
        failed,
    )


def nesting(node: Node) -> int:
    """How deep the screen's SQL nests for this rule (`not not x` is written as `x`): a rule written now nests at
    most rules.MAX_DEPTH, which the databases' parsers hold; one stored under the older limit may nest deeper,
    and is then matched without the screen."""
    if isinstance(node, Compare):
        return 0
    if isinstance(node, Not):
        return nesting(node.inner.inner) if isinstance(node.inner, Not) else 1 + nesting(node.inner)
    return 1 + max(nesting(part) for part in node.parts)


def list_cell(values: Sequence[str]) -> str:
    """How a list fact is kept in one text column: |a|b|, so that `has "a"` is a LIKE on |a|."""
    return "|" + "|".join(sorted(values)) + "|" if values else ""


def cell_list(cell: str | None) -> tuple[str, ...]:
    """A list fact back from its column (see list_cell)."""
    return tuple(cell.strip("|").split("|")) if cell else ()


def _eligible(node: Node, strict: bool, column: Column, number: Number, params: list[Any]) -> str:
    if isinstance(node, Compare):
        return _leaf(node, strict, column, number, params)
    if isinstance(node, Not):
        if isinstance(node.inner, Not):  # `not not x` is x: no nesting the database's parser must hold
            return _eligible(node.inner.inner, strict, column, number, params)
        return f"(1 - {_eligible(node.inner, not strict, column, number, params)})"
    joiner = " AND " if node.op == "and" else " OR "
    parts = joiner.join(f"{_eligible(part, strict, column, number, params)} = 1" for part in node.parts)
    return f"(CASE WHEN {parts} THEN 1 ELSE 0 END)"


def _failed(node: Node, flipped: bool, column: Column, number: Number, params: list[Any], least: str) -> str:
    if isinstance(node, Compare):
        # A clause under a `not` fails when its comparison passes: count it when it surely passes.
        leaf = _leaf(node, flipped, column, number, params)
        return leaf if flipped else f"(1 - {leaf})"
    if isinstance(node, Not):
        return _failed(node.inner, not flipped, column, number, params, least)
    assert isinstance(node, BoolOp)
    parts = [_failed(part, flipped, column, number, params, least) for part in node.parts]
    if (node.op == "and") != flipped:  # every part must hold: what each is short adds up
        return "(" + " + ".join(parts) + ")"
    return _least(parts, least)  # the nearest alternative


LEAST_ARGUMENTS = 100  # SQLite's scalar MIN takes at most 127 arguments


def _least(parts: list[str], least: str) -> str:
    """The smallest of `parts`, nested in groups the database's function takes (a rule may flatten hundreds of
    alternatives into one `or`)."""
    while len(parts) > 1:
        parts = [
            f"{least}({', '.join(group)})" if len(group) > 1 else group[0]
            for group in (parts[i : i + LEAST_ARGUMENTS] for i in range(0, len(parts), LEAST_ARGUMENTS))
        ]
    return parts[0]


def _leaf(node: Compare, strict: bool, column: Column, number: Number, params: list[Any]) -> str:
    """1 when the comparison passes (strict: surely; otherwise: possibly); 0 for an unknown fact, as in _test."""
    col = column(node.fact.name)
    condition = _condition(node, strict, col, number, params)
    return f"(CASE WHEN {col} IS NOT NULL AND ({condition}) THEN 1 ELSE 0 END)"


def _condition(node: Compare, strict: bool, col: str, number: Number, params: list[Any]) -> str:
    op, operand, kind = node.op, node.operand, node.fact.type
    if kind in ("number", "percent"):
        return _numeric(op, operand, strict, col, number, params)
    if kind == "list":
        if op == "has":
            params.append("%|" + _escaped(str(operand)) + "|%")
            return f"{col} LIKE %s ESCAPE '\\'"
        # A list is never an item of a list (see _test): `in` fails, `not in` passes.
        return "1 = 0" if op == "in" else "1 = 1"
    if op in ("in", "notin"):
        params.extend(operand)
        marks = ", ".join(["%s"] * len(operand))
        return f"{col} {'IN' if op == 'in' else 'NOT IN'} ({marks})"
    params.append(operand)
    return f"{col} {'<>' if op == '!=' else '='} %s"


def _numeric(op: str, operand: Any, strict: bool, col: str, number: Number, params: list[Any]) -> str:
    def near(value: Decimal) -> str:
        slack = SLACK * max(Decimal(1), abs(value))
        params.extend([number(value - slack), number(value + slack)])
        return f"{col} BETWEEN %s AND %s"

    def bound(sign: str, value: Decimal, towards_pass: int) -> str:
        # Lenient: move the bound so that near-equal values pass; strict: so that they fail.
        slack = SLACK * max(Decimal(1), abs(value)) * (towards_pass if not strict else -towards_pass)
        params.append(number(value + slack))
        return f"{col} {sign} %s"

    if op in (">=", ">"):
        return bound(op, operand, -1)
    if op in ("<=", "<"):
        return bound(op, operand, 1)
    if op == "between":
        return f"{bound('>=', operand[0], -1)} AND {bound('<=', operand[1], 1)}"
    if op == "=":
        return near(operand) if not strict else "1 = 0"
    if op == "!=":
        return "1 = 1" if not strict else f"NOT ({near(operand)})"
    if op == "in":
        return " OR ".join(near(v) for v in operand) if not strict else "1 = 0"
    assert op == "notin"
    return "1 = 1" if not strict else " AND ".join(f"NOT ({near(v)})" for v in operand)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
