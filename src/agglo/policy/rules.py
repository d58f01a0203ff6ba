"""Eligibility rules: a small, safe expression language over organization facts. Parsed, never eval'd.

    kind in ["tech_sme", "enterprise"] and headcount <= 500 and rd_intensity >= 5%
    and (ip_invention >= 1 or ip_total >= 5) and not region in ["110000"]
    and revenue between 0 and 200000000 and certifications has "iso-9001" and tech_sme

Comparisons (`= != < <= > >=`, also `≤ ≥`), `in [list]`, `not in [list]`, `between a and b`, `has "x"` for
list-valued facts, a bare boolean fact, `and` / `or` / `not` and parentheses. Numbers may end in `%` (5% = 0.05).
A malformed rule raises RuleError with the position and the reason. Evaluation returns, besides the answer, every
clause with whether it passed and the firm's own value, which is what "missing: R&D intensity ≥ 5 %, yours 3.2 %"
is made of.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

Value = Decimal | str | bool
MAX_RULE = 4000
# Parentheses and `not`s nested in a rule written now: the SQL screen nests as deep, and SQLite's parser holds
# about ten such levels (tests/policy/test_rule_depth.py publishes a rule at the limit); real rules nest two or
# three. A rule stored before this limit is read as it was accepted then (`parse(stored=True)`: 40 parentheses,
# `not`s uncounted), and matched without the screen when it nests deeper (matching._screened).
MAX_DEPTH = 10
STORED_DEPTH = 40


# Why a rule cannot be read, by code; `params` fill the gaps. The web side words the same codes in the reader's
# language (policy.rule_errors.REASON_WORDS), so the codes and their gaps are part of this module's interface.
REASONS = {
    "character": "unexpected character {char}",
    "expected": "expected {what}, found {found}",
    "empty": "the rule is empty",
    "end": "expected and, or or the end of the rule, found {found}",
    "depth": "the rule nests more than {n} levels deep (parentheses and not)",
    "fact": "expected a fact such as headcount, found {found}",
    "unknown": "unknown fact {name}; known facts: {known}",
    "operator": "{fact} cannot be compared with {op}",
    "not_number": "{fact} is not a number",
    "bounds": "the lower bound is above the upper bound",
    "not_list": "{fact} is not a list; use = or in",
    "comparison": "expected a comparison after {fact}, found {found}",
    "number": "{fact} needs a number, found {found}",
    "boolean": "{fact} needs true or false, found {found}",
    "length": "a rule has at most {n} characters",
    "large": "{fact} takes a number below {limit} in size",
    "percent": "{fact} is not a percentage: write the number without the percent sign",
}
# the largest size a rule's number may have (a fraction, where a percentage was written): any real threshold is
# far below it, and its wording to the hundredth of a percent stays exact
NUMBER_LIMIT = Decimal(10) ** 15
# what "expected {what}" names
WANTED = {
    "paren": "a closing parenthesis",
    "bracket": "a closing ]",
    "list": "a list in [ ]",
    "and": "and between the two bounds",
    "text": "a quoted text",
}


class RuleError(ValueError):
    """A rule that cannot be read: `position` is the 0-based character offset where reading stopped; `code` says why
    (a key of REASONS) and `params` fill its gaps. `found` is the text met there, or None at the rule's end."""

    def __init__(self, code: str, position: int, **params: Any) -> None:
        self.code, self.position, self.params = code, position, params
        self.reason = REASONS[code].format(**_english(params))
        super().__init__(f"{self.reason} (at character {position + 1})")


def _english(params: Mapping[str, Any]) -> dict[str, Any]:
    shown = dict(params)
    if "found" in shown:
        shown["found"] = "the end of the rule" if shown["found"] is None else repr(shown["found"])
    for quoted in ("char", "name"):
        if quoted in shown:
            shown[quoted] = repr(shown[quoted])
    if "what" in shown:
        shown["what"] = WANTED[shown["what"]]
    return shown


