"""see.ocr and the ``ocr`` service, on real vouchers read by the real RapidOCR engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from voucher_truths import load_truths

from orchestrator.plugin import service_spec_of, spec_of
from orchestrator.services import ServicePool
from skills import BusinessError
from skills.see.ocr import ocr
from skills.see.ocr_engine import CLS_MODEL, DET_MODEL, REC_MODEL, OcrEngine, model_dir, ocr_service
from skills.testing import run_skill


def test_the_models_are_the_ones_inside_the_rapidocr_wheel(ocr_pool: ServicePool) -> None:
    folder = model_dir()
    assert folder.parts[-2:] == ("rapidocr", "models")
    engine = ocr_pool.get("ocr")
    assert isinstance(engine, OcrEngine)
    configured = engine.engine.cfg
    assert Path(configured.Det.model_path) == folder / DET_MODEL
    assert Path(configured.Rec.model_path) == folder / REC_MODEL
    assert Path(configured.Cls.model_path) == folder / CLS_MODEL


def test_registration_metadata() -> None:
    spec = spec_of(ocr)
    assert spec is not None
    assert spec.id == "see.ocr"
    assert spec.effect == "none"
    assert spec.summary.startswith("Read the text lines of an image")
    assert service_spec_of(ocr_service).name == "ocr"  # type: ignore[union-attr]


def test_reads_every_line_of_a_voucher_with_boxes_and_confidences(
    ocr_pool: ServicePool, clean_vouchers: Path
) -> None:
    truth = load_truths(clean_vouchers)[0]
    result = run_skill(ocr, {"image": str(clean_vouchers / truth["image"])}, services=ocr_pool)
    texts = [line.text for line in result.lines]
    assert "电汇凭证" in texts
    assert truth["fields"]["payer_name"] in texts
    assert truth["fields"]["amount_words"] in texts
    assert result.text == "\n".join(texts)
    assert (result.width, result.height) == (1800, 700)
    name_line = next(line for line in result.lines if line.text == truth["fields"]["payer_name"])
    x0, y0, _x1, y1 = truth["field_boxes"]["payer_name"]
    assert abs(name_line.x - x0) < 20
    assert abs(name_line.y + name_line.height / 2 - (y0 + y1) / 2) < 10
    assert len(name_line.box) == 4
    assert all(0.0 <= line.confidence <= 1.0 for line in result.lines)


def test_a_region_is_read_alone_and_boxes_stay_in_whole_image_coordinates(
    ocr_pool: ServicePool, clean_vouchers: Path
) -> None:
    truth = load_truths(clean_vouchers)[1]
    x0, y0, x1, y1 = truth["field_boxes"]["payee_account"]
    region = (x0 - 20, y0 - 15, x1 - x0 + 40, y1 - y0 + 30)
    result = run_skill(
        ocr, {"image": str(clean_vouchers / truth["image"]), "region": region}, services=ocr_pool
    )
    # a small crop is padded, not blown up 15 times, so the grouped digits come back as one line
    assert [line.text.replace(" ", "") for line in result.lines] == [truth["fields"]["payee_account"]]
    assert result.width == region[2]
    assert result.height == region[3]
    assert result.lines[0].x >= region[0]
    assert abs(result.lines[0].x - x0) < 20


def test_missing_files_non_images_and_outside_regions_are_business_errors(
    ocr_pool: ServicePool, clean_vouchers: Path, tmp_path: Path
) -> None:
    with pytest.raises(BusinessError, match="expected an image file") as missing:
        run_skill(ocr, {"image": str(tmp_path / "nope.png")}, services=ocr_pool)
    assert missing.value.code == "image_missing"
    text_file = tmp_path / "notes.png"
    text_file.write_text("not an image", encoding="utf-8")
    with pytest.raises(BusinessError, match="Pillow cannot read") as unreadable:
        run_skill(ocr, {"image": str(text_file)}, services=ocr_pool)
    assert unreadable.value.code == "image_unreadable"
    image = clean_vouchers / load_truths(clean_vouchers)[0]["image"]
    with pytest.raises(BusinessError, match="inside the 1800x700 image") as outside:
        run_skill(ocr, {"image": str(image), "region": (1700, 0, 200, 50)}, services=ocr_pool)
    assert outside.value.code == "region_outside_image"


def test_a_relative_path_is_read_from_the_work_dir(ocr_pool: ServicePool, clean_vouchers: Path) -> None:
    truth = load_truths(clean_vouchers)[1]
    x0, y0, x1, y1 = truth["field_boxes"]["voucher_no"]
    result = run_skill(
        ocr,
        {"image": truth["image"], "region": (x0 - 10, y0 - 10, x1 - x0 + 20, y1 - y0 + 20)},
        services=ocr_pool,
        work_dir=clean_vouchers,
    )
    assert result.text == truth["fields"]["voucher_no"]
