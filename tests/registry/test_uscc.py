from hypothesis import given
from hypothesis import strategies as st

from agglo.registry.uscc import ALPHABET, PROVINCE_PREFIXES, check_character, is_valid, normalize, problem

REAL_CODES = ["91350100M000100Y43", "91110000600037341L", "91440300192317458F"]


def test_real_codes_are_valid():
    for code in REAL_CODES:
        assert problem(code) is None, code


def test_wrong_check_character_names_the_expected_one():
    found = problem("91350100M000100Y44")
    assert found is not None and found.rule == "check"
    assert found.expected_check == "3"
    assert "must be 3" in found.message


def test_length_alphabet_and_division_rules():
    assert problem("9135010").rule == "length"
    assert problem("91350100M000100I43").rule == "alphabet"  # I never occurs
    assert problem("91AB0100M000100Y43").rule == "division"


def test_the_division_code_must_name_a_province_or_national_registration():
    for division in ("990000", "000000", "200000", "720000"):
        head = "91" + division + "MA5FXXX12"
        found = problem(head + check_character(head))
        assert found is not None and found.rule == "province", division
    head = "91100000" + "100003962"  # registered by the national administration (division 100000)
    assert problem(head + check_character(head)) is None


def test_normalize_accepts_spaces_hyphens_and_lower_case():
    assert normalize(" 9135 0100-m000100y43 ") == "91350100M000100Y43"
    assert is_valid("9135 0100 m000100y43")


body = st.text(alphabet=ALPHABET, min_size=9, max_size=9)
division = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(sorted(PROVINCE_PREFIXES)),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)


@given(division=division, body=body)
def test_generated_codes_validate(division, body):
    head = "91" + division + body
    assert problem(head + check_character(head)) is None


@given(division=division, body=body, position=st.integers(0, 17), replacement=st.sampled_from(ALPHABET))
def test_any_single_substitution_is_caught(division, body, position, replacement):
    head = "91" + division + body
    code = head + check_character(head)
    if code[position] == replacement or (2 <= position < 8 and not replacement.isdigit()):
        return
    # a changed division digit may name another province: still caught, by the check character or the province
    mutated = code[:position] + replacement + code[position + 1 :]
    # GB 32100's weights are units mod 31, so one changed character always changes the weighted sum.
    assert problem(mutated) is not None