@dataclass(frozen=True)
class Fact:
    """One organization fact a rule may name."""

    name: str
    type: str  # "number", "percent", "text", "bool", "list"
    label_zh: str
    label_en: str
    unit: str = ""  # after a number, in Chinese
    unit_en: str = ""
    names: tuple[tuple[str, str, str], ...] = ()  # (code, Chinese, English): a text value shown by its name

    def shown(self, code: str, lang: str) -> str:
        """A text value by its name in `lang`, where the fact names its values (else the value itself)."""
        for value, zh, en in self.names:
            if value == code:
                return zh if lang == "zh" else en
        return code


@dataclass(frozen=True)
class Clause:
    """One comparison of a rule, as written back in words, and how a firm stands on it."""

    fact: Fact
    op: str
    operand: Any
    passed: bool
    actual: Any  # the firm's value (None when unknown)

    def describe(self, lang: str = "zh") -> str:
        label = self.fact.label_zh if lang == "zh" else self.fact.label_en
        return f"{label} {_op_text(self.op, lang)} {_show(self.fact, self.operand, lang)}"

    def yours(self, lang: str = "zh") -> str:
        return _show(self.fact, self.actual, lang) if self.actual is not None else "—"


@dataclass(frozen=True)
class Outcome:
    eligible: bool
    clauses: tuple[Clause, ...]
    # per clause, whether the answer rests on it (`Rule.needed`): a failed alternative of an `or` that holds is not
    needed: tuple[bool, ...] = ()
    # the fewest clauses that would have to change for the rule to hold (`Rule.short`): an `or` that fails counts
    # as one, whichever of its alternatives is met
    short: int = 0
    # per clause, whether it is an alternative of an `or` that fails: meeting any one of them would do
    either: tuple[bool, ...] = ()
    # what would make the rule hold (`Rule.wanting`): clause indexes under "and" / "or", None when it holds
    wanting: Any = None

    @property
    def missing(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if not c.passed)

    def rows(self) -> list[dict[str, Any]]:
        """The clauses as stored and served: both languages, passed or not, needed or not, whether another
        alternative would do, and the firm's value."""
        needed = self.needed or (True,) * len(self.clauses)
        either = self.either or (False,) * len(self.clauses)
        return [
            {
                "zh": c.describe("zh"),
                "en": c.describe("en"),
                "passed": c.passed,
                "needed": n,
                "either": e,
                "yours": c.yours("zh"),
                "yours_en": c.yours("en"),
            }
            for c, n, e in zip(self.clauses, needed, either, strict=False)
        ]


# --- syntax tree -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    fact: Fact
    op: str  # = != < <= > >= in notin between has is
    operand: Any
    position: int


@dataclass(frozen=True)
class Not:
    inner: Node


@dataclass(frozen=True)
class BoolOp:
    op: str  # and / or
    parts: tuple[Node, ...]


Node = Compare | Not | BoolOp


Screen = Callable[[Mapping[str, Any]], tuple[bool, int]]


