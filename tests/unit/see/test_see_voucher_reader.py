"""The label-finding reader on hand-made OCR lines (no OCR engine: exact geometry, fast)."""

from __future__ import annotations

import math
from typing import get_args

import pytest

from skills.see.ocr_engine import OcrLine
from skills.see.voucher import FlagCode
from skills.see.voucher_fields import shape
from skills.see.voucher_geometry import text_weight
from skills.see.voucher_reader import FLAG_CODES, read_fields

WIDTH, HEIGHT = 1800, 700
TRUTH = {
    "voucher_no": "12345678",
    "date": "2024-03-15",
    "payer_name": "上海恒信贸易有限公司",
    "payer_account": "6222021234567890128",
    "payer_bank": "中国工商银行股份有限公司北京新华支行",
    "payer_bank_code": "102100000021",
    "payee_name": "张伟",
    "payee_account": "310066726018800012345",
    "payee_bank": "招商银行",
    "payee_bank_code": "308584000013",
    "amount_words": "壹万贰仟零肆拾伍元零柒分",
    "amount_figure": "12045.07",
    "purpose": "货款",
}


def line(
    text: str, x: float, y: float, size: float = 28, confidence: float = 0.99, width: float = 0
) -> OcrLine:
    """An upright box around ``text`` printed at (x, top y) with ``size`` pixel characters."""
    width = width or text_weight(text) * size
    return OcrLine(
        text, confidence, ((x, y), (x + width, y), (x + width, y + size * 1.3), (x, y + size * 1.3))
    )


def rotate(lines: list[OcrLine], degrees: float) -> list[OcrLine]:
    """The same lines on a sheet turned ``degrees`` around the image centre."""
    theta = math.radians(degrees)
    cx, cy = WIDTH / 2, HEIGHT / 2

    def turn(point: tuple[float, float]) -> tuple[float, float]:
        dx, dy = point[0] - cx, point[1] - cy
        return cx + dx * math.cos(theta) - dy * math.sin(theta), cy + dx * math.sin(theta) + dy * math.cos(
            theta
        )

    return [OcrLine(item.text, item.confidence, tuple(turn(p) for p in item.box)) for item in lines]  # type: ignore[misc]


def grid(figure: str, header: str = "split", skip: str = "") -> list[OcrLine]:
    """The 亿..分 header and one box per digit, right-aligned, with ￥ before the first digit."""
    units = "亿千百十万千百十元角分"
    result = [line(units, 1100, 440, 24, width=660)] if header == "merged" else []
    if header == "split":
        result += [
            line(unit, 1105 + 60 * i, 440, 24)
            for i, unit in enumerate(units)
            if i not in {int(s) for s in skip}
        ]
    digits = figure.replace(".", "")
    first = len(units) - len(digits)
    result.append(line("¥", 1110 + 60 * (first - 1), 500, 30, confidence=0.5))
    result += [line(d, 1110 + 60 * (first + i), 500, 30, confidence=0.97) for i, d in enumerate(digits)]
    return result


def wire_lines(fields: dict[str, str] = TRUTH, figure_lines: list[OcrLine] | None = None) -> list[OcrLine]:
    year, month, day = fields["date"].split("-")
    return [
        line("中国工商银行", 60, 36, 30),
        line("电汇凭证", 810, 30, 46),
        line("□普通 □加急", 60, 115, 24),
        line("委托日期", 620, 112),
        line(f"{year}年{month}月{day}日", 750, 112),
        line("凭证号", 1300, 112),
        line(fields["voucher_no"], 1400, 112),
        line("全称", 205, 175),
        line(fields["payer_name"], 345, 175),
        line("全称", 1055, 175),
        line(fields["payee_name"], 1195, 175),
        line("账号", 205, 241),
        line(fields["payer_account"], 345, 243),
        line("账号", 1055, 241),
        line(fields["payee_account"], 1195, 243),
        line("汇款人", 52, 272),
        line("收款人", 902, 272),
        line("汇出行名称", 170, 308),
        line(fields["payer_bank"], 345, 310, 24),
        line("汇入行名称", 1020, 308),
        line(fields["payee_bank"], 1195, 310),
        line("汇出行行号", 170, 375),
        line(fields["payer_bank_code"], 345, 377),
        line("汇入行行号", 1020, 375),
        line(fields["payee_bank_code"], 1195, 377),
        line("金额", 64, 466),
        line("人民币(大写)", 160, 468, 25),
        line(fields["amount_words"], 345, 472, 30),
        *(figure_lines if figure_lines is not None else grid(fields["amount_figure"])),
        line("附加信息及用途", 95, 566, 25),
        line(fields["purpose"], 345, 566),
        line("汇款人签章", 56, 640, 24),
        line("复核", 1290, 636, 24),
        line("记账", 1510, 636, 24),
    ]


