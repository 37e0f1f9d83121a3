"""大写 amounts: the shared PBOC vectors, hand-picked rule cases and round-trip properties."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest
from checks_data import shared_file
from hypothesis import given, settings
from hypothesis import strategies as st

from skills import BusinessError
from skills.think.checks.amounts import (
    AmountFigureError,
    AmountWordsError,
    amount_to_words,
    check_amount,
    parse_amount_words,
    valid_forms,
)


def _valid_rows() -> list[dict[str, str]]:
    with shared_file("amounts/valid_vectors.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _invalid_rows() -> list[dict[str, str]]:
    with shared_file("amounts/invalid_or_flag_vectors.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_valid_vector_is_written_canonically_and_every_variant_is_read() -> None:
    rows = _valid_rows()
    assert len(rows) >= 26
    for row in rows:
        figure = Decimal(row["xiaoxie"])
        assert amount_to_words(figure, prefix=True) == row["canonical_daxie"], row
        assert amount_to_words(figure) == row["canonical_daxie"].removeprefix("人民币")
        variants = [v for v in row["also_accepted (| separated)"].split("|") if v]
        for text in [row["canonical_daxie"], *variants]:
            assert parse_amount_words(text) == figure, text
            assert check_amount(text, figure).outcome == "match", text


# What each flagged vector must be reported for, and whether it can still be read.
EXPECTED_INVALID = {
    "一万元整": ("invalid", "一", None),
    "壹万元另伍角": ("invalid", "另", None),
    "壹万元伍毛": ("invalid", "毛", None),
    "两佰元整": ("invalid", "两", None),
    "人民币壹仟元": ("invalid", "missing 整", Decimal("1000.00")),
    "人民币壹元贰角叁分整": ("invalid", "整 after 分", Decimal("1.23")),
    "人民币壹仟零零伍元整": ("invalid", "one 零", Decimal("1005.00")),
    "人民币壹万贰仟元整": ("mismatch", "figure is 12000.01", Decimal("12000.00")),
    "人民币 壹万元整": ("invalid", "blank", Decimal("10000.00")),
}


def test_every_invalid_or_flag_vector_goes_to_a_person_with_its_reason() -> None:
    rows = _invalid_rows()
    assert {row["daxie_as_written"] for row in rows} == set(EXPECTED_INVALID)
    for row in rows:
        outcome, reason_part, value = EXPECTED_INVALID[row["daxie_as_written"]]
        check = check_amount(row["daxie_as_written"], row["xiaoxie_on_voucher"])
        assert check.outcome == outcome, row
        assert reason_part in check.reason, (row, check.reason)
        assert check.words_value == value


@pytest.mark.parametrize(
    ("text", "position", "reason_part"),
    [
        ("壹万元另伍角", 3, "另"),
        ("  一万元整", 2, "一"),
        ("壹仟元零5角", 4, "figure 5"),
        ("壹千元整", 1, "千"),
        ("壹仟元整abc", 4, "unexpected"),
        ("壹佰壹仟元整", 3, "smaller or equal unit"),
        ("壹壹元整", 1, "two digits"),
        ("壹元元整", 2, "元 written twice"),
        ("壹仟伍元伍", 4, "no 角 or 分"),
        ("壹仟零佰元整", 3, "no digit before"),
        ("壹元伍分贰角", 5, "out of order"),
        ("壹元整伍角", 2, "整 must end"),
        ("万元整", 0, "no digits before"),
        ("壹万亿元整", 2, "亿 after 万"),
        ("壹佰拾元整", 2, "no digit before"),
        ("壹仟", None, "no 元, 角 or 分"),
        ("人民币", None, "no amount"),
    ],
)
def test_forbidden_forms_are_rejected_with_a_located_reason(
    text: str, position: int | None, reason_part: str
) -> None:
    with pytest.raises(AmountWordsError) as caught:
        parse_amount_words(text)
    error = caught.value
    assert isinstance(error, BusinessError)
    assert error.code == "invalid_amount_words"
    assert error.position == position
    assert reason_part in error.reason


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("壹佰贰拾万贰佰元整", "壹佰贰拾万零贰佰元整"),  # 零 is mandatory: the 千位 is zero too
        ("壹仟伍元整", "壹仟零伍元整"),  # a zero between digits inside a group
        ("壹元壹分", "壹元零壹分"),  # rule 4(4): 角 zero, 分 not
        ("壹仟零元整", "壹仟元整"),  # trailing zeros are not written
        ("壹亿壹万元整", "壹亿零壹万元整"),
    ],
)
def test_misplaced_zero_is_reported_with_the_correct_form(text: str, canonical: str) -> None:
    with pytest.raises(AmountWordsError) as caught:
        parse_amount_words(text)
    assert canonical in caught.value.reason


@pytest.mark.parametrize(
    ("figure", "words"),
    [
        (Decimal("999999999999.99"), "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
        (Decimal("100001000"), "壹亿壹仟元整"),
        (Decimal("100000001"), "壹亿零壹元整"),
        (Decimal("1010000000"), "壹拾亿壹仟万元整"),
        (Decimal("10.05"), "壹拾元零伍分"),
        (Decimal("20.50"), "贰拾元零伍角"),
        (Decimal("0.05"), "伍分"),
        (Decimal("100000"), "壹拾万元整"),
    ],
)
def test_writes_edge_amounts(figure: Decimal, words: str) -> None:
    assert amount_to_words(figure) == words
    assert parse_amount_words(words) == figure


def test_traditional_characters_and_bare_leading_shi_are_read() -> None:
    assert parse_amount_words("貳萬陸仟圓正") == Decimal("26000.00")
    assert parse_amount_words("壹億圓整") == Decimal("100000000.00")
    assert parse_amount_words("拾萬元整") == Decimal("100000.00")
    assert parse_amount_words("零元零伍分") == Decimal("0.05")
    assert parse_amount_words("壹亿零壹仟元整") == Decimal("100001000.00")  # optional 零 written


@pytest.mark.parametrize(
    "figure", [Decimal("-1"), Decimal("1.005"), Decimal("1000000000000"), "12,34a", 1.5, Decimal("NaN")]
)
def test_bad_figures_raise_a_clear_error(figure: object) -> None:
    with pytest.raises(AmountFigureError):
        amount_to_words(figure)  # type: ignore[arg-type]
    check = check_amount("壹元整", figure)  # type: ignore[arg-type]
    assert check.outcome == "invalid"
    assert "figure" in check.reason


def test_figure_text_with_currency_sign_and_commas() -> None:
    assert check_amount("人民币壹万贰仟叁佰肆拾伍元陆角柒分", "￥12,345.67").outcome == "match"
    assert check_amount("壹元整", "CNY 1").outcome == "match"


cents = st.integers(min_value=1, max_value=99_999_999_999_999)


@settings(max_examples=1500, deadline=None)
@given(cents)
def test_round_trip_over_random_amounts(amount_in_cents: int) -> None:
    amount = Decimal(amount_in_cents) / 100
    assert parse_amount_words(amount_to_words(amount)) == amount
    assert parse_amount_words(amount_to_words(amount, prefix=True)) == amount


@settings(max_examples=1000, deadline=None)
@given(cents)
def test_every_accepted_variant_reads_back_to_the_same_amount(amount_in_cents: int) -> None:
    amount = Decimal(amount_in_cents) / 100
    forms = valid_forms(amount)
    assert forms[0] == amount_to_words(amount)
    for form in forms:
        assert parse_amount_words("人民币" + form.replace("元", "圆")) == amount


@settings(max_examples=1000, deadline=None)
@given(cents, st.data())
def test_a_one_character_change_never_reads_as_a_valid_amount_of_the_same_text(
    amount_in_cents: int, data: st.DataObject
) -> None:
    """Swapping one digit (an OCR misread) gives either an error or a different value."""
    amount = Decimal(amount_in_cents) / 100
    words = amount_to_words(amount)
    digit_positions = [i for i, ch in enumerate(words) if ch in "壹贰叁肆伍陆柒捌玖"]
    index = data.draw(st.sampled_from(digit_positions))
    replacement = data.draw(st.sampled_from([d for d in "壹贰叁肆伍陆柒捌玖" if d != words[index]]))
    misread = words[:index] + replacement + words[index + 1 :]
    check = check_amount(misread, amount)
    assert check.outcome in {"mismatch", "invalid"}
