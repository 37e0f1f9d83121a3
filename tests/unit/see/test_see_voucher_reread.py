"""The second look at flagged voucher fields (``skills.see.voucher_reread``).

Two kinds of tests: with a stand-in recogniser that returns chosen readings (exact, fast: the
acceptance rules), and with the real OCR on generated noisy scans the first pass flags (the
rescue works on real crops, and refuses when its checks fail).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from examples.vouchers.generate import generate_one
from orchestrator.services import ServicePool
from skills.see.ocr_engine import OcrEngine, load_image
from skills.see.voucher import wash_out_red
from skills.see.voucher_geometry import Token
from skills.see.voucher_reader import FieldReading, VoucherReading, read_fields
from skills.see.voucher_reread import (
    agreed,
    crop_variants,
    figure_from_row,
    is_seal_piece,
    reread_flagged,
    semantic_problem,
    shaped_value,
)

PAPER = (235, 232, 228)
SEAL_RED = (215, 60, 55)


class ScriptedRecogniser:
    """Stands in for the OCR engine: every crop is read as the next scripted (text, score)."""

    def __init__(self, *readings: tuple[str, float]) -> None:
        self.readings = list(readings)
        self.calls = 0

    def recognize(self, crops: Sequence[Any]) -> list[tuple[str, float]]:
        self.calls += 1
        return [self.readings[i % len(self.readings)] for i in range(len(crops))]


def sheet(width: int = 400, height: int = 120) -> np.ndarray:
    return np.full((height, width, 3), PAPER, dtype=np.uint8)


def voucher_reading(**fields: FieldReading) -> VoucherReading:
    """A wire voucher reading where every field is read surely, except those given."""
    sure = {
        "amount_words": FieldReading(
            "陆拾叁元肆角叁分", 0.99, False, pieces=(Token("", 0.99, 10, 10, 200, 40),)
        ),
        "amount_figure": FieldReading("63.43", 0.99, False, area=(210, 10, 380, 40)),
        "payer_name": FieldReading("北京瑞丰贸易股份有限公司", 0.99, False),
    }
    return VoucherReading("wire", 0.0, {**sure, **fields})


def unsure(value: str, raw: str, *pieces: Token, code: str = "low_confidence") -> FieldReading:
    return FieldReading(value, 0.6, True, "unsure", raw, code, pieces)


def second_look(reading: VoucherReading, engine: Any, image: np.ndarray | None = None) -> VoucherReading:
    from PIL import Image

    scan = Image.fromarray(sheet() if image is None else image)
    return reread_flagged(reading, scan, engine, min_confidence=0.9, figure_min_confidence=0.5)


# --- acceptance rules, with a scripted recogniser ------------------------------------------------


def test_agreeing_confident_rereads_lift_the_flag_and_say_so() -> None:
    words = unsure(
        "陆拾叁元肆角参分", "陆拾叁元肆角参分", Token("陆拾叁元肆角参分", 0.97, 10, 10, 200, 40), code="shape"
    )
    engine = ScriptedRecogniser(("陆拾叁元肆角叁分", 0.98), ("陆拾叁元肆角叁分", 0.95))
    field = second_look(voucher_reading(amount_words=words), engine).fields["amount_words"]
    assert (field.value, field.flagged, field.reread, field.code) == ("陆拾叁元肆角叁分", False, True, None)


def test_rereads_that_disagree_keep_the_flag() -> None:
    words = unsure("陆拾叁元肆角参分", "陆拾叁元肆角参分", Token("x", 0.97, 10, 10, 200, 40), code="shape")
    engine = ScriptedRecogniser(("陆拾叁元肆角叁分", 0.98), ("陆拾捌元肆角叁分", 0.97))
    field = second_look(voucher_reading(amount_words=words), engine).fields["amount_words"]
    assert field.flagged
    assert not field.reread
    assert field.value == "陆拾叁元肆角参分"


def test_one_confident_reread_is_not_enough() -> None:
    result = agreed([("货款", 0.99), ("贷款", 0.7), ("货款", 0.8)], shaped_value("text"), 0.9)
    assert result.value is None
    assert "fewer than 2" in (result.refusal or "")


def test_a_confident_misshapen_reread_vetoes_an_account() -> None:
    readings = [("62220212345678901", 0.99), ("62220212345678901", 0.98), ("6222021234567890l", 0.95)]
    assert agreed(readings, shaped_value("account"), 0.9).value is None
    assert agreed(readings, shaped_value("account"), 0.9, misshapen_vetoes=False).value == "62220212345678901"


def test_words_that_do_not_equal_the_figure_are_refused_however_sure() -> None:
    words = unsure("陆拾叁元肆角参分", "陆拾叁元肆角参分", Token("x", 0.97, 10, 10, 200, 40), code="shape")
    engine = ScriptedRecogniser(("陆拾捌元肆角叁分", 0.99))
    field = second_look(voucher_reading(amount_words=words), engine).fields["amount_words"]
    assert field.flagged
    assert field.value == "陆拾叁元肆角参分"


def test_the_figure_is_not_reread_while_the_words_are_unsure() -> None:
    words = unsure("陆拾叁元肆角参分", "陆拾叁元肆角参分", Token("x", 0.97, 10, 10, 200, 40), code="shape")
    figure = FieldReading("63.43", 0.4, True, "unsure", "6343", "low_confidence", area=(210, 10, 380, 40))
    # The words re-read cannot be checked against an unsure figure, the figure not against
    # unsure words: both stay flagged even though every re-read agrees.
    engine = ScriptedRecogniser(("陆拾叁元肆角叁分", 0.99), ("￥6 3 4 3", 0.99))
    fields = second_look(voucher_reading(amount_words=words, amount_figure=figure), engine).fields
    assert fields["amount_words"].flagged
    assert fields["amount_figure"].flagged


def test_a_figure_row_read_again_must_equal_the_words() -> None:
    figure = FieldReading("6.43", 0.9, True, "no ￥", "643", "grid", area=(210, 10, 380, 40))
    rescued = second_look(voucher_reading(amount_figure=figure), ScriptedRecogniser(("￥6 3 4 3", 0.8)))
    assert rescued.fields["amount_figure"].value == "63.43"
    assert not rescued.fields["amount_figure"].flagged
    refused = second_look(voucher_reading(amount_figure=figure), ScriptedRecogniser(("￥6 8 4 3", 0.8)))
    assert refused.fields["amount_figure"].flagged
    assert refused.fields["amount_figure"].value == "6.43"


def test_a_name_reread_must_say_what_the_first_read_said() -> None:
    name = unsure(
        "北京瑞丰贸易有限公司", "北京瑞丰贸易有限公司", Token("北京瑞丰贸易有限公司", 0.8, 10, 10, 200, 40)
    )
    engine = ScriptedRecogniser(("北京瑞丰贸易有限公", 0.99))  # a character lost: never accepted
    field = second_look(voucher_reading(payer_name=name), engine).fields["payer_name"]
    assert field.flagged
    assert field.value == "北京瑞丰贸易有限公司"


def test_words_get_a_fifth_copy_of_the_crop_and_digit_rows_do_not() -> None:
    # Voucher 61115762 of the CNAPS batch: 万 under a seal's arc reads 方 in two copies and 武方
    # in one (both misshapen, not dissent), 万 in the hard wash and in the fifth copy: two votes,
    # and the words equal the figure.
    words = unsure("陆拾叁方肆角叁分", "陆拾叁方肆角叁分", Token("x", 0.97, 10, 10, 200, 40), code="shape")
    engine = ScriptedRecogniser(
        ("陆拾叁方肆角叁分", 0.97),
        ("陆拾叁元肆角叁分", 0.95),
        ("陆拾武方肆角叁分", 0.95),
        ("陆拾叁方肆角叁分", 0.98),
        ("陆拾叁元肆角叁分", 0.98),
    )
    field = second_look(voucher_reading(amount_words=words), engine).fields["amount_words"]
    assert (field.value, field.flagged, field.reread) == ("陆拾叁元肆角叁分", False, True)
    crop = sheet(200, 40)
    assert len(crop_variants(crop, characters=True)) == 5
    assert len(crop_variants(crop)) == 4


@pytest.mark.parametrize("code", ["cut_off", "label_ambiguous", "form_not_recognised"])
def test_fields_flagged_for_where_they_are_are_not_reread(code: str) -> None:
    piece = Token("北京瑞丰贸易股份有", 0.99, 10, 10, 200, 40)
    name = FieldReading("北京瑞丰贸易股份有", 0.99, True, "where", "北京瑞丰贸易股份有", code, (piece,))
    engine = ScriptedRecogniser(("北京瑞丰贸易股份有", 0.99))
    assert second_look(voucher_reading(payer_name=name), engine).fields["payer_name"].flagged
    assert engine.calls == 0


def test_a_voucher_with_nothing_flagged_costs_no_recognition() -> None:
    engine = ScriptedRecogniser(("x", 0.99))
    reading = voucher_reading()
    assert second_look(reading, engine) is reading
    assert engine.calls == 0


# --- the checks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "figure"),
    [("￥4 0 1 0 6 0", "4010.60"), ("¥ 6 0 0 3 9 9 3 8 5 6", "60039938.56"), ("￥0 4 5", "0.45")],
)
def test_a_digit_row_with_its_yuan_sign_is_a_figure(text: str, figure: str) -> None:
    assert figure_from_row(text) == figure


@pytest.mark.parametrize("text", ["4 0 1 0 6 0", "￥0 1 0 6 0", "￥4 0 1 0 6 O", "￥4 5"])
def test_a_digit_row_without_its_yuan_sign_or_with_a_leading_zero_is_not(text: str) -> None:
    assert figure_from_row(text) is None


def account_scan(unsure_piece_colour: tuple[int, int, int]) -> np.ndarray:
    """Printed digits at x 10-200 and, at x 210-240, an unsure piece of the given colour."""
    image = sheet()
    image[15:35, 10:200:6] = (25, 25, 30)
    image[12:38, 210:240] = unsure_piece_colour
    return image


ACCOUNT = "6267397463342683893"


def account_reading(*pieces: Token) -> VoucherReading:
    raw = "".join(piece.text for piece in pieces)
    return voucher_reading(payer_account=unsure(raw, raw, *pieces, code="shape"))


def test_an_account_loses_a_seal_piece_read_after_it() -> None:
    reading = account_reading(Token(ACCOUNT, 0.99, 8, 10, 202, 40), Token("快", 0.05, 208, 10, 242, 40))
    engine = ScriptedRecogniser((ACCOUNT, 0.97))
    field = second_look(reading, engine, account_scan(SEAL_RED)).fields["payer_account"]
    assert (field.value, field.flagged, field.reread) == (ACCOUNT, False, True)


def test_an_unsure_piece_in_black_print_is_never_dropped() -> None:
    reading = account_reading(Token(ACCOUNT, 0.99, 8, 10, 202, 40), Token("快", 0.05, 208, 10, 242, 40))
    engine = ScriptedRecogniser((ACCOUNT, 0.97))
    field = second_look(reading, engine, account_scan((25, 25, 30))).fields["payer_account"]
    assert field.flagged
    assert not field.reread


def test_a_stray_character_inside_a_read_piece_is_never_dropped() -> None:
    # 'l' may be a misread 1: re-reads that lose it must not be taken for the account.
    reading = account_reading(Token(ACCOUNT[:-1] + "l", 0.95, 8, 10, 202, 40))
    engine = ScriptedRecogniser((ACCOUNT[:-1], 0.99))
    field = second_look(reading, engine, account_scan(PAPER)).fields["payer_account"]
    assert field.flagged
    assert field.value == ACCOUNT[:-1] + "l"


COMPANY_ACCOUNT = "7612829726535341"  # not card-shaped: no check digit, only the first read confirms it


def seal_before_the_value(
    *, seal_colour: tuple[int, int, int] = SEAL_RED, at_edge: bool = False
) -> VoucherReading:
    """A payer account whose first read chose only a piece read next to its label, a little
    lower on the row, and skipped the digits as "not in line" with that piece (voucher 68431848
    of the CNAPS batch: 街, a seal character, before 7612829726535341)."""
    label = Token("账号", 1.0, 10, 8, 60, 44)
    piece = Token("街", 0.2, 62, 30, 90, 54)
    digits = Token(COMPANY_ACCOUNT, 1.0, 110, 10, 330, 40, at_edge)
    field = FieldReading(
        "街", 0.2, True, "not digits", "街", "shape", (piece,), label=label, row=(piece, digits)
    )
    return voucher_reading(payer_account=field)


def seal_before_the_value_scan(seal_colour: tuple[int, int, int] = SEAL_RED) -> np.ndarray:
    image = sheet()
    image[15:35, 112:328:6] = (25, 25, 30)
    image[32:52, 64:88] = seal_colour
    return image


def test_a_seal_piece_read_before_the_value_is_left_out_and_the_value_chosen_again() -> None:
    engine = ScriptedRecogniser((COMPANY_ACCOUNT, 0.99))
    field = second_look(seal_before_the_value(), engine, seal_before_the_value_scan()).fields["payer_account"]
    assert (field.value, field.flagged, field.reread) == (COMPANY_ACCOUNT, False, True)


def test_a_value_chosen_again_must_still_be_confirmed_by_the_rereads() -> None:
    engine = ScriptedRecogniser((COMPANY_ACCOUNT[:-1] + "2", 0.99))
    field = second_look(seal_before_the_value(), engine, seal_before_the_value_scan()).fields["payer_account"]
    assert field.flagged
    assert field.value == "街"


def test_an_unsure_black_piece_before_the_value_is_not_chosen_away() -> None:
    engine = ScriptedRecogniser((COMPANY_ACCOUNT, 0.99))
    scan = seal_before_the_value_scan(seal_colour=(25, 25, 30))
    assert second_look(seal_before_the_value(), engine, scan).fields["payer_account"].flagged


def test_a_value_chosen_again_that_runs_off_the_image_is_not_accepted() -> None:
    engine = ScriptedRecogniser((COMPANY_ACCOUNT, 0.99))
    reading = seal_before_the_value(at_edge=True)
    assert second_look(reading, engine, seal_before_the_value_scan()).fields["payer_account"].flagged


def test_a_changed_digit_is_not_a_confirmation() -> None:
    company_account = "1152411656208328082"  # no check digit of its own to catch the change
    reading = account_reading(Token(company_account, 0.8, 8, 10, 202, 40))
    engine = ScriptedRecogniser((company_account[:-1] + "3", 0.99))
    assert second_look(reading, engine, account_scan(PAPER)).fields["payer_account"].flagged


def test_semantic_checks_refuse_bad_check_digits_and_non_chinese_names() -> None:
    fields = voucher_reading().fields
    assert semantic_problem("payee_bank_code", "bank_code", "102100000072", fields) is None
    assert semantic_problem("payee_bank_code", "bank_code", "102100000073", fields) is not None
    assert semantic_problem("payer_account", "account", "6222021234567890128", fields) is None
    assert semantic_problem("payer_account", "account", "6222021234567890127", fields) is not None
    assert semantic_problem("payer_name", "text", "天津金桥食品有限公司Q2", fields) is not None


def test_a_piece_of_seal_ink_is_told_from_black_print_under_a_seal() -> None:
    image = sheet()
    image[20:50, 20:80] = SEAL_RED  # seal ink only
    image[20:50, 120:180] = SEAL_RED
    image[30:40, 120:180] = (25, 25, 30)  # a black stroke under the seal
    image[20:50, 220:280] = (25, 25, 30)  # plain print
    assert is_seal_piece(image, Token("章", 0.3, 18, 18, 82, 52))
    assert not is_seal_piece(image, Token("码", 0.3, 118, 18, 182, 52))
    assert not is_seal_piece(image, Token("司", 0.3, 218, 18, 282, 52))


# --- real OCR on noisy scans the first pass flags -----------------------------------------------


def first_pass(
    folder: Path, index: int, seed: int, pool: ServicePool
) -> tuple[VoucherReading, Any, dict[str, str]]:
    """Render noisy voucher ``index`` of ``seed`` and read it once, as the skill's first pass does."""
    generated = generate_one(index, seed, folder, "noisy", [])
    truth = json.loads(generated.truth.read_text(encoding="utf-8"))["fields"]
    image = load_image(generated.image)
    engine: OcrEngine = pool.get("ocr")
    reading = read_fields(
        engine.read(wash_out_red(image), min_confidence=0.0),
        width=image.width,
        height=image.height,
        figure_min_confidence=0.5,
    )
    return reading, image, truth


