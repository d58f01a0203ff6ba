"""Pure cores of the professional database: indicators, field coercion, rules, quality score, tables."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agglo.profiles import fields, quality, rules, tabular
from agglo.profiles.indicators import StatementFigures, ZZone, altman_z2, indicators, z_zone

DATA = Path(__file__).parent / "data"
TODAY = dt.date(2026, 11, 27)


def test_altman_z2_separates_the_published_bankrupt_and_sound_firms():
    """Altman's 50-firm table (ratios in percent, BVE/BVL as a ratio): Z'' below 1.1 calls distress."""
    rows = list(csv.DictReader((DATA / "altman_ratios_50_firms.csv").open()))
    assert len(rows) == 50
    correct = 0
    for r in rows:
        z = altman_z2(
            Decimal(r["WC/TA"]) / 100, Decimal(r["RE/TA"]) / 100, Decimal(r["EBIT/TA"]) / 100, Decimal(r["BVE/BVL"])
        )
        predicted_bankrupt = z_zone(z) == ZZone.DISTRESS
        correct += predicted_bankrupt == (r["Bankrupt"] == "1")
    assert correct == 45  # the figure SOURCE.md states for this table and cut-off


def test_indicators_from_statements():
    s2024 = StatementFigures(
        year=2024,
        revenue=Decimal(1000),
        total_assets=Decimal(2000),
        total_liabilities=Decimal(800),
        equity=Decimal(1200),
        net_profit=Decimal(100),
        rd_expense=Decimal(80),
        headcount=50,
        rd_headcount=20,
        current_assets=Decimal(900),
        current_liabilities=Decimal(500),
        retained_earnings=Decimal(300),
        ebit=Decimal(150),
    )
    s2023 = StatementFigures(year=2023, revenue=Decimal(800), total_assets=Decimal(1), total_liabilities=Decimal(0))
    out = indicators([s2024, s2023])
    assert [i.year for i in out] == [2023, 2024]
    latest = out[1]
    assert latest.rd_intensity == Decimal("0.0800")
    assert latest.debt_ratio == Decimal("0.4000")
    assert latest.revenue_growth == Decimal("0.2500")
    assert latest.rd_staff_share == Decimal("0.4000")
    # 6.56*0.2 + 3.26*0.15 + 6.72*0.075 + 1.05*1.5 = 1.312 + 0.489 + 0.504 + 1.575
    assert latest.z_score == Decimal("3.8800")
    assert latest.z_zone == ZZone.SAFE
    assert out[0].z_score is None and out[0].revenue_growth is None  # missing figures give no number, not zero


def test_growth_needs_the_previous_calendar_year():
    out = indicators([StatementFigures(year=2020, revenue=Decimal(5)), StatementFigures(year=2022, revenue=Decimal(9))])
    assert out[1].revenue_growth is None


@pytest.mark.parametrize(
    ("spec", "raw", "rule"),
    [
        (fields.FINANCIALS["revenue"], "-5", "min"),
        (fields.FINANCIALS["revenue"], "abc", "not_a_number"),
        (fields.FINANCIALS["revenue"], "NaN", "not_a_number"),
        (fields.FINANCIALS["revenue"], "1.005", "decimal_places"),
        (fields.FINANCIALS["revenue"], "1e30", "too_large"),
        (fields.FINANCIALS["revenue"], "", "required"),
        (fields.FINANCIALS["year"], "2024.5", "not_an_integer"),
        (fields.FINANCIALS["year"], True, "not_an_integer"),
        (fields.FINANCIALS["as_of"], "2024-13-01", "not_a_date"),
        (fields.RATINGS["grade"], "AAAA", "choice"),
        (fields.IP_ASSETS["title"], "x" * 301, "max_length"),
    ],
)
def test_coerce_names_the_rule(spec, raw, rule):
    with pytest.raises(fields.ProblemError) as exc:
        fields.coerce(spec, raw)
    assert exc.value.rule == rule


