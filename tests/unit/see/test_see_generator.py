"""The voucher generator: ground truth that matches what is printed, seeds, defects, CLI errors."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from stdnum import luhn
from stdnum.iso7064 import mod_11_10
from voucher_truths import load_truths

from examples.vouchers.facts import DEFECTS, FIELDS, load_banks, random_amount, random_facts
from examples.vouchers.generate import assign_defects, generate, parse_defects
from skills.think.checks.amounts import amount_to_words, check_amount

ROOT = Path(__file__).resolve().parents[3]


def test_every_bank_code_is_a_real_cnaps_code_with_a_valid_check_digit() -> None:
    banks = load_banks()
    assert len(banks) >= 40
    for bank in banks:
        assert len(bank.code) == 12, bank
        assert bank.code.isdigit(), bank
        assert mod_11_10.is_valid(bank.code), bank
        assert bank.name


def test_ground_truth_lists_every_field_and_its_words_spell_its_figure(clean_vouchers: Path) -> None:
    truths = load_truths(clean_vouchers)
    assert [t["layout"] for t in truths] == ["wire", "deposit", "wire", "deposit"]
    for truth in truths:
        fields = truth["fields"]
        assert list(fields) == list(FIELDS)
        assert (clean_vouchers / truth["image"]).is_file()
        assert truth["defects"] == []
        assert set(truth["readable_fields"]) == set(FIELDS)
        assert truth["lost_fields"] == []
        assert fields["amount_words"] == amount_to_words(Decimal(fields["amount_figure"]))
        assert check_amount(fields["amount_words"], fields["amount_figure"]).outcome == "match"
        for name in ("payer_bank_code", "payee_bank_code"):
            assert mod_11_10.is_valid(fields[name])
        for name in ("payer_account", "payee_account"):
            assert fields[name].isdigit()
            assert 12 <= len(fields[name]) <= 20


def test_the_same_seed_gives_the_same_vouchers_whatever_the_count(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    generate(2, 99, first, noise="noisy")
    generate(3, 99, second, noise="noisy")
    for name in ("voucher-0001", "voucher-0002"):
        assert (first / f"{name}.json").read_text() == (second / f"{name}.json").read_text()
        assert (first / f"{name}.jpg").read_bytes() == (second / f"{name}.jpg").read_bytes()


def test_noisy_scans_record_their_distortions_within_the_promised_bounds(noisy_vouchers: Path) -> None:
    for truth in load_truths(noisy_vouchers):
        distortion = truth["distortion"]
        assert abs(distortion["rotation"]) <= 10.0
        assert 30 <= distortion["jpeg_quality"] <= 75
        assert truth["image"].endswith(".jpg")
        assert truth["stamp_over"] in truth["fields"]


def test_amounts_cover_round_sums_small_change_and_inner_zeros() -> None:
    rng = random.Random(1)
    amounts = [random_amount(rng) for _ in range(500)]
    assert all(Decimal("1.00") <= a < Decimal("100000000") for a in amounts)
    assert any(a == a.to_integral_value() for a in amounts)
    assert any(str(a).endswith("0") and not str(a).endswith("00") for a in amounts)
    assert any("0" in str(a).split(".")[0][1:] for a in amounts)


def test_defects_are_exact_shares_one_per_voucher() -> None:
    plan = assign_defects(40, 7, {"amount_mismatch": 0.25, "bad_account": 0.25, "unreadable": 0.1})
    counts = {name: sum(name in defects for defects in plan) for name in DEFECTS}
    assert counts == {"amount_mismatch": 10, "bad_account": 10, "bad_bank_code": 0, "unreadable": 4}
    assert all(len(defects) <= 1 for defects in plan)


@pytest.mark.parametrize("defect", ["amount_mismatch", "bad_account", "bad_bank_code"])
def test_each_defect_makes_the_voucher_wrong_in_its_own_way(defect: str) -> None:
    for seed in range(20):
        facts = random_facts(random.Random(seed), "wire", [defect])
        fields = facts.fields()
        if defect == "amount_mismatch":
            assert check_amount(fields["amount_words"], fields["amount_figure"]).outcome == "mismatch"
        elif defect == "bad_bank_code":
            codes = [fields["payer_bank_code"], fields["payee_bank_code"]]
            assert sum(not mod_11_10.is_valid(code) for code in codes) == 1
            assert all(len(code) == 12 for code in codes)
        else:
            accounts = [fields["payer_account"], fields["payee_account"]]
            broken = [
                a
                for a in accounts
                if len(a) < 8 or (a.startswith("62") and len(a) == 19 and not luhn.is_valid(a))
            ]
            assert len(broken) == 1, accounts


def test_an_unreadable_voucher_says_which_fields_cannot_be_read(unreadable_vouchers: Path) -> None:
    for truth in load_truths(unreadable_vouchers):
        distortion = truth["distortion"]
        assert truth["defects"] == ["unreadable"]
        if distortion["cut_side"] is None:
            assert distortion["blur"] >= 5.0
            assert truth["readable_fields"] == []
            assert set(truth["lost_fields"]) == set(FIELDS)
        else:
            assert set(truth["readable_fields"]) < set(FIELDS)
            assert truth["lost_fields"]
            assert not set(truth["lost_fields"]) & set(truth["readable_fields"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("typo=0.1", "expected DEFECT=SHARE"),
        ("unreadable=2", "from 0 to 1"),
        ("unreadable=x", "from 0 to 1"),
        ("unreadable=0.6,bad_account=0.6", "add up to 1.20"),
    ],
)
def test_bad_defect_options_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_defects(text)


def test_the_command_line_writes_vouchers_and_reports_bad_options_without_a_traceback(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "examples.vouchers",
        "--count",
        "2",
        "--seed",
        "4",
        "--out",
        str(tmp_path),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "wrote 2 clean vouchers" in done.stderr
    assert json.loads((tmp_path / "voucher-0002.json").read_text(encoding="utf-8"))["index"] == 2
    refused = subprocess.run(
        [*command, "--defects", "typo=1"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2
    assert "error: expected DEFECT=SHARE" in refused.stderr
    assert "Traceback" not in refused.stderr
