"""workflows/cnaps_reconcile.yaml offline: nothing is faked, no platform runs.

The clearing result file is written by the terminal's own exporter from a terminal store filled
in the test (no window needed); the journal is what ``do.append_record`` writes. Every skill of
the workflow (file reader, clearing-file reader, reconciliation, report) runs for real.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

from examples.platforms.terminal.cnaps_results import cnaps_rows, write_cnaps_file
from examples.platforms.terminal.results import ResultChanges
from examples.platforms.terminal.rules import PaymentInput
from examples.platforms.terminal.store import TerminalStore
from orchestrator.testing import WorkflowRunner

WORKFLOW = Path(__file__).resolve().parents[2] / "workflows" / "cnaps_reconcile.yaml"
PAYMENTS = [("VCH-00000001", "1234.50"), ("VCH-00000002", "88000.00"), ("VCH-00000003", "9.99")]


def submission(reference: str, amount: str) -> PaymentInput:
    return PaymentInput(
        reference=reference,
        payer_account="6222021234567890128",
        payer_name="北京恒信贸易有限公司",
        payee_account="310066726018170015447",
        payee_name="张伟",
        payee_bank_code="105100000017",
        amount=Decimal(amount),
        purpose="货款",
    )


def day(folder: Path, changes: ResultChanges | None = None, extra: int = 0) -> Path:
    """Key the payments on a terminal store, journal them as the bot does, export the result file."""
    store = TerminalStore(folder / "terminal" / "terminal.sqlite3")
    lines = []
    for reference, amount in PAYMENTS:
        payment = store.submit(submission(reference, amount), operator="clerk")
        record = {
            "idempotency_key": f"run-{reference}:journal",
            "reference": reference,
            "serial_no": payment.serial_no,
            "amount": amount,
            "payer_account": payment.payer_account,
            "payee_account": payment.payee_account,
            "payee_bank_code": payment.payee_bank_code,
        }
        lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
    for _ in range(extra):  # keyed again by hand on the terminal, never journalled
        store.submit(submission(*PAYMENTS[0]), operator="clerk")
    journal = folder / "outbox" / "cnaps-submissions.jsonl"
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = folder / "inbox" / "cnaps-results" / "clearing-20260511.csv"
    write_cnaps_file(result, cnaps_rows(store.all(), changes))
    return result


def report_rows(path: str) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_clean_day_goes_straight_through_with_its_report(workflow_runner: WorkflowRunner) -> None:
    folder = workflow_runner.work_dir
    result_file = day(folder)

    run = workflow_runner.run(WORKFLOW, {"file": str(result_file)})

    run.assert_done(outputs={"matched": 3, "mismatched": 0})
    report = run.outputs["report"]
    assert report == str(folder / "outbox" / "reconciliation" / "cnaps-reconciliation-clearing-20260511.csv")
    assert [(r["reference"], r["outcome"], r["problems"]) for r in report_rows(report)] == [
        ("VCH-00000001", "matched", ""),
        ("VCH-00000002", "matched", ""),
        ("VCH-00000003", "matched", ""),
    ]


def test_every_mismatch_is_listed_in_one_parked_run_and_in_the_report(
    workflow_runner: WorkflowRunner,
) -> None:
    changes = ResultChanges(
        drop=frozenset({"VCH-00000003"}),
        alter_amounts={"VCH-00000002": Decimal("88000.10")},
    )
    result_file = day(workflow_runner.work_dir, changes, extra=1)

    run = workflow_runner.run(WORKFLOW, {"file": str(result_file)})

    run.assert_parked(code="recon_mismatch", step="settle")
    reason = run.reason or ""
    assert "0 of 3 reference(s) matched (ours 3 record(s), theirs 3)" in reason
    assert "VCH-00000001: 2 records in theirs" in reason
    assert "VCH-00000002: amount differs (ours 88000.00, theirs 88000.10)" in reason
    assert "VCH-00000003: in ours, missing in theirs" in reason
    report = run.step("report").output["path"]
    rows = {r["reference"]: r for r in report_rows(report)}
    assert (rows["VCH-00000001"]["outcome"], rows["VCH-00000001"]["problems"]) == (
        "mismatch",
        "duplicate_theirs",
    )
    assert rows["VCH-00000002"]["problems"] == "field"
    assert rows["VCH-00000002"]["detail"] == "VCH-00000002: amount differs (ours 88000.00, theirs 88000.10)"
    assert rows["VCH-00000003"]["problems"] == "missing_theirs"


def test_a_rejected_transfer_is_a_mismatch(workflow_runner: WorkflowRunner) -> None:
    folder = workflow_runner.work_dir
    result_file = day(folder, ResultChanges(reject=frozenset({"VCH-00000001"})))

    run = workflow_runner.run(WORKFLOW, {"file": str(result_file)})

    run.assert_parked("VCH-00000001: status 'rejected' in theirs, expected settled", code="recon_mismatch")


def test_a_malformed_result_file_is_refused_with_its_line(workflow_runner: WorkflowRunner) -> None:
    folder = workflow_runner.work_dir
    result_file = day(folder)
    text = result_file.read_text(encoding="utf-8").replace("TOTAL,3,", "TOTAL,4,")
    result_file.write_text(text, encoding="utf-8")

    run = workflow_runner.run(WORKFLOW, {"file": str(result_file)})

    run.assert_parked("TOTAL says 4 lines but the file has 3", code="malformed_message", step="results")
    run.assert_not_run("report")


def test_no_journal_means_a_person_looks(workflow_runner: WorkflowRunner) -> None:
    folder = workflow_runner.work_dir
    result_file = day(folder)
    (folder / "outbox" / "cnaps-submissions.jsonl").unlink()

    run = workflow_runner.run(WORKFLOW, {"file": str(result_file)})

    run.assert_parked(step="journal")
    assert "cnaps-submissions.jsonl" in (run.reason or "")