def test_coerce_accepts_common_spellings():
    assert fields.coerce(fields.FINANCIALS["revenue"], "1,234,567.50") == Decimal("1234567.50")
    assert fields.coerce(fields.FINANCIALS["revenue"], 12.5) == Decimal("12.50")
    assert fields.coerce(fields.FINANCIALS["equity"], "-3") == Decimal("-3.00")
    assert fields.coerce(fields.FINANCIALS["as_of"], dt.datetime(2024, 12, 31, 0, 0)) == dt.date(2024, 12, 31)
    assert fields.coerce(fields.FINANCIALS["net_profit"], "  ") is None


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_amounts_round_trip_through_text(value):
    assert fields.coerce(fields.FINANCIALS["revenue"], str(value)) == value


def _statement(**over):
    values = {
        "year": 2024,
        "revenue": Decimal(1000),
        "total_assets": Decimal(2000),
        "total_liabilities": Decimal(800),
        "equity": Decimal(1200),
        "as_of": dt.date(2024, 12, 31),
    }
    values.update(over)
    return values


def test_statement_rules():
    errors, warnings = rules.statement_problems(_statement(), today=TODAY)
    assert errors == [] and warnings == []
    errors, _ = rules.statement_problems(_statement(equity=Decimal(1000)), today=TODAY)
    assert [(p.field, p.rule) for p in errors] == [("total_assets", "balance")]
    # Within 1 % of total assets is rounding, not an error.
    assert rules.statement_problems(_statement(equity=Decimal(1215)), today=TODAY)[0] == []
    for year in (2027, 2026):  # the year under way has not ended either
        errors, _ = rules.statement_problems(_statement(year=year, as_of=None), today=TODAY)
        assert ("year", "year_not_ended") in [(p.field, p.rule) for p in errors]
    errors, _ = rules.statement_problems(_statement(year=2025, as_of=None), today=TODAY)
    assert errors == []
    errors, _ = rules.statement_problems(_statement(), today=TODAY, founded_year=2025)
    assert [p.rule for p in errors] == ["before_founding"]
    errors, _ = rules.statement_problems(_statement(headcount=5, rd_headcount=6), today=TODAY)
    assert [(p.field, p.rule) for p in errors] == [("rd_headcount", "exceeds")]
    errors, _ = rules.statement_problems(_statement(as_of=dt.date(2023, 6, 1)), today=TODAY)
    assert [p.rule for p in errors] == ["before_fiscal_year"]
    _, warnings = rules.statement_problems(
        _statement(rd_expense=Decimal(2000)), today=TODAY, previous_revenue=Decimal(50)
    )
    assert {p.rule for p in warnings} == {"exceeds_revenue", "growth_suspect"}


def test_chinese_patent_numbers_are_checked():
    # 201710601862.3 is a published CNIPA application number; its check character is 3.
    assert rules.cn_application_check("201710601862") == "3"
    assert rules.normalize_ip_number("invention_patent", "zl 201710601862.3") == "ZL201710601862.3"
    ok = {"kind": "invention_patent", "number": "ZL201710601862.3", "status": "pending", "as_of": TODAY}
    assert rules.ip_problems(ok, today=TODAY) == []
    bad = {**ok, "number": "ZL201710601862.4"}
    assert [(p.field, p.rule, p.params["expected"]) for p in rules.ip_problems(bad, today=TODAY)] == [
        ("number", "check_digit", "3")
    ]
    wrong_kind = {**ok, "kind": "design"}
    assert [p.rule for p in rules.ip_problems(wrong_kind, today=TODAY)] == ["ip_type_digit"]
    granted = {**ok, "status": "granted"}
    assert [p.rule for p in rules.ip_problems(granted, today=TODAY)] == ["required_when_granted"]
    # a number in no known form is saved with a warning; CNIPA's and other offices' forms are not
    assert [p.rule for p in rules.ip_warnings({**ok, "number": "ABC-123"})] == ["patent_form"]
    for number in ("ZL201710601862.3", "US10123456B2", "EP 3456789"):
        assert rules.ip_warnings({**ok, "number": number}) == [], number
    assert rules.ip_warnings({"kind": "software_copyright", "number": "2019SR123456"}) == []


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.integers(0, 11), st.sampled_from("0123456789"))
def test_any_single_digit_change_breaks_the_check(digits, position, replacement):
    if position == 12 or digits[position % 12] == replacement:
        return
    changed = digits[: position % 12] + replacement + digits[position % 12 + 1 :]
    assert rules.cn_application_check(changed) != rules.cn_application_check(digits)


