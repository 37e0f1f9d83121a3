"""Identifier checks: CNAPS codes against the 96 real codes, BIC/IBAN, cards, Chinese ids, accounts."""

from __future__ import annotations

import pytest
from checks_data import shared_file
from stdnum.cn import ric

from skills.think.checks.identifiers import (
    IdentifierKind,
    check_account_number,
    check_bic,
    check_card_number,
    check_cnaps_code,
    check_iban,
    check_identifier,
    check_resident_id,
    check_uetr,
    check_uscc,
    cnaps_bank_name,
)


def _real_cnaps_codes() -> list[str]:
    path = shared_file("cnaps/gweesin-cnaps/cnaps_codes_test_vectors.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_all_96_real_cnaps_codes_pass_and_decode_city_and_category() -> None:
    codes = _real_cnaps_codes()
    assert len(codes) == 96
    for code in codes:
        check = check_cnaps_code(code)
        assert check.valid, (code, check.reason)
        assert check.details["city"], code
        assert check.details["bank_category"], code
        assert check.warnings == (), (code, check.warnings)


def test_every_single_digit_change_of_a_real_cnaps_code_is_rejected() -> None:
    rejected = 0
    for code in _real_cnaps_codes():
        for position in range(12):
            for digit in "0123456789":
                if digit == code[position]:
                    continue
                altered = code[:position] + digit + code[position + 1 :]
                check = check_cnaps_code(altered)
                assert not check.valid, altered
                assert "check digit" in check.reason
                rejected += 1
    assert rejected == 96 * 12 * 9


def test_most_adjacent_transpositions_of_real_cnaps_codes_are_rejected() -> None:
    """MOD 11,10 misses some swaps (mostly 0<->1 and 0<->9): measured 632 of 693 caught."""
    caught = escaped = 0
    for code in _real_cnaps_codes():
        for position in range(11):
            swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
            if swapped == code:
                continue
            if check_cnaps_code(swapped).valid:
                escaped += 1
            else:
                caught += 1
    assert caught + escaped == 693
    assert caught == 632


def test_cnaps_head_office_and_branch_are_decoded() -> None:
    head = check_cnaps_code("102100099996")
    assert head.details["bank_category"] == "中国工商银行"
    assert head.details["head_office"] == "true"
    assert head.details["city"] == "北京市"
    branch = check_cnaps_code("102331005059")
    assert (branch.details["city"], branch.details["province"]) == ("杭州市", "浙江省")
    assert branch.details["head_office"] == "false"
    assert check_cnaps_code("313").reason.startswith("a CNAPS bank code has 12 digits")
    assert not check_cnaps_code("999999999999").valid  # placeholder from the directory


def test_bic() -> None:
    icbc = check_bic("ICBKCNBJ")
    assert icbc.valid
    assert icbc.details["bank_name"] == "中国工商银行"
    assert icbc.details["head_office"] == "true"
    assert check_bic("icbk cn bj xxx").normalized == "ICBKCNBJXXX"
    assert check_bic("DEUTDEFF500").details["bank_name"] == "Deutsche Bank"
    assert "test and training" in check_bic("ICBKCNB0").warnings[0]
    for bad in ["ICBKCNB", "ICBKXXBJ", "ICBKCNBJXX", "1CBKCNBJ"]:
        assert not check_bic(bad).valid, bad


def test_iban() -> None:
    good = check_iban("DE89 3704 0044 0532 0130 00")
    assert good.valid
    assert good.details["country"] == "DE"
    assert not check_iban("DE89370400440532013001").valid
    assert "checksum" in check_iban("DE89370400440532013001").reason.lower()
    assert check_iban("GB82WEST12345698765432").valid
    assert "China does not use IBAN" in check_iban("CN8912345678").reason


def test_card_numbers() -> None:
    assert check_card_number("6200 0000 0000 0005").details["scheme"] == "UnionPay"
    assert check_card_number("4111111111111111").valid
    assert check_card_number("5555555555554444").details["scheme"] == "Mastercard"
    mistyped = check_card_number("4111111111111112")
    assert not mistyped.valid
    assert "expected 1" in mistyped.reason
    assert not check_card_number("41111").valid


def test_account_number_shape_rules() -> None:
    assert check_account_number("1001 2345 6789 0123 456").valid
    assert check_account_number("NRA310000123456789").details["prefix"] == "NRA"
    assert not check_account_number("1234567").valid  # too short
    assert not check_account_number("1" * 33).valid  # longer than CNAPS Max32Text
    assert "digits only" in check_account_number("12345678A9").reason
    card_like = check_account_number("6200000000000006")
    assert card_like.valid
    assert "Luhn" in card_like.warnings[0]


def test_resident_id() -> None:
    good = check_resident_id("11010519491231002X")
    assert good.valid
    assert good.details["birth_date"] == "1949-12-31"
    assert good.details["sex"] == "female"
    assert "expected X" in check_resident_id("110105194912310021").reason
    assert not check_resident_id("11010519491231002").valid
    bad_date = "11010519491331002"
    with_check = bad_date + ric.calc_check_digit(bad_date + "?")
    assert "birth date" in check_resident_id(with_check).reason


def test_unified_social_credit_code() -> None:
    assert check_uscc("91110000600037341L").valid
    assert "expected L" in check_uscc("91110000600037341M").reason
    assert "not used" in check_uscc("9111000060003734IL").reason
    assert not check_uscc("9111000060003734").valid


def test_uetr() -> None:
    assert check_uetr("eb6305c9-1f7f-49de-aed0-16487c27b42d").valid
    assert "lower case" in check_uetr("EB6305C9-1F7F-49DE-AED0-16487C27B42D").reason
    assert "version 4" in check_uetr("eb6305c9-1f7f-19de-aed0-16487c27b42d").reason
    assert not check_uetr("not-a-uuid").valid


def test_dispatch_by_kind() -> None:
    assert check_identifier("cnaps", "102100099996").kind is IdentifierKind.cnaps
    with pytest.raises(ValueError, match="unknown identifier kind"):
        check_identifier("swift", "X")


@pytest.mark.parametrize(
    ("code", "bank"),
    [
        ("102100000021", "中国工商银行"),
        ("306581000003", "广发银行股份有限公司"),
        (" 1021 0000 0021 ", "中国工商银行"),
        ("102100000022", None),  # check digit wrong
        ("999100000020", None),  # valid, category not in the table
        ("10210000002", None),  # 11 digits
    ],
)
def test_cnaps_bank_name_is_the_bank_of_a_valid_codes_category(code: str, bank: str | None) -> None:
    assert cnaps_bank_name(code) == bank
