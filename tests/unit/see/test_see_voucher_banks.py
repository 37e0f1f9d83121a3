"""A bank name must name the bank of the CNAPS code beside it (``voucher_banks``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from examples.vouchers.generate import generate_one
from orchestrator.services import ServicePool
from skills.see.ocr_engine import OcrEngine, load_image
from skills.see.voucher import wash_out_red
from skills.see.voucher_banks import check_bank_names
from skills.see.voucher_reader import FieldReading, VoucherReading, read_fields

ICBC_BRANCH = "102100000021"  # 中国工商银行股份有限公司北京新华支行


def banks(name: str, code: str, *, code_flagged: bool = False) -> VoucherReading:
    return VoucherReading(
        "wire",
        0.0,
        {
            "payer_bank": FieldReading(name, 0.99, False),
            "payer_bank_code": FieldReading(code, 0.99, code_flagged),
        },
    )


def test_a_name_of_another_bank_than_the_codes_is_flagged() -> None:
    field = check_bank_names(banks("中国全商银行股份有限公司北京新华支行", ICBC_BRANCH)).fields["payer_bank"]
    assert (field.flagged, field.code) == (True, "bank_mismatch")
    assert field.reason is not None
    assert ICBC_BRANCH in field.reason
    assert "中国工商银行" in field.reason


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("中国工商银行股份有限公司北京新华支行", ICBC_BRANCH),
        ("东亚银行(中国)有限公司", "502290000006"),  # the table writes 东亚银行（中国）
    ],
)
def test_a_name_holding_the_codes_bank_passes(name: str, code: str) -> None:
    assert not check_bank_names(banks(name, code)).fields["payer_bank"].flagged


@pytest.mark.parametrize(
    ("code", "code_flagged"),
    [
        (ICBC_BRANCH, True),  # the code itself is unsure
        ("102100000022", False),  # wrong check digit: the code's own check reports it
        ("999100000020", False),  # valid, but a category the table does not know
    ],
)
def test_only_a_sure_valid_code_of_a_known_bank_is_checked(code: str, code_flagged: bool) -> None:
    reading = banks("中国全商银行股份有限公司北京新华支行", code, code_flagged=code_flagged)
    assert not check_bank_names(reading).fields["payer_bank"].flagged


def test_a_bank_name_misread_alike_twice_is_flagged_by_its_code(
    tmp_path: Path, ocr_pool: ServicePool
) -> None:
    # Seed-11 noisy voucher 67: 工 read as 全 at 0.995, and read so again from the label on.
    generated = generate_one(67, 11, tmp_path, "noisy", [])
    truth = json.loads(generated.truth.read_text(encoding="utf-8"))["fields"]
    image = load_image(generated.image)
    engine: OcrEngine = ocr_pool.get("ocr")
    reading = read_fields(
        engine.read(wash_out_red(image), min_confidence=0.0), width=image.width, height=image.height
    )
    first = reading.fields["payer_bank"]
    assert not first.flagged
    assert first.value == truth["payer_bank"].replace("工", "全", 1)
    checked = check_bank_names(reading)
    assert checked.fields["payer_bank"].code == "bank_mismatch"
    assert [n for n, f in checked.fields.items() if f.code == "bank_mismatch"] == ["payer_bank"]