def test_quality_score_rises_with_completeness_freshness_and_verification():
    empty = quality.score(quality.QualityInput(2, 10, False, False, 0, 0, True, 0, 0, 0))
    assert empty.score == pytest.approx(1.6)  # 40 points * (0.2 of basic fields / 5 items)
    points = {f.code: f.points for f in empty.fixes}
    assert points == {"last_year_statement": 8.0, "rating": 8.0, "capabilities": 8.0, "ip": 8.0, "basic_fields": 6.4}
    assert empty.fixes[-1].code == "basic_fields"  # largest gains first
    partial = quality.score(quality.QualityInput(10, 10, True, False, 1, 1, True, 4, 1, 0))
    full = quality.score(quality.QualityInput(10, 10, True, True, 1, 1, True, 5, 0, 5))
    assert empty.score < partial.score < full.score == 100.0
    assert full.fixes == ()
    assert {f.code for f in partial.fixes} == {"rating", "stale", "unverified"}


def test_tables_read_csv_and_xlsx_alike():
    rows = [("uscc", "year", "revenue"), ("X1", 2024, 10.5), ("", "", ""), ("X2", 2023, "7")]
    csv_body = tabular.write_csv(rows[0], rows[1:])
    xlsx_body = tabular.write_xlsx(rows[0], rows[1:], "t")
    for body, name in ((csv_body, "a.csv"), (xlsx_body, "a.xlsx")):
        table = tabular.read_table(body, name)
        assert table.header == ("uscc", "year", "revenue")
        assert [n for n, _ in table.rows] == [2, 4]  # the blank row is skipped, numbering kept
        assert str(table.rows[0][1]["revenue"]) == "10.5"


@pytest.mark.parametrize(
    ("body", "name", "rule"),
    [
        (b"", "a.csv", "no_header"),
        (b"a,a\n1,2\n", "a.csv", "duplicate_columns"),
        (b"\xff\xfe\x00", "a.csv", "encoding"),  # UTF-16 cut short
        (b"a,b\n\x80\x80", "a.csv", "encoding"),  # neither UTF-8 nor GB18030
        (b"a,b\n", "a.xlsx", "not_xlsx"),
        (b"%PDF-1.4 renamed", "a.xlsx", "not_xlsx"),
        (b"PK\x03\x04garbage", "a.csv", "format_mismatch"),
        (b"PK\x03\x04garbage", "a.xlsx", "xlsx_unreadable"),
        (b"a,b\n", "a.exe", "format_unsupported"),
    ],
)
def test_unreadable_tables_say_why(body, name, rule):
    with pytest.raises(tabular.TableError) as exc:
        tabular.read_table(body, name)
    assert exc.value.rule == rule


