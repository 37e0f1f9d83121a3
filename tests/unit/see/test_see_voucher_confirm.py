"""The second, independent reading of text fields (``voucher_confirm``): when it flags, what it
reads, and, with the real OCR, the seed-11 scans whose first pass dropped a character unflagged."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from examples.vouchers.generate import generate_one
from orchestrator.services import ServicePool
from skills.see.ocr_engine import OcrEngine, load_image
from skills.see.voucher import wash_out_red
from skills.see.voucher_confirm import compared_text, confirm_text_fields
from skills.see.voucher_geometry import Token
from skills.see.voucher_reader import FieldReading, VoucherReading, read_fields
from skills.see.voucher_reread import reread_flagged

LABEL = Token("全称", 0.99, 10, 20, 60, 50)
VALUE = Token("州鼎盛科技有限公司", 0.99, 120, 20, 300, 50)


class RecordingRecogniser:
    """Reads every crop as the next scripted (text, score) and keeps the crops it was given."""

    def __init__(self, *readings: tuple[str, float]) -> None:
        self.readings = list(readings)
        self.crops: list[np.ndarray] = []

    def recognize(self, crops: Sequence[Any]) -> list[tuple[str, float]]:
        start = len(self.crops)
        self.crops.extend(crops)
        return [self.readings[(start + i) % len(self.readings)] for i in range(len(crops))]


def name_reading(value: str = VALUE.text, **changes: Any) -> FieldReading:
    base = FieldReading(value, 0.99, False, raw=value, pieces=(VALUE,), label=LABEL, row=(VALUE,))
    return FieldReading(**{**base.__dict__, **changes})


def confirm(reading: VoucherReading, engine: Any) -> VoucherReading:
    scan = Image.fromarray(np.full((80, 400, 3), 235, dtype=np.uint8))
    return confirm_text_fields(reading, scan, engine, min_confidence=0.9)


def test_a_confident_second_reading_that_differs_flags_the_field_with_both_readings() -> None:
    engine = RecordingRecogniser(("广州鼎盛科技有限公司", 0.99))
    field = confirm(VoucherReading("wire", 0.0, {"payee_name": name_reading()}), engine).fields["payee_name"]
    assert (field.flagged, field.code, field.value) == (True, "second_read", "州鼎盛科技有限公司")
    assert field.reason is not None
    assert "州鼎盛科技有限公司" in field.reason
    assert "广州鼎盛科技有限公司" in field.reason


def test_the_second_reading_starts_at_the_labels_edge_where_a_dropped_character_lies() -> None:
    engine = RecordingRecogniser((VALUE.text, 0.99))
    confirm(VoucherReading("wire", 0.0, {"payee_name": name_reading()}), engine)
    (crop,) = engine.crops
    # From just right of the label (x 60) to the value's end (x 300), upscaled twice: the 60
    # pixels between label and value, where the detector left a character out, are read too.
    assert crop.shape[1] >= 2 * (300 - 60 - 5)
    assert crop.shape[1] < 2 * (300 - 10)


@pytest.mark.parametrize(
    "second",
    [("州鼎盛科技有限公司", 0.99), ("|州鼎盛科技有限公司", 0.99), ("1 州鼎盛 科技有限公司", 0.95)],
    ids=["same", "ruling-line-read-as-bar", "ruling-line-read-as-one"],
)
def test_a_second_reading_with_the_same_characters_confirms(second: tuple[str, float]) -> None:
    engine = RecordingRecogniser(second)
    field = confirm(VoucherReading("wire", 0.0, {"payee_name": name_reading()}), engine).fields["payee_name"]
    assert not field.flagged


def test_an_unsure_second_reading_is_not_a_dissent() -> None:
    engine = RecordingRecogniser(("广州鼎盛科技有限公司", 0.85))
    field = confirm(VoucherReading("wire", 0.0, {"payee_name": name_reading()}), engine).fields["payee_name"]
    assert not field.flagged


def test_only_text_fields_the_first_pass_accepted_are_read_again() -> None:
    engine = RecordingRecogniser(("另一个名字", 0.99))
    flagged = name_reading(flagged=True, code="low_confidence", reason="unsure")
    lifted = name_reading(reread=True)
    account = FieldReading("6222020200112233445", 0.99, False, pieces=(VALUE,), label=LABEL, row=(VALUE,))
    reading = VoucherReading(
        "wire", 0.0, {"payer_name": flagged, "payee_name": lifted, "payer_account": account}
    )
    assert confirm(reading, engine).fields == reading.fields
    assert engine.crops == []


def test_the_second_look_never_lifts_a_second_read_flag() -> None:
    # Its re-reads crop the first pass's own boxes, which would only say the first read again.
    engine = RecordingRecogniser(("州鼎盛科技有限公司", 0.99))
    field = name_reading(flagged=True, code="second_read", reason="differs")
    scan = Image.fromarray(np.full((80, 400, 3), 235, dtype=np.uint8))
    again = reread_flagged(
        VoucherReading("wire", 0.0, {"payee_name": field}),
        scan,
        engine,  # type: ignore[arg-type]
        min_confidence=0.9,
        figure_min_confidence=0.5,
    )
    assert again.fields["payee_name"] == field
    assert engine.crops == []


def test_compared_text_keeps_chinese_characters_and_name_brackets_only() -> None:
    assert compared_text("| 新韩银行(中国) 1") == "新韩银行(中国)"
    assert compared_text("一往来款") == "一往来款"


# --- real OCR on seed-11 noisy scans --------------------------------------------------------------


def first_pass(folder: Path, index: int, pool: ServicePool) -> tuple[VoucherReading, Any, dict[str, str]]:
    generated = generate_one(index, 11, folder, "noisy", [])
    truth = json.loads(generated.truth.read_text(encoding="utf-8"))["fields"]
    image = load_image(generated.image)
    engine: OcrEngine = pool.get("ocr")
    lines = engine.read(wash_out_red(image), min_confidence=0.0)
    return read_fields(lines, width=image.width, height=image.height), image, truth


@pytest.mark.parametrize(
    ("index", "name"),
    [(179, "payee_name"), (171, "payer_bank")],
    ids=["first-character-in-a-seal-ring", "first-character-on-a-ruling-line"],
)
def test_a_dropped_first_character_is_flagged(
    tmp_path: Path, ocr_pool: ServicePool, index: int, name: str
) -> None:
    reading, image, truth = first_pass(tmp_path, index, ocr_pool)
    first = reading.fields[name]
    # The first pass drops the first character without flagging it.
    assert not first.flagged
    assert first.value == truth[name][1:]
    confirmed = confirm_text_fields(reading, image, ocr_pool.get("ocr"), min_confidence=0.9)
    field = confirmed.fields[name]
    assert (field.flagged, field.code) == (True, "second_read")
    assert field.reason is not None
    assert truth[name] in field.reason
    assert [n for n, f in confirmed.fields.items() if f.code == "second_read"] == [name]


def test_text_fields_read_right_are_confirmed(tmp_path: Path, ocr_pool: ServicePool) -> None:
    reading, image, truth = first_pass(tmp_path, 99, ocr_pool)
    confirmed = confirm_text_fields(reading, image, ocr_pool.get("ocr"), min_confidence=0.9)
    text_fields = ("payer_name", "payer_bank", "payee_name", "payee_bank", "purpose")
    assert all(confirmed.fields[n].value == truth[n] and not confirmed.fields[n].flagged for n in text_fields)
