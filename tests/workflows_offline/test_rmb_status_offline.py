"""workflows/rmb_status.yaml offline: pacs.002 from the CIPS stand-in, matched, recorded, routed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rmb_offline_support import OUTBOUND, STATUS, require_sanctions_list, runner

from examples.cips.responder import CipsResponder
from examples.messages.outbound import generate_outbound
from orchestrator.testing import WorkflowRunner


@pytest.fixture
def work(tmp_path: Path) -> WorkflowRunner:
    return runner(tmp_path)


@pytest.fixture(scope="module")
def instructions():
    require_sanctions_list()
    return [i for i in generate_outbound(6, seed=9, four_eyes=0, defect_counts={}) if i.defect is None][:2]


def _sent(work: WorkflowRunner, instructions) -> None:
    for instruction in instructions:
        work.run(OUTBOUND, instruction.inputs).assert_done()


def _answer(work: WorkflowRunner, plan: dict[str, str]) -> dict[str, Path]:
    responder = CipsResponder(
        work.work_dir / "outbox" / "pacs008",
        work.work_dir / "inbox" / "rmb-status",
        work.work_dir / "cips.jsonl",
        plan=plan,
    )
    return {
        a.original_message_id: work.work_dir / "inbox" / "rmb-status" / a.file_name
        for a in responder.answer_pending()
    }


def _log(work: WorkflowRunner) -> list[dict]:
    return [
        json.loads(line)
        for line in (work.work_dir / "outbox" / "outbound-status.jsonl").read_text().splitlines()
    ]


def test_accepted_and_rejected_statuses_are_recorded_and_a_rejection_goes_to_a_person(
    work: WorkflowRunner, instructions
) -> None:
    accepted, rejected = instructions
    _sent(work, instructions)
    reports = _answer(work, {accepted.reference: "ACSC", rejected.reference: "AC04"})

    ok = work.run(STATUS, {"file": str(reports[accepted.reference])})
    refused = work.run(STATUS, {"file": str(reports[rejected.reference])})

    ok.assert_done(outputs={"original_message_id": accepted.reference, "status": "ACSC", "reason_code": None})
    refused.assert_parked(f"CIPS rejected payment {rejected.reference}", code="AC04", step="rejected")
    assert "Account number has been closed" in refused.manual_reason
    assert rejected.inputs["creditor_name"] in refused.manual_reason
    records = {r["original_message_id"]: r for r in _log(work)}
    assert records[accepted.reference]["status"] == "ACSC"
    assert (records[rejected.reference]["status"], records[rejected.reference]["reason_code"]) == (
        "RJCT",
        "AC04",
    )
    assert records[rejected.reference]["amount"] == rejected.inputs["amount"]


def test_a_status_for_a_payment_we_never_sent_is_not_recorded(work: WorkflowRunner, instructions) -> None:
    _sent(work, instructions[:1])
    reports = _answer(work, {instructions[0].reference: "ACSC"})
    (work.work_dir / "outbox" / "pacs008" / f"{instructions[0].reference}.xml").unlink()

    run = work.run(STATUS, {"file": str(reports[instructions[0].reference])})

    run.assert_parked(code="file_not_found", step="original")
    assert not (work.work_dir / "outbox" / "outbound-status.jsonl").exists()


def test_a_file_that_is_not_a_status_report_is_refused(work: WorkflowRunner, instructions) -> None:
    _sent(work, instructions[:1])
    pacs008 = work.work_dir / "outbox" / "pacs008" / f"{instructions[0].reference}.xml"

    run = work.run(STATUS, {"file": str(pacs008)})

    run.assert_parked("expected a pacs.002", code="not_one_status", step="one_status")
