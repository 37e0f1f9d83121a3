"""The terminal's entry rules and its clearing result file (no display needed)."""

from __future__ import annotations

import csv
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from examples.platforms.terminal.results import RESULT_COLUMNS
from examples.platforms.terminal.rules import PaymentInput, bank_code_problem, validate_payment
from examples.platforms.terminal.store import TerminalStore
from examples.shared_data import shared_data_dir

CNAPS_VECTORS = shared_data_dir() / "cnaps/gweesin-cnaps/cnaps_codes_test_vectors.txt"


def payment(reference: str, amount: str = "100.00") -> PaymentInput:
    return PaymentInput(
        reference=reference,
        payer_account="6222020200112233",
        payer_name="北京测试贸易有限公司",
        payee_account="6217000010001234",
        payee_name="张三",
        payee_bank_code="102100099996",
        amount=Decimal(amount),
        purpose="货款",
    )


def export(data_dir: Path, out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "examples.platforms.terminal", "export-results", "--data-dir", str(data_dir),
         "--out", str(out), *options],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == RESULT_COLUMNS
        return list(reader)


@pytest.fixture
def store_with_three(tmp_path: Path) -> Path:
    store = TerminalStore(tmp_path / "terminal.sqlite3")
    store.submit(payment("REF-A", "100.00"), operator="clerk")
    store.submit(payment("REF-B", "2500.50"), operator="clerk")
    store.submit(payment("REF-B", "2500.50"), operator="clerk")  # a double submission
    return tmp_path


def test_the_result_file_has_one_settled_line_per_submission(store_with_three: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "result.csv"

    done = export(store_with_three, out, "--layout", "terminal")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote 3 lines to {out}"
    rows = read_rows(out)
    assert [(r["serial_no"], r["reference"], r["amount"], r["status"]) for r in rows] == [
        ("CT00000001", "REF-A", "100.00", "SETTLED"),
        ("CT00000002", "REF-B", "2500.50", "SETTLED"),
        ("CT00000003", "REF-B", "2500.50", "SETTLED"),
    ]
    assert {(r["payee_bank_code"], r["currency"]) for r in rows} == {("102100099996", "CNY")}
    assert out.read_bytes().count(b"\r") == 0


def test_mismatches_are_injected_on_request(store_with_three: Path, tmp_path: Path) -> None:
    out = tmp_path / "result.csv"

    done = export(
        store_with_three, out, "--layout", "terminal",
        "--drop", "REF-A", "--alter-amount", "REF-B=2500.05", "--reject", "REF-B",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert [(r["reference"], r["amount"], r["status"]) for r in read_rows(out)] == [
        ("REF-B", "2500.05", "REJECTED"),
        ("REF-B", "2500.05", "REJECTED"),
    ]


def test_the_default_file_is_the_banks_layout_and_the_bots_reader_agrees(
    store_with_three: Path, tmp_path: Path
) -> None:
    # The bank's reader (think.read_reconciliation) is the other side of this contract.
    from skills.think.payments.cnaps.clearing_file import read_clearing_file

    out = tmp_path / "result.csv"
    store = TerminalStore(store_with_three / "terminal.sqlite3")
    store.submit(payment("REF-C", "80000.00"), operator="clerk")

    done = export(store_with_three, out, "--alter-amount", "REF-A=100.01", "--reject", "REF-C")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote 4 lines to {out}"
    result = read_clearing_file(out.read_bytes())
    assert result.message_type == "cnaps.clearing-result.v1"
    assert (result.count, result.total) == (4, Decimal("85101.01"))
    assert [
        (e.end_to_end_id, e.transaction_id, e.system, str(e.amount.value), e.outcome) for e in result.entries
    ] == [
        ("REF-A", "CT00000001", "BEPS", "100.01", "settled"),
        ("REF-B", "CT00000002", "BEPS", "2500.50", "settled"),
        ("REF-B", "CT00000003", "BEPS", "2500.50", "settled"),
        ("REF-C", "CT00000004", "HVPS", "80000.00", "rejected"),
    ]
    first = result.entries[0]
    assert (first.debtor_account, first.debtor_name, first.creditor_bank, first.creditor_account) == (
        "6222020200112233", "北京测试贸易有限公司", "102100099996", "6217000010001234",
    )  # fmt: skip
    assert first.settlement_date == first.clearing_date
    assert result.entries[3].settlement_date is None
    assert result.entries[3].reason_text == "清算中心拒绝"


def test_the_sender_bank_must_be_a_bank_code(store_with_three: Path, tmp_path: Path) -> None:
    done = export(store_with_three, tmp_path / "result.csv", "--sender-bank", "10210009999")

    assert done.returncode == 2
    assert "--sender-bank expects a 12-digit CNAPS bank code; found '10210009999'" in done.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--drop", "REF-Z"], "no submission has reference REF-Z"),
        (["--alter-amount", "REF-A"], "--alter-amount expects REF=AMOUNT; found 'REF-A'"),
        (["--alter-amount", "REF-A=1.234"], "--alter-amount 'REF-A=1.234': Amount must be a positive number"),
    ],
)
def test_a_bad_export_request_is_refused_readably(
    store_with_three: Path, tmp_path: Path, options: list[str], message: str
) -> None:
    out = tmp_path / "result.csv"

    done = export(store_with_three, out, *options)

    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_exporting_without_a_store_says_where_it_looked(tmp_path: Path) -> None:
    done = export(tmp_path / "nowhere", tmp_path / "result.csv")

    assert done.returncode == 2
    assert f"no terminal store at {tmp_path / 'nowhere' / 'terminal.sqlite3'}" in done.stderr


def test_the_gui_without_a_display_exits_with_a_readable_error(tmp_path: Path) -> None:
    environment = {"PATH": "/usr/bin:/bin"}

    done = subprocess.run(
        [sys.executable, "-m", "examples.platforms.terminal", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env=environment,
    )  # fmt: skip

    assert done.returncode == 2
    assert "no X display: set DISPLAY" in done.stderr


def test_every_public_cnaps_code_passes_and_a_changed_check_digit_fails() -> None:
    if not CNAPS_VECTORS.exists():
        pytest.skip(f"skipped because the shared CNAPS vectors are missing at {CNAPS_VECTORS}")
    codes = [line.strip() for line in CNAPS_VECTORS.read_text().splitlines() if line.strip()[:1].isdigit()]

    assert len(codes) == 96
    assert [code for code in codes if bank_code_problem(code)] == []
    for code in codes:
        wrong = code[:11] + str((int(code[11]) + 1) % 10)
        assert bank_code_problem(wrong) == f"收款行行号校验位不正确：{wrong} 的最后一位应为 {code[11]}"


def test_all_problems_are_found_in_screen_order() -> None:
    fields = {
        "reference": "参考号",
        "payer_account": "62220202",
        "payer_name": "甲",
        "payee_account": "1234567",
        "payee_name": "",
        "payee_bank_code": "102100099996",
        "amount": "0",
        "purpose": "",
    }

    accepted, problems = validate_payment(fields)

    assert accepted is None
    assert [(p.field, p.message) for p in problems] == [
        ("reference", "业务参考号只能包含字母、数字、空格和 /-?:().,'+，实际为 '参考号'"),
        ("payee_account", "收款人账号必须是8到32位数字，实际为 '1234567'"),
        ("payee_name", "收款人名称不能为空"),
        ("amount", "金额必须是大于零的数字，最多两位小数，如 1234.56，实际为 '0'"),
    ]
