"""think.reconcile: our journal against the other side's records, by reference."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from skills import BusinessError
from skills.do.files import append_record
from skills.testing import run_skill
from skills.think.payment_skills import read_reconciliation
from skills.think.payments.cnaps.clearing_file import write_clearing_file
from skills.think.payments.model import Amount
from skills.think.payments.reports import ClearingEntry
from skills.think.reconcile import (
    FieldComparison,
    ReconcileResult,
    parse_json_lines,
    reconcile,
    reconcile_records,
)

AMOUNT = {"name": "amount", "ours": "amount", "theirs": "amount.value", "compare": "amount"}
ACCOUNT = {
    "name": "payee_account",
    "ours": "payee_account",
    "theirs": "creditor_account",
    "compare": "digits",
}
BANK = {"name": "payee_bank_code", "ours": "payee_bank_code", "theirs": "creditor_bank", "compare": "digits"}


def ours(reference: str, amount: str = "100.00", account: str = "6217000010001234") -> dict[str, Any]:
    return {
        "reference": reference,
        "amount": amount,
        "payee_account": account,
        "payee_bank_code": "102100099996",
    }


def theirs(reference: str, amount: str = "100.00", outcome: str = "settled", **extra: Any) -> dict[str, Any]:
    return {
        "end_to_end_id": reference,
        "amount": {"currency": "CNY", "value": amount},
        "creditor_account": "6217000010001234",
        "creditor_bank": "102100099996",
        "outcome": outcome,
        **extra,
    }


def run(
    our_records: list[dict[str, Any]], their_records: list[dict[str, Any]], **extra: Any
) -> ReconcileResult:
    params = {
        "ours": our_records,
        "theirs": their_records,
        "theirs_key": "end_to_end_id",
        "fields": [AMOUNT, ACCOUNT, BANK],
        "theirs_status": "outcome",
        "accepted_statuses": ["settled"],
        **extra,
    }
    result = run_skill(reconcile, params)
    assert isinstance(result, ReconcileResult)
    return result


def test_identical_sides_match_and_the_totals_are_exact() -> None:
    result = run([ours("A", "10.50"), ours("B", "0.10")], [theirs("B", "0.1"), theirs("A", "10.5")])

    assert result.ok
    assert (result.matched_count, result.mismatch_count) == (2, 0)
    assert result.ours_total == result.theirs_total == Decimal("10.60")
    assert [(r.reference, r.outcome, r.problems) for r in result.rows] == [
        ("A", "matched", []),
        ("B", "matched", []),
    ]
    assert result.summary == "2 of 2 reference(s) matched (ours 2 record(s), theirs 2)"


def test_each_kind_of_difference_is_reported_for_its_reference() -> None:
    result = run(
        [
            ours("SAME"),
            ours("AMT", "100.00"),
            ours("GONE"),
            ours("ACCT", account="6217 0000 1000 1234"),
            ours("BAD"),
        ],
        [
            theirs("SAME"),
            theirs("AMT", "100.01"),
            theirs("EXTRA"),
            theirs("ACCT", creditor_account="6217000010009999"),
            theirs("BAD", outcome="rejected"),
        ],
    )

    assert not result.ok
    assert result.matched_count == 1
    by_reference = {row.reference: row for row in result.rows}
    assert by_reference["SAME"].outcome == "matched"
    assert by_reference["AMT"].problems == ["field"]
    assert by_reference["GONE"].problems == ["missing_theirs"]
    assert by_reference["EXTRA"].problems == ["missing_ours"]
    assert by_reference["ACCT"].problems == ["field"]
    assert by_reference["BAD"].problems == ["status"]
    amount = next(m for m in result.mismatches if m.reference == "AMT")
    assert (amount.field, amount.ours, amount.theirs) == ("amount", "100.00", "100.01")
    assert amount.message == "AMT: amount differs (ours 100.00, theirs 100.01)"
    account = next(m for m in result.mismatches if m.reference == "ACCT")
    assert account.theirs == "6217000010009999"  # blanks in ours were ignored, the digits differ
    assert "BAD: status 'rejected' in theirs, expected settled" in result.summary


def test_a_double_keying_on_their_side_is_a_duplicate_not_a_match() -> None:
    result = run([ours("TWICE")], [theirs("TWICE"), theirs("TWICE")])

    assert [m.kind for m in result.mismatches] == ["duplicate_theirs"]
    assert result.mismatches[0].message == "TWICE: 2 records in theirs"
    assert result.theirs_total == Decimal("200.00")


def test_a_reference_journalled_twice_is_a_duplicate_of_ours() -> None:
    result = run([ours("R1"), ours("R1")], [theirs("R1")])

    assert [m.kind for m in result.mismatches] == ["duplicate_ours"]


def test_an_unreadable_amount_is_a_mismatch_saying_which_side() -> None:
    result = run([ours("R1", "12,00")], [theirs("R1", "12.00")])

    [mismatch] = result.mismatches
    assert mismatch.message == "R1: amount is not an amount in ours (ours '12,00', theirs '12.00')"
    assert result.ours_total is None


def test_raise_on_mismatch_parks_with_every_mismatch_listed() -> None:
    with pytest.raises(BusinessError) as caught:
        run([ours("A", "1.00"), ours("B")], [theirs("A", "2.00")], raise_on_mismatch=True)

    assert caught.value.code == "recon_mismatch"
    assert "A: amount differs (ours 1.00, theirs 2.00)" in caught.value.message
    assert "B: in ours, missing in theirs" in caught.value.message
    assert len(caught.value.details["mismatches"]) == 2


def test_a_record_without_a_reference_is_refused_with_its_position() -> None:
    with pytest.raises(BusinessError) as caught:
        run([ours("A"), {"amount": "1.00"}], [theirs("A")])

    assert caught.value.code == "recon_bad_record"
    assert "our record 2 has no reference at 'reference' (keys: amount)" in caught.value.message


def test_exactly_one_of_ours_and_ours_jsonl_is_required() -> None:
    with pytest.raises(ValidationError, match="exactly one of ours"):
        run_skill(reconcile, {"theirs": []})
    with pytest.raises(ValidationError, match="exactly one of ours"):
        run_skill(reconcile, {"ours": [], "ours_jsonl": "", "theirs": []})


def test_a_bad_json_line_is_named_by_its_number() -> None:
    with pytest.raises(BusinessError, match="line 2 of our records is not JSON"):
        run_skill(reconcile, {"ours_jsonl": '{"reference": "A"}\n{oops\n', "theirs": []})
    assert parse_json_lines('\n{"reference": "A"}\n\n') == [{"reference": "A"}]


def test_the_journal_and_the_clearing_file_reconcile_through_the_real_skills(tmp_path: Path) -> None:
    # Our side: lines appended by do.append_record (as the interbank workflow does).
    for index, (reference, amount) in enumerate(
        (("VCH-1", "1234.50"), ("VCH-2", "88.00"), ("VCH-3", "9.99"))
    ):
        run_skill(
            append_record,
            {"path": "journal.jsonl", "record": {**ours(reference, amount), "serial_no": f"CT{index:08d}"}},
            work_dir=tmp_path,
            idempotency_key=f"run-{index}:submit",
        )
    # Their side: a clearing result file with VCH-2 at another amount and VCH-3 missing.
    entries = [_entry("VCH-1", "1234.50", 2), _entry("VCH-2", "88.80", 3)]
    (tmp_path / "result.csv").write_text(write_clearing_file(entries), encoding="utf-8")
    read = run_skill(read_reconciliation, {"path": "result.csv"}, work_dir=tmp_path)
    assert read is not None
    journal = (tmp_path / "journal.jsonl").read_text(encoding="utf-8")

    result = run_skill(
        reconcile,
        {
            "ours_jsonl": journal,
            "theirs": read.model_dump()["entries"],
            "theirs_key": "end_to_end_id",
            "fields": [AMOUNT, ACCOUNT, BANK],
            "theirs_status": "outcome",
            "accepted_statuses": ["settled"],
        },
    )

    assert isinstance(result, ReconcileResult)
    assert [(r.reference, r.problems) for r in result.rows] == [
        ("VCH-1", []),
        ("VCH-2", ["field"]),
        ("VCH-3", ["missing_theirs"]),
    ]
    assert result.mismatches[0].message == "VCH-2: amount differs (ours 88.00, theirs 88.80)"


def _entry(reference: str, amount: str, line: int) -> ClearingEntry:
    return ClearingEntry(
        clearing_date=date(2026, 5, 11),
        system="HVPS",
        message_type="hvps.111.001.01",
        message_id=f"M{line}",
        transaction_id=f"T{line}",
        end_to_end_id=reference,
        direction="sent",
        debtor_bank="102100099996",
        debtor_account="6222020200112233",
        debtor_name="张三",
        creditor_bank="102100099996",
        creditor_account="6217000010001234",
        creditor_name="李四",
        amount=Amount(currency="CNY", value=Decimal(amount)),
        status="PR02",
        outcome="settled",
        line=line,
    )


references = st.lists(st.text("ABC123-", min_size=1, max_size=8), unique=True, max_size=12)


@settings(max_examples=60, deadline=None)
@given(references, st.data())
def test_a_side_reconciles_with_itself_and_a_dropped_record_is_the_only_mismatch(
    refs: list[str], data: st.DataObject
) -> None:
    records = [{"reference": ref, "amount": f"{n}.{n % 100:02d}"} for n, ref in enumerate(refs, start=1)]
    rule = [FieldComparison("amount", "amount", "amount", "amount")]

    same = reconcile_records(records, list(reversed(records)), fields=rule)
    assert same.differences == []
    assert same.matched == sorted(refs)
    if records:
        dropped = data.draw(st.sampled_from(records))
        short = reconcile_records(records, [r for r in records if r is not dropped], fields=rule)
        assert [(d.reference, d.kind) for d in short.differences] == [
            (dropped["reference"], "missing_theirs")
        ]