@pytest.mark.parametrize(
    ("index", "seed", "name"),
    [
        (30, 11, "payer_name"),
        (8, 11, "amount_words"),
        (14, 99, "amount_figure"),
        (34, 7, "payer_account"),
        (15, 7, "amount_words"),
    ],
    ids=[
        "seal-beside-the-name",
        "words-misread-under-a-seal",
        "grid-digit-missed",
        "seal-piece-before-the-account",
        "seal-arc-over-a-character",
    ],
)
def test_second_look_rescues_a_field_the_first_pass_flags(
    tmp_path: Path, ocr_pool: ServicePool, index: int, seed: int, name: str
) -> None:
    reading, image, truth = first_pass(tmp_path, index, seed, ocr_pool)
    assert reading.fields[name].flagged, "the first pass was expected to be unsure of this field"
    again = reread_flagged(reading, image, ocr_pool.get("ocr"), min_confidence=0.9, figure_min_confidence=0.5)
    field = again.fields[name]
    assert (field.value, field.flagged, field.reread) == (truth[name], False, True)
    assert all(not f.flagged or f is reading.fields[n] for n, f in again.fields.items())


def test_second_look_refuses_words_that_disagree_with_the_figure(
    tmp_path: Path, ocr_pool: ServicePool
) -> None:
    reading, image, truth = first_pass(tmp_path, 8, 11, ocr_pool)
    assert truth["amount_figure"] == "63.43"
    assert reading.fields["amount_words"].flagged
    # The same scan with a figure one digit off: the words re-read (陆拾叁元肆角叁分) no longer
    # equals it, so the flag must stay although the crop reads cleanly.
    other_figure = replace(reading.fields["amount_figure"], value="63.48")
    altered = replace(reading, fields={**reading.fields, "amount_figure": other_figure})
    again = reread_flagged(altered, image, ocr_pool.get("ocr"), min_confidence=0.9, figure_min_confidence=0.5)
    assert again.fields["amount_words"].flagged
    assert not again.fields["amount_words"].reread


def test_second_look_refuses_a_figure_whose_readings_disagree(tmp_path: Path, ocr_pool: ServicePool) -> None:
    # Voucher 2 of seed 99: the 十 digit is lost in the first pass, and the re-reads of the row
    # disagree on one digit (4050874 / 4050574): nothing is accepted.
    reading, image, truth = first_pass(tmp_path, 2, 99, ocr_pool)
    assert reading.fields["amount_figure"].flagged
    again = reread_flagged(reading, image, ocr_pool.get("ocr"), min_confidence=0.9, figure_min_confidence=0.5)
    assert again.fields["amount_figure"].flagged
    assert (
        again.fields["amount_figure"].value == reading.fields["amount_figure"].value != truth["amount_figure"]
    )