def test_text_that_starts_like_a_formula_stays_text_in_exports() -> None:
    """A member's public text reaches everyone's exports: a spreadsheet must not run it (CSV injection)."""
    import io

    from openpyxl import load_workbook

    risky = ['=HYPERLINK("http://evil.example","点此")', "@SUM(1+1)*cmd|' /C calc'!A0", "+1+1", "-2+3", "\tx", "'=x"]
    rows = [["desc", "n"], *([text, -5] for text in risky)]
    lines = list(csv.reader(io.StringIO(tabular.write_csv(rows[0], rows[1:]).decode("utf-8-sig"))))
    assert [line[0] for line in lines[1:]] == ["'" + text for text in risky] and lines[1][1] == "-5"
    # a loss stays a number a spreadsheet adds up, however it arrives (a Decimal is written as text)
    money = list(csv.reader(io.StringIO(tabular.write_csv(["p"], [[Decimal("-1500000.00")], ["-3"]]).decode())))
    assert [m[0] for m in money[1:]] == ["-1500000.00", "-3"]
    # an export imports back as it was, a value that really starts with an apostrophe included
    table = tabular.read_table(tabular.write_csv(rows[0], rows[1:]), "e.csv")
    assert [r["desc"] for _n, r in table.rows] == risky
    plain = tabular.read_table(b"desc\n'abc\n", "h.csv")  # written by hand: its apostrophe stays
    assert [r["desc"] for _n, r in plain.rows] == ["'abc"]
    book = load_workbook(io.BytesIO(tabular.write_xlsx(rows[0], rows[1:], "t")))
    cells = list(book.active.iter_rows(min_row=2, values_only=False))
    assert all(c[0].data_type == "s" for c in cells) and cells[0][0].value == risky[0]
    assert cells[0][1].value == -5 and cells[0][1].data_type == "n"


def test_the_history_names_events_and_fields_in_the_readers_language() -> None:
    from django.utils import translation

    from agglo.profiles.templatetags.profiles_tags import event_label, field_label

    with translation.override("zh-hans"):
        labels = [event_label(e) for e in ("market.interest_accepted", "market.listing_submit", "policy.need_filed")]
        fields = [field_label(f) for f in ("name_zh", "contact_phone", "listing", "revenue")]
    assert not any("_" in x for x in labels + fields), (labels, fields)
    assert labels[0].startswith("合作意向 · ") and fields[0] == "中文名称"
    with translation.override("en"):
        assert event_label("policy.granted") == "Policy · granted" and field_label("website") == "Website"
        assert event_label("registry.admission_rejected") == "Admission · rejected"


def test_dates_and_formula_amounts_as_a_spreadsheet_saves_them():
    """Data review 58 M1/M2: an export saved again by Excel (2026/1/5), a Chinese date, a date serial, and an
    amount a formula computed are read as the spreadsheet shows them; a day-first date is still refused."""
    import datetime as dt

    from agglo.profiles.fields import FINANCIALS, ProblemError, coerce

    day = dt.date(2026, 1, 5)
    for written in ("2026-01-05", "2026/1/5", "2026.1.5", "2026年1月5日", "2026/1/5 0:00", 46027, 46027.0, day):
        assert coerce(FINANCIALS["as_of"], written) == day, written
    for wrong in ("05/01/2026", "2026/13/1", "明天", 46027.5, True):
        with pytest.raises(ProblemError):
            coerce(FINANCIALS["as_of"], wrong)
    assert coerce(FINANCIALS["revenue"], 2876.74 * 10000) == Decimal("28767400.00")
    assert coerce(FINANCIALS["revenue"], 0.07 * 10000) == Decimal("700.00")
    with pytest.raises(ProblemError):  # text is taken exactly as written
        coerce(FINANCIALS["revenue"], "28767399.999999996")


def test_numbers_as_typed_on_a_chinese_keyboard_and_no_underscores():
    """Data review 58 L3: full-width point, minus and comma were refused while full-width digits passed, and
    Python's underscores ("1_0" read as 10) passed too."""
    from agglo.profiles.fields import FINANCIALS, ProblemError, coerce

    for typed, value in (
        ("１２３．４５", "123.45"),
        ("－1000", "-1000"),
        ("10，000，000", "10000000"),
        ("10\u00a0000", "10000"),
    ):
        assert coerce(FINANCIALS["net_profit"], typed) == Decimal(value), typed
    assert coerce(FINANCIALS["headcount"], "８０") == 80
    for wrong in ("1_0", "1_000_000", "--1"):
        with pytest.raises(ProblemError):
            coerce(FINANCIALS["net_profit"], wrong)