def values(lines: list[OcrLine], **options: object) -> dict[str, str | None]:
    reading = read_fields(lines, width=WIDTH, height=HEIGHT, **options)  # type: ignore[arg-type]
    return {name: field.value for name, field in reading.fields.items()}


def test_every_field_is_found_by_its_label() -> None:
    reading = read_fields(wire_lines(), width=WIDTH, height=HEIGHT)
    assert reading.layout == "wire"
    assert {name: field.value for name, field in reading.fields.items()} == TRUTH
    assert reading.flagged == []


@pytest.mark.parametrize("degrees", [-10.0, -4.5, 3.0, 10.0])
def test_a_sheet_turned_up_to_ten_degrees_reads_the_same(degrees: float) -> None:
    reading = read_fields(rotate(wire_lines(), degrees), width=WIDTH, height=HEIGHT)
    assert reading.skew_degrees == pytest.approx(degrees, abs=0.01)
    assert {name: field.value for name, field in reading.fields.items()} == TRUTH
    assert reading.flagged == []


def test_the_same_labels_on_another_part_of_the_sheet_read_the_same() -> None:
    shifted = [
        OcrLine(item.text, item.confidence, tuple((x * 0.8 + 40, y * 0.8 + 25) for x, y in item.box))  # type: ignore[misc]
        for item in wire_lines()
    ]
    assert values(shifted) == TRUTH


def test_a_label_read_together_with_its_value_is_split() -> None:
    lines = [item for item in wire_lines() if item.text not in {"凭证号", TRUTH["voucher_no"]}]
    lines.append(line("凭证号：" + TRUTH["voucher_no"], 1300, 112))
    assert values(lines)["voucher_no"] == TRUTH["voucher_no"]


def test_a_label_misread_by_one_character_is_still_found() -> None:
    lines = [line("汇出行名祢", 170, 308) if item.text == "汇出行名称" else item for item in wire_lines()]
    assert values(lines)["payer_bank"] == TRUTH["payer_bank"]


def test_a_merged_grid_header_still_places_every_digit() -> None:
    assert (
        values(wire_lines(figure_lines=grid(TRUTH["amount_figure"], header="merged")))["amount_figure"]
        == "12045.07"
    )


def test_header_cells_missing_from_the_ocr_are_filled_in_by_the_pitch() -> None:
    figure_lines = grid(TRUTH["amount_figure"], skip="123567")
    assert values(wire_lines(figure_lines=figure_lines))["amount_figure"] == "12045.07"


def test_a_digit_missing_from_the_grid_is_flagged_not_closed_up() -> None:
    figure_lines = [
        item for item in grid(TRUTH["amount_figure"]) if not (item.text == "4" and item.box[0][1] == 500)
    ]
    field = read_fields(wire_lines(figure_lines=figure_lines), width=WIDTH, height=HEIGHT).fields[
        "amount_figure"
    ]
    assert field.flagged
    assert field.code == "grid"
    assert "empty columns 十" in (field.reason or "")


def test_a_figure_without_its_yuan_sign_is_flagged_as_possibly_cut_short() -> None:
    # the detector missed the ￥ and the leading digit: 2045.07 would fill the columns to 分
    figure_lines = [item for item in grid(TRUTH["amount_figure"]) if item.text != "¥"]
    figure_lines = [item for item in figure_lines if not (item.text == "1" and item.box[0][1] == 500)]
    field = read_fields(wire_lines(figure_lines=figure_lines), width=WIDTH, height=HEIGHT).fields[
        "amount_figure"
    ]
    assert field.flagged
    assert field.value == "2045.07"
    assert field.code == "grid"
    assert "no ￥ was read just before the first digit" in (field.reason or "")


def test_low_confidence_and_foreign_characters_are_flagged_never_corrected() -> None:
    lines = wire_lines(
        dict(TRUTH, amount_words="壹万贰仟零肆拾伍元零柒分", payee_account="31006672601880001234S")
    )
    lines = [
        line(item.text, item.box[0][0], item.box[0][1], confidence=0.6) if item.text == "货款" else item
        for item in lines
    ]
    reading = read_fields(lines, width=WIDTH, height=HEIGHT)
    assert reading.fields["payee_account"].flagged
    assert reading.fields["payee_account"].value == "31006672601880001234S"
    assert "digits only" in (reading.fields["payee_account"].reason or "")
    assert reading.fields["payee_account"].code == "shape"
    assert reading.fields["purpose"].code == "low_confidence"
    assert reading.fields["purpose"].flagged
    assert reading.fields["purpose"].value == "货款"
    assert "0.600 is below 0.90" in (reading.fields["purpose"].reason or "")
    assert not reading.fields["amount_words"].flagged


def test_text_far_along_the_row_is_flagged_as_a_separate_piece() -> None:
    lines = [*wire_lines(), line("现金讫", 480, 566)]
    field = read_fields(lines, width=WIDTH, height=HEIGHT).fields["purpose"]
    assert field.flagged
    assert field.code == "separate_pieces"
    assert "separate pieces" in (field.reason or "")