@dataclass(frozen=True)
class Rule:
    text: str
    tree: Node
    # (eligible, clauses short) without the words: see _screen.
    screen: Screen = field(compare=False, repr=False)
    facts: frozenset[str] = field(default_factory=frozenset)
    # Every clause in evaluation order, whether a `not` flips it, and its words in both languages.
    leaves: tuple[tuple[Compare, bool, str, str], ...] = field(default=(), compare=False, repr=False)

    def evaluate(self, facts: Mapping[str, Any]) -> Outcome:
        clauses: list[Clause] = []
        eligible = _eval(self.tree, facts, clauses)
        met = [c.passed for c in clauses]
        marked = self._marked(met)  # once, for both readings of the marks
        return Outcome(
            eligible=eligible,
            clauses=tuple(clauses),
            needed=tuple(mark != "spare" for mark in marked),
            short=self.short(met),
            either=tuple(mark == "either" for mark in marked),
            wanting=self.wanting(met),
        )

    def _raw(self, met: Sequence[bool]) -> Iterator[bool]:
        """The clauses' plain results (before a `not` flips them) from whether each is met."""
        return iter([m != flipped for m, (_node, flipped, *_words) in zip(met, self.leaves, strict=False)])

    def _marked(self, met: Sequence[bool]) -> list[str]:
        return _marks(self.tree, self._raw(met), negated=False)[1]

    def needed(self, met: Sequence[bool]) -> list[bool]:
        """Per clause (in `leaves` order), whether the rule's answer rests on it. A clause that fails in an `or`
        whose other branch holds is not needed: the firm meets that alternative, so the clause is not "missing"
        (under a `not`, an `and` is such an `or`: not (A and B) holds when either fails)."""
        return [mark != "spare" for mark in self._marked(met)]

    def either(self, met: Sequence[bool]) -> list[bool]:
        """Per clause, whether it is on its own an alternative of an `or` that fails: meeting it would do."""
        return [mark == "either" for mark in self._marked(met)]

    def wanting(self, met: Sequence[bool]) -> Any:
        """What would make the rule hold, as a tree of clause indexes (in `leaves` order): an index, or ("and", […])
        / ("or", […]) of such trees; None when it holds. Only failing parts are named; an `or` that fails names all
        its alternatives (review 48: nested alternatives and `not`s read as they are)."""
        return _wanting(self.tree, iter(enumerate(self._raw(met))), negated=False)

    def short(self, met: Sequence[bool]) -> int:
        """The fewest clauses whose result would have to change for the rule to hold (0: eligible). An `and`
        needs each failing part, an `or` only its nearest alternative, so a firm short of one `or` of two is one
        clause short, not two (walk review 45 F2: it was not counted as a near miss)."""
        return _distance(self.tree, self._raw(met))[0]

    def flags(self, facts: Mapping[str, Any]) -> tuple[bool, int, list[bool]]:
        """(eligible, clauses short (`short`), whether each clause is met): what matching stores for tens of
        thousands of firms at a time. The words and the firm's values are added when shown (`explained`)."""
        results, passed = [], []
        for (node, flipped, _zh, _en), plain in zip(self.leaves, self._plain, strict=True):
            actual = facts.get(node.fact.name)
            if actual is not None and type(actual) not in plain:
                actual = _norm(node.fact, actual)
            result = _test(node, actual)
            results.append(result)
            passed.append(result != flipped)
        short = _distance(self.tree, iter(results))[0]
        return short == 0, short, passed

    @property
    def words(self) -> list[tuple[str, str]]:
        """Each clause's words (Chinese, English), in the order of `flags`."""
        return [(zh, en) for _node, _flipped, zh, en in self.leaves]

    def explained(
        self, passed: Sequence[bool], facts: Mapping[str, Any], withheld: Collection[str] = ()
    ) -> list[dict[str, Any]]:
        """Stored flags (`flags`) with each clause's words and the firm's value: what `evaluate(facts).rows()` gives.
        The value of a fact in `withheld` is None: the reader may learn whether the clause holds, not the figure."""
        marked = self._marked(passed)
        return [
            {
                "zh": zh,
                "en": en,
                "passed": met,
                "needed": mark != "spare",
                "either": mark == "either",
                "yours": None if hide else _show(node.fact, _norm(node.fact, facts.get(node.fact.name))),
                "yours_en": None if hide else _show(node.fact, _norm(node.fact, facts.get(node.fact.name)), "en"),
            }
            for (node, _flipped, zh, en), met, mark in zip(self.leaves, passed, marked, strict=False)
            for hide in (node.fact.name in withheld,)
        ]

    @property
    def fact_names(self) -> set[str]:
        """The facts the rule's clauses name."""
        return {node.fact.name for node, *_ in self.leaves}

    @cached_property
    def _plain(self) -> list[tuple[type, ...]]:
        # Per clause, the value types it reads without normalising (see _plain).
        return [_plain(node.fact) for node, *_ in self.leaves]


