"""Unified social credit code (统一社会信用代码) per GB 32100-2015.

18 characters from a 31-character alphabet (digits and capitals without I, O, S, V, Z):
registration authority (1), organization category (1), administrative division code (6, digits),
organization code (9), check character (1). The check character is chosen so that the weighted sum of all
18 values is divisible by 31; the weight of position i (0-based) is 3**i mod 31.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
LENGTH = 18
NATIONAL = "10"  # division 100000: registered by a national authority, in no province
# GB/T 2260 provinces by their first two digits (71 Taiwan, 81 Hong Kong, 82 Macao), and 10: registered nationally
PROVINCE_PREFIXES = frozenset(
    {"10", "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
    | {"71", "81", "82"}
)


@dataclass(frozen=True)
class UsccProblem:
    """Why a code is not valid; `expected_check` is set when only the check character is wrong."""

    rule: str
    message: str
    expected_check: str | None = None


def normalize(code: str) -> str:
    """Upper-case and strip spaces and hyphens that people type or paste; full-width characters (a Chinese input
    method's ９１３１…) read as their ASCII selves."""
    return "".join(unicodedata.normalize("NFKC", code).split()).replace("-", "").upper()


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (which must be in the alphabet)."""
    if len(first17) != LENGTH - 1 or any(c not in _VALUE for c in first17):
        raise ValueError("need exactly 17 characters of the credit-code alphabet")
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> UsccProblem | None:
    """None when `code` (already normalized) is a valid code; otherwise the first rule it breaks."""
    if len(code) != LENGTH:
        return UsccProblem("length", f"must have {LENGTH} characters, has {len(code)}")
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        return UsccProblem(
            "alphabet",
            f"contains characters not allowed in a credit code: {''.join(bad)} (I, O, S, V, Z never occur)",
        )
    if not code[2:8].isdigit():
        return UsccProblem("division", "characters 3 to 8 must be the 6-digit administrative division code")
    if code[2:4] not in PROVINCE_PREFIXES:
        return UsccProblem(
            "province",
            f"the division code {code[2:8]} names no province of GB/T 2260 (its first two digits, {code[2:4]})",
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        return UsccProblem(
            "check",
            f"check character is {code[17]} but must be {expected} (GB 32100-2015)",
            expected_check=expected,
        )
    return None


def province_of(code: str) -> str | None:
    """The GB/T 2260 province (two digits and "0000") of the authority that registered a valid code, from its
    administrative division code; None for an invalid code, and for one registered nationally (10), which names
    no province."""
    code = normalize(code)
    return f"{code[2:4]}0000" if problem(code) is None and code[2:4] != NATIONAL else None


def is_valid(code: str) -> bool:
    return problem(normalize(code)) is None