def test_the_next_row_does_not_leak_into_a_value() -> None:
    lines = wire_lines()
    # the payer account printed a little high, as on a skewed, perspective-distorted scan
    lines = [line(item.text, 345, 228) if item.text == TRUTH["payer_account"] else item for item in lines]
    assert values(lines)["payer_name"] == TRUTH["payer_name"]


def test_a_deposit_slip_is_told_from_its_title_and_labels() -> None:
    lines = [
        line("进账单", 830, 30, 46),
        line("日期", 620, 112),
        line("2025年01月02日", 690, 112),
        line("全称", 205, 175),
        line("某某公司", 345, 175),
        line("出票人", 52, 272),
        line("收款人", 902, 272),
        line("开户银行", 180, 308),
        line("平安银行", 345, 310),
        line("行号", 205, 375),
        line("307584007998", 345, 377),
    ]
    reading = read_fields(lines, width=WIDTH, height=HEIGHT)
    assert reading.layout == "deposit"
    assert reading.fields["payer_bank"].value == "平安银行"
    assert reading.fields["payer_bank_code"].value == "307584007998"
    assert reading.fields["date"].value == "2025-01-02"
    assert reading.fields["payee_name"].flagged
    assert "全称 was read but not placed in the payee's block" in (reading.fields["payee_name"].reason or "")


def test_labels_read_in_pairs_need_no_section_anchor() -> None:
    # the bottom of the sheet is cut off through 汇款人 / 收款人; one anchor half-read as 汇款
    lines = [item for item in wire_lines() if item.box[0][1] < 260] + [line("汇款", 52, 262)]
    reading = read_fields(lines, width=WIDTH, height=HEIGHT)
    assert reading.fields["payer_name"].value == TRUTH["payer_name"]
    assert reading.fields["payee_name"].value == TRUTH["payee_name"]
    assert reading.fields["payee_account"].value == TRUTH["payee_account"]


def test_a_lone_shared_label_is_not_given_to_a_party_on_one_anchor_alone() -> None:
    lines = [item for item in wire_lines() if item.text not in {"收款人", "全称"} or item.box[0][0] < 900]
    reading = read_fields(lines, width=WIDTH, height=HEIGHT)
    assert reading.fields["payer_account"].value == TRUTH["payer_account"]  # still a pair on its row
    for name in ("payer_name", "payee_name"):
        assert reading.fields[name].flagged
        assert "not placed" in (reading.fields[name].reason or "")
        assert reading.fields[name].code == "label_missing"


def test_a_value_running_off_the_image_is_flagged_as_possibly_cut() -> None:
    lines = [
        line("中国工商银行股份有限公司北京房山支", 1195, 310, width=WIDTH - 1195)
        if item.text == TRUTH["payee_bank"]
        else item
        for item in wire_lines()
    ]
    field = read_fields(lines, width=WIDTH, height=HEIGHT).fields["payee_bank"]
    assert field.flagged
    assert field.code == "cut_off"
    assert "edge of the image" in (field.reason or "")


def test_an_image_without_a_voucher_flags_every_field() -> None:
    reading = read_fields(
        [line("会议纪要", 100, 100), line("下午三点", 100, 200)], width=WIDTH, height=HEIGHT
    )
    assert reading.layout is None
    assert len(reading.flagged) == 13
    assert all(field.value is None for field in reading.fields.values())
    assert {field.code for field in reading.fields.values()} == {"form_not_recognised"}


def test_the_skill_output_knows_every_flag_code() -> None:
    assert set(get_args(FlagCode)) == set(FLAG_CODES)


@pytest.mark.parametrize(
    ("kind", "raw", "value", "problem"),
    [
        ("account", "6222 0212 3456 7890", "6222021234567890", None),
        ("account", "62220212345678O0", "62220212345678O0", "digits only"),
        ("account", "12345", "12345", "8 to 32 digits"),
        ("bank_code", "102100000021", "102100000021", None),
        ("bank_code", "10210000002", "10210000002", "12-digit"),
        ("date", "2024年3月5日", "2024-03-05", None),
        ("date", "2024年02月30日", "2024年02月30日", "calendar date"),
        ("date", "2024年0月16日", "2024年0月16日", "calendar date"),
        ("amount_words", "人民币壹拾元整", "壹拾元整", None),
        ("amount_words", "壹拾元", "壹拾元", "end with 整"),
        ("amount_words", "壹什元整", "壹什元整", "'什'"),
        ("number", "No.00012345", "00012345", None),
        ("text", "  ", "", "read nothing"),
    ],
)
def test_shape_checks_normalise_or_explain(kind: str, raw: str, value: str, problem: str | None) -> None:
    shaped = shape(kind, raw)  # type: ignore[arg-type]
    assert shaped.value == value
    if problem is None:
        assert shaped.problem is None
    else:
        assert problem in (shaped.problem or "")