def test_odd_names_and_marks_of_files_as_people_send_them():
    """Data review 58 L6/L7: a long name lost its extension, a name with a trailing space was "not .xlsx ", and a
    file saved twice "with BOM" had a column "\\ufeffuscc" that looks like "uscc"."""
    from agglo.common.uploads import kept_name

    long = "甲" * 300 + ".jpg"
    assert kept_name(long).endswith(".jpg") and len(kept_name(long)) == 200
    assert kept_name("short.pdf") == "short.pdf" and len(kept_name("x" * 300)) == 200
    assert tabular.sniff_format(b"a,b\n1,2\n", "财务.csv ") == "csv"
    table = tabular.read_table("\ufeff\ufeffuscc,year\n1,2\n".encode(), "f.csv")
    assert table.header == ("uscc", "year")


def test_a_workbook_is_read_as_written_a_second_time_only_when_a_formula_lacks_its_result():
    """Data review 58 M4: every XLSX was parsed three times; the second openpyxl load (as written) is needed only
    to name formulas without their results."""
    import io

    from openpyxl import Workbook

    from agglo.profiles.xlsx_guard import workbook_checked

    def saved(*cells):
        book = Workbook()
        book.active.append(["a", "b"])
        book.active.append(list(cells))
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    assert workbook_checked(saved(1, 2)).unsaved is False
    assert workbook_checked(saved(1, "=1+1")).unsaved is True  # openpyxl saves no result: <v/>


def test_what_recheck_58_found_in_reading_files():
    """A UTF-8 file with one stray byte is refused, not read as GB18030 with every name garbled (H1); a year typed
    as a number into a date column is no date of 1905 (M4); 10² is no 102."""
    from agglo.profiles.fields import FINANCIALS, ProblemError, coerce

    stray = "uscc,name_zh\n1,深圳某某科技有限公司 Soci".encode() + b"\xe9t\xe9\n"
    with pytest.raises(tabular.TableError) as refused:
        tabular.read_table(stray, "f.csv")
    assert refused.value.rule == "encoding"
    assert tabular.read_table("uscc,name_zh\n1,深圳某某科技有限公司\n".encode("gbk"), "f.csv").rows[0][1][
        "name_zh"
    ] == ("深圳某某科技有限公司")
    for year in (2019, 2041.0):
        with pytest.raises(ProblemError):
            coerce(FINANCIALS["as_of"], year)
    with pytest.raises(ProblemError):
        coerce(FINANCIALS["net_profit"], "10²")


@pytest.mark.parametrize(
    ("raw", "rule", "params"),
    [
        ("2025-02-29", "no_such_day", {"day": "2025-02-29"}),
        ("2026/4/31", "no_such_day", {"day": "2026/4/31"}),
        ("2027-W53", "no_such_week", {"year": 2027, "week": 53, "weeks": 52}),
        ("2027W00", "no_such_week", {"year": 2027, "week": 0, "weeks": 52}),
    ],
)
def test_a_day_the_calendar_has_not_is_named_as_such(raw, rule, params):
    """Written as a date should be, it is no typing slip of the format (review 105): the message says what is wrong."""
    with pytest.raises(fields.ProblemError) as exc:
        fields.coerce(fields.FINANCIALS["as_of"], raw)
    assert (exc.value.rule, exc.value.params) == (rule, params)
    assert fields.coerce(fields.FINANCIALS["as_of"], "2026-W53") == dt.date(2026, 12, 28)  # 2026 has 53 weeks
    assert fields.coerce(fields.FINANCIALS["as_of"], "2024-02-29") == dt.date(2024, 2, 29)