# --- tokens ----------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<number>-?\d+(?:\.\d+)?(?:[ \t]*[%％])?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op><=|>=|!=|==|=|<|>|≤|≥)
  | (?P<punct>[()\[\],])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "between", "has", "true", "false"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    tokens, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        match = _TOKEN.match(text, i)
        if not match or match.end() == i:
            raise RuleError("character", i, char=text[i])
        kind = match.lastgroup or ""
        start = match.start(kind)
        tokens.append(Token(kind, match.group(kind), start))
        i = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# --- parser ----------------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, facts: Mapping[str, Fact], stored: bool = False) -> None:
        self.text = text
        self.facts = facts
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.stored = stored
        self.most = STORED_DEPTH if stored else MAX_DEPTH
        self.used: set[str] = set()

    @property
    def token(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def word(self, text: str) -> bool:
        if self.token.kind == "word" and self.token.text == text:
            self.i += 1
            return True
        return False

    def expect(self, kind: str, text: str, what: str) -> Token:
        """The next token, which must be of `kind` (and `text`); else RuleError saying WANTED[what] was expected."""
        token = self.token
        if token.kind != kind or (text and token.text != text):
            raise RuleError("expected", token.position, what=what, found=_found(token))
        return self.take()

    def parse(self) -> Node:
        if not self.text.strip():
            raise RuleError("empty", 0)
        node = self.disjunction()
        if self.token.kind != "end":
            raise RuleError("end", self.token.position, found=_found(self.token))
        return node

    def disjunction(self) -> Node:
        parts = [self.conjunction()]
        while self.word("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.negation()]
        while self.word("and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def negation(self) -> Node:
        position = self.token.position
        if self.word("not"):  # each `not` nests like a parenthesis, here and in the SQL screen
            counted = not self.stored
            self.depth += counted
            if self.depth > self.most:
                raise RuleError("depth", position, n=self.most)
            node = Not(self.negation())
            self.depth -= counted
            return node
        return self.atom()

    def atom(self) -> Node:
        if self.token.kind == "punct" and self.token.text == "(":
            self.depth += 1
            if self.depth > self.most:
                raise RuleError("depth", self.token.position, n=self.most)
            self.take()
            node = self.disjunction()
            self.expect("punct", ")", "paren")
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        token = self.token
        if token.kind != "word" or token.text in KEYWORDS:
            raise RuleError("fact", token.position, found=_found(token))
        fact = self.facts.get(token.text)
        if fact is None:
            known = ", ".join(sorted(self.facts))
            raise RuleError("unknown", token.position, name=token.text, known=known)
        self.take()
        self.used.add(fact.name)
        position = token.position
        if self.token.kind == "op":
            op = {"==": "=", "≤": "<=", "≥": ">="}.get(self.token.text, self.token.text)
            if fact.type in ("list", "bool") or (fact.type == "text" and op not in ("=", "!=")):
                raise RuleError("operator", self.token.position, fact=fact.name, op=op)
            self.take()
            return Compare(fact, op, self.value(fact), position)
        if self.word("in"):
            return Compare(fact, "in", self.list_of(fact), position)
        if self.token.kind == "word" and self.token.text == "not" and self.tokens[self.i + 1].text == "in":
            self.i += 2
            return Compare(fact, "notin", self.list_of(fact), position)
        if self.word("between"):
            if fact.type not in ("number", "percent"):
                raise RuleError("not_number", position, fact=fact.name)
            bounds_at = self.token.position
            low = self.number(fact)
            self.expect("word", "and", "and")
            high = self.number(fact)
            if low > high:
                raise RuleError("bounds", bounds_at)
            return Compare(fact, "between", (low, high), position)
        if self.word("has"):
            if fact.type != "list":
                raise RuleError("not_list", position, fact=fact.name)
            return Compare(fact, "has", self.string(), position)
        if fact.type == "bool":
            return Compare(fact, "is", True, position)
        raise RuleError("comparison", self.token.position, fact=fact.name, found=_found(self.token))

    def list_of(self, fact: Fact) -> tuple[Value, ...]:
        self.expect("punct", "[", "list")
        items = [self.value(fact)]
        while self.token.kind == "punct" and self.token.text == ",":
            self.take()
            items.append(self.value(fact))
        self.expect("punct", "]", "bracket")
        return tuple(items)

    def string(self) -> str:
        token = self.expect("string", "", "text")
        return re.sub(r"\\(.)", r"\1", token.text[1:-1])

    def number(self, fact: Fact) -> Decimal:
        token = self.token
        if token.kind != "number":
            raise RuleError("number", token.position, fact=fact.name, found=_found(token))
        self.take()
        value = _number(token)
        if self.stored:  # read as it was accepted (a rule saved before these checks)
            return value
        if token.text.replace("％", "%").endswith("%") and fact.type != "percent":
            raise RuleError("percent", token.position, fact=fact.name)
        if abs(value) >= NUMBER_LIMIT:
            # said in the unit the rule is written in: a percentage's limit in percent (review 103)
            shown = f"{NUMBER_LIMIT * 100:,f} %" if fact.type == "percent" else f"{NUMBER_LIMIT:,f}"
            raise RuleError("large", token.position, fact=fact.name, limit=shown)
        return value

    def value(self, fact: Fact) -> Value:
        token = self.token
        if fact.type in ("number", "percent"):
            return self.number(fact)
        if fact.type == "bool":
            if token.kind == "word" and token.text in ("true", "false"):
                self.take()
                return token.text == "true"
            raise RuleError("boolean", token.position, fact=fact.name, found=_found(token))
        return self.string()


def _number(token: Token) -> Decimal:
    # "3%", "3 %" (as the platform prints it: policy review 58 L3) and the full-width "3％" are one number
    text = token.text.replace("％", "%")
    try:
        value = Decimal(text.rstrip("%").strip())
    except InvalidOperation:  # pragma: no cover - the token pattern admits only numbers
        raise RuleError("number", token.position, fact="", found=text) from None
    return value / 100 if text.endswith("%") else value


def _found(token: Token) -> str | None:
    return None if token.kind == "end" else token.text


def parse(text: str, facts: Mapping[str, Fact], *, stored: bool = False) -> Rule:
    """Read a rule over the given facts; RuleError with the position and reason if it cannot be read. `stored`: a
    rule already saved, read by the nesting limit it was accepted under (see STORED_DEPTH)."""
    if len(text) > MAX_RULE:
        raise RuleError("length", MAX_RULE, n=MAX_RULE)
    parser = _Parser(text, facts, stored)
    tree = parser.parse()
    leaves = tuple(
        (node, flipped, _words(node, op, "zh"), _words(node, op, "en")) for node, flipped, op in _leaves(tree, False)
    )
    return Rule(
        text=text,
        tree=tree,
        facts=frozenset(parser.used),
        screen=_screen_rule(tree),
        leaves=leaves,
    )


def _words(node: Compare, op: str, lang: str) -> str:
    return Clause(node.fact, op, node.operand, True, None).describe(lang)


def _marks(node: Node, raw: Iterator[bool], *, negated: bool) -> tuple[bool, list[str]]:
    """(whether the node holds as it reads, under `negated` `not`s, from its clauses' plain results; each clause's
    mark): "spare" for a clause of a failed alternative of an `or` that holds (not needed), "either" for a
    one-clause alternative of an `or` that fails (meeting it would do), "needed" otherwise. Under a `not` an `and`
    reads as an `or` of the flipped clauses, and the reverse (De Morgan)."""
    if isinstance(node, Compare):
        return next(raw, False) != negated, ["needed"]
    if isinstance(node, Not):
        return _marks(node.inner, raw, negated=not negated)
    results = [_marks(part, raw, negated=negated) for part in node.parts]
    alternatives = (node.op == "or") != negated
    holds = any(h for h, _m in results) if alternatives else all(h for h, _m in results)
    marks: list[str] = []
    for part_holds, part_marks in results:
        if alternatives and holds and not part_holds:
            marks += ["spare"] * len(part_marks)
        elif alternatives and not holds and part_marks == ["needed"]:
            marks.append("either")
        else:
            marks += part_marks
    return holds, marks


def _wanting(node: Node, raw: Iterator[tuple[int, bool]], *, negated: bool) -> Any:
    """`Rule.wanting` for one node: None when it holds (as it reads under `negated`), else what it wants."""
    if isinstance(node, Compare):
        index, result = next(raw)
        return None if result != negated else index
    if isinstance(node, Not):
        return _wanting(node.inner, raw, negated=not negated)
    wants = [_wanting(part, raw, negated=negated) for part in node.parts]  # every part, to keep `raw` in step
    if (node.op == "or") != negated:
        return None if any(w is None for w in wants) else _joined("or", wants)
    failing = [w for w in wants if w is not None]
    return _joined("and", failing) if failing else None


def _joined(op: str, parts: list[Any]) -> Any:
    """One part alone, else (op, parts) with parts of the same op taken in."""
    flat: list[Any] = []
    for part in parts:
        flat += part[1] if isinstance(part, tuple) and part[0] == op else [part]
    return flat[0] if len(flat) == 1 else (op, flat)


def _distance(node: Node, raw: Iterator[bool]) -> tuple[int, int]:
    """(clauses to change for the node to hold, clauses to change for it to fail), from its clauses' plain
    results in evaluation order."""
    if isinstance(node, Compare):
        result = next(raw, False)
        return (0, 1) if result else (1, 0)
    if isinstance(node, Not):
        to_hold, to_fail = _distance(node.inner, raw)
        return to_fail, to_hold
    parts = [_distance(part, raw) for part in node.parts]
    if node.op == "and":
        return sum(h for h, _f in parts), min(f for _h, f in parts)
    return min(h for h, _f in parts), sum(f for _h, f in parts)


def _leaves(node: Node, flipped: bool) -> list[tuple[Compare, bool, str]]:
    if isinstance(node, Compare):
        return [(node, flipped, _negated(node.op) if flipped else node.op)]
    if isinstance(node, Not):
        return _leaves(node.inner, not flipped)
    return [leaf for part in node.parts for leaf in _leaves(part, flipped)]


# --- screening ---------------------------------------------------------------------------------------------------
# Matching one rule against 100,000 firms wants (eligible, clauses not met) without building a Clause per clause:
# `screen` gives exactly what `evaluate(...).eligible` and `evaluate(...).short` give, from closures built
# once per rule. Only the firms worth storing (eligible, near misses) are then evaluated in words.


def _screen_rule(tree: Node) -> Screen:
    distances = _screen(tree)

    def screen(facts: Mapping[str, Any]) -> tuple[bool, int]:
        short = distances(facts)[0]
        return short == 0, short

    return screen


def _screen(node: Node) -> Callable[[Mapping[str, Any]], tuple[int, int]]:
    """The node's (clauses to change for it to hold, for it to fail), as `_distance` gives them, from the facts."""
    if isinstance(node, Compare):
        name, fact = node.fact.name, node.fact
        plain = _plain(fact)

        def leaf(facts: Mapping[str, Any]) -> tuple[int, int]:
            actual = facts.get(name)
            if actual is not None and not (plain and type(actual) in plain):
                actual = _norm(fact, actual)
            return (0, 1) if _test(node, actual) else (1, 0)

        return leaf
    if isinstance(node, Not):
        inner = _screen(node.inner)

        def negated(facts: Mapping[str, Any]) -> tuple[int, int]:
            to_hold, to_fail = inner(facts)
            return to_fail, to_hold

        return negated
    parts = [_screen(part) for part in node.parts]
    every = node.op == "and"

    def combined(facts: Mapping[str, Any]) -> tuple[int, int]:
        results = [part(facts) for part in parts]
        holds, fails = [h for h, _f in results], [f for _h, f in results]
        return (sum(holds), min(fails)) if every else (min(holds), sum(fails))

    return combined


def _plain(fact: Fact) -> tuple[type, ...]:
    """Value types a fact's clauses compare as they are: _norm would give them back unchanged."""
    return (int, Decimal) if fact.type in ("number", "percent") else (str,) if fact.type == "text" else ()


# --- evaluation ------------------------------------------------------------------------------------------------


def _norm(fact: Fact, value: Any) -> Any:
    if value is None:
        return None
    if fact.type in ("number", "percent"):
        try:
            return value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation:
            return None
    if fact.type == "list":
        return {str(v) for v in value}
    if fact.type == "bool":
        return bool(value)
    return str(value)


def _test(node: Compare, actual: Any) -> bool:
    if actual is None:
        return False
    op, operand = node.op, node.operand
    if op == "=":
        return bool(actual == operand)
    if op == "!=":
        return bool(actual != operand)
    if op == "<":
        return bool(actual < operand)
    if op == "<=":
        return bool(actual <= operand)
    if op == ">":
        return bool(actual > operand)
    if op == ">=":
        return bool(actual >= operand)
    if op == "in":
        return actual in operand
    if op == "notin":
        return actual not in operand
    if op == "between":
        return bool(operand[0] <= actual <= operand[1])
    if op == "has":
        return operand in actual
    return bool(actual) is operand  # "is"


def _eval(node: Node, facts: Mapping[str, Any], clauses: list[Clause]) -> bool:
    if isinstance(node, Compare):
        actual = _norm(node.fact, facts.get(node.fact.name))
        passed = _test(node, actual)
        clauses.append(Clause(node.fact, node.op, node.operand, passed, actual))
        return passed
    if isinstance(node, Not):
        inner: list[Clause] = []
        result = not _eval(node.inner, facts, inner)
        # Under a not, a clause "passes" when it is false: flip them so the explanation reads right.
        clauses.extend(Clause(c.fact, _negated(c.op), c.operand, not c.passed, c.actual) for c in inner)
        return result
    results = [_eval(part, facts, clauses) for part in node.parts]
    return all(results) if node.op == "and" else any(results)


_NEGATED = {"=": "!=", "!=": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">", "in": "notin", "notin": "in"}


def _negated(op: str) -> str:
    if op.startswith("not "):
        return op[4:]
    return _NEGATED.get(op, "not " + op)


_OP_WORDS = {
    "zh": {
        "in": "属于",
        "notin": "不属于",
        "between": "介于",
        "has": "包含",
        "is": "为",
        "not between": "不介于",
        "not has": "不包含",
        "not is": "不为",
    },
    "en": {
        "in": "in",
        "notin": "not in",
        "between": "between",
        "has": "has",
        "is": "is",
        "not between": "not between",
        "not has": "lacks",
        "not is": "is not",
    },
}


def _op_text(op: str, lang: str) -> str:
    symbols = {"<=": "≤", ">=": "≥", "!=": "≠"}
    return _OP_WORDS[lang].get(op, symbols.get(op, op))


def _show(fact: Fact, value: Any, lang: str = "zh") -> str:
    if value is None:
        return "—"
    if isinstance(value, tuple) and len(value) == 2 and fact.type in ("number", "percent"):
        return f"{_show(fact, value[0], lang)}–{_show(fact, value[1], lang)}"
    # as an officer reads them (policy review 58 M2), not as the rule's syntax writes them: [a, b], [], true
    if isinstance(value, tuple | set | frozenset | list):
        if not value:
            return "无" if lang == "zh" else "none"
        return ("、" if lang == "zh" else ", ").join(sorted(_show(fact, v, lang) for v in value))
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, int) and fact.type in ("number", "percent"):
        value = Decimal(value)  # shown as a normalised number is (with its unit)
    if fact.type == "percent" and isinstance(value, Decimal):  # to the hundredth of a percent: 18.06 %, not 18.0618…
        try:
            return f"{(value * 100).quantize(Decimal('0.01')).normalize():f} %"
        except InvalidOperation:  # a firm's ratio beyond 28 digits (a revenue of a fen): shown as it is
            return f"{(value * 100).normalize():f} %"
    if isinstance(value, Decimal):
        unit = fact.unit if lang == "zh" else fact.unit_en
        if not unit:  # a year, or a count without a unit
            return f"{value.normalize():f}"
        return f"{value.normalize():,f} {unit}"  # amounts grouped: 50,000,000 元
    return fact.shown(str(value), lang)


def facts_named(rows: Sequence[Fact]) -> dict[str, Fact]:
    return {f.name: f for f in rows}
