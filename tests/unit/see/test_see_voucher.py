"""see.voucher on generated vouchers read by the real OCR engine, checked against the ground truth."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from voucher_truths import load_truths

from orchestrator.plugin import spec_of
from orchestrator.services import ServicePool
from skills import BusinessError
from skills.see.voucher import voucher, wash_out_red
from skills.testing import run_skill
from skills.think.checks.amounts import check_amount


def read(pool: ServicePool, folder: Path, truth: dict, **params: object):  # type: ignore[no-untyped-def]
    return run_skill(voucher, {"image": str(folder / truth["image"]), **params}, services=pool)


def test_registration_metadata() -> None:
    spec = spec_of(voucher)
    assert spec is not None
    assert spec.id == "see.voucher"
    assert spec.effect == "none"
    assert "printed labels" in spec.summary
    for name, info in spec.params_model.model_fields.items():
        assert info.description, name


def test_clean_vouchers_are_read_exactly_and_nothing_is_flagged(
    ocr_pool: ServicePool, clean_vouchers: Path
) -> None:
    for truth in load_truths(clean_vouchers):
        result = read(ocr_pool, clean_vouchers, truth)
        assert result.layout == truth["layout"]
        read_values = {name: field.value for name, field in result.fields.items()}
        assert read_values == truth["fields"], truth["id"]
        assert result.flagged == []
        assert result.amount_words == truth["fields"]["amount_words"]
        assert result.amount_figure == truth["fields"]["amount_figure"]
        assert check_amount(result.amount_words, result.amount_figure).outcome == "match"
        assert all(field.confidence >= 0.5 for field in result.fields.values())


def test_noisy_scans_are_read_and_every_unflagged_value_is_right(
    ocr_pool: ServicePool, noisy_vouchers: Path
) -> None:
    exact = total = 0
    for truth in load_truths(noisy_vouchers):
        result = read(ocr_pool, noisy_vouchers, truth)
        assert result.layout == truth["layout"]
        assert abs(result.skew_degrees + truth["distortion"]["rotation"]) < 2.5, truth["id"]
        for name, expected in truth["fields"].items():
            field = result.fields[name]
            total += 1
            exact += field.value == expected
            if not field.flagged:
                assert field.value == expected, (truth["id"], name, field)
            else:
                assert field.reason, (truth["id"], name)
    assert exact / total >= 0.95


def test_the_seal_wash_keeps_text_under_red_ink_and_drops_the_ink() -> None:
    image = Image.new("RGB", (4, 1))
    image.putdata([(255, 255, 255), (215, 50, 60), (12, 3, 4), (110, 20, 25)])
    washed = list(wash_out_red(image).tobytes())
    assert washed[0] == 255  # paper
    assert washed[1] == 255  # seal ink on paper
    assert washed[2] <= 20  # black text under seal ink stays black
    assert washed[3] <= 120  # the edge of a stroke under the ink stays dark


def test_unreadable_scans_give_flagged_fields_not_guesses(
    ocr_pool: ServicePool, unreadable_vouchers: Path
) -> None:
    for truth in load_truths(unreadable_vouchers):
        result = read(ocr_pool, unreadable_vouchers, truth)
        assert truth["lost_fields"]
        for name, expected in truth["fields"].items():
            field = result.fields[name]
            assert field.flagged or field.value == expected, (truth["id"], name, field)
        for name in truth["lost_fields"]:
            assert result.fields[name].flagged, (truth["id"], name)
            assert result.fields[name].reason
            assert result.fields[name].code in {
                "form_not_recognised",
                "label_missing",
                "value_missing",
                "cut_off",
            }
        assert (
            result.amount_figure is None
            or result.fields["amount_figure"].flagged
            or (result.amount_figure == truth["fields"]["amount_figure"])
        )


def test_fail_if_flagged_raises_a_business_error_naming_the_fields(
    ocr_pool: ServicePool, unreadable_vouchers: Path
) -> None:
    truth = load_truths(unreadable_vouchers)[0]
    with pytest.raises(BusinessError, match="flagged") as raised:
        read(ocr_pool, unreadable_vouchers, truth, fail_if_flagged=True)
    assert raised.value.code == "voucher_unreadable"
    assert "amount_figure" in raised.value.details["flagged"]


def test_a_stricter_threshold_flags_more_but_never_changes_a_value(
    ocr_pool: ServicePool, noisy_vouchers: Path
) -> None:
    truth = load_truths(noisy_vouchers)[0]
    usual = read(ocr_pool, noisy_vouchers, truth)
    strict = read(ocr_pool, noisy_vouchers, truth, min_confidence=1.0, figure_min_confidence=1.0)
    assert set(usual.flagged) <= set(strict.flagged)
    assert len(strict.flagged) > len(usual.flagged)
    assert {n: f.value for n, f in usual.fields.items()} == {n: f.value for n, f in strict.fields.items()}
    reasons = [f.reason for f in strict.fields.values() if f.flagged]
    assert any("below 1.00" in (reason or "") for reason in reasons)
    assert "low_confidence" in {f.code for f in strict.fields.values()}


def test_the_layout_can_be_given_and_a_wrong_one_flags_what_it_cannot_find(
    ocr_pool: ServicePool, clean_vouchers: Path
) -> None:
    wire = load_truths(clean_vouchers)[0]
    assert wire["layout"] == "wire"
    as_deposit = read(ocr_pool, clean_vouchers, wire, layout="deposit")
    assert as_deposit.layout == "deposit"
    assert as_deposit.fields["payer_bank"].flagged  # 开户银行 is not printed on a wire voucher
    assert "开户银行" in (as_deposit.fields["payer_bank"].reason or "")
