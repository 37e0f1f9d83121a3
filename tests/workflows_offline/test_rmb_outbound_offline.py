"""workflows/rmb_outbound.yaml offline: checks, four-eyes approval and the pacs.008 for CIPS."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from rmb_offline_support import OUTBOUND, require_sanctions_list, runner

from examples.messages.outbound import OutboundInstruction, generate_outbound
from orchestrator.testing import WorkflowRunner
from skills.think.payments import PaymentMessage, parse_message


@pytest.fixture(scope="module")
def batch() -> list[OutboundInstruction]:
    require_sanctions_list()
    defects = {"screening_hit": 1, "invalid_bank_code": 1, "invalid_account": 1, "missing_purpose_code": 1}
    return generate_outbound(10, seed=5, four_eyes=2, defect_counts=defects)


@pytest.fixture
def work(tmp_path: Path) -> WorkflowRunner:
    return runner(tmp_path)


def _first(batch: list[OutboundInstruction], defect: str | None) -> OutboundInstruction:
    return next(i for i in batch if i.defect == defect)


def _approve(work: WorkflowRunner, run_id: str, user: str) -> None:
    """What the manual queue's approve action does to the parked run."""
    work.store.reopen_run(
        run_id,
        actor=user,
        action="approve",
        step_id="approval",
        overrides={"approval": {"approved_by": user}},
        payload={"step": "approval"},
    )


def test_a_clean_instruction_becomes_a_valid_cips_pacs008(work: WorkflowRunner, batch) -> None:
    instruction = _first(batch, None)
    run = work.run(OUTBOUND, instruction.inputs)

    run.assert_done(outputs={"message_id": instruction.reference, "approved_by": None})
    run.assert_not_run("approval")
    message = parse_message(Path(run.outputs["pacs008"]).read_bytes())
    assert isinstance(message, PaymentMessage)
    assert message.schema_validated
    assert message.message_id == instruction.reference
    (payment,) = message.payments
    inputs = instruction.inputs
    assert payment.settlement_amount.currency == "CNY"
    assert payment.settlement_amount.value == Decimal(inputs["amount"])
    assert (payment.settlement_method, payment.clearing_system) == ("CLRG", "CIP")
    assert payment.debtor.account.id == inputs["debtor_account"]
    assert payment.creditor.name == inputs["creditor_name"]
    assert payment.creditor.account.id == inputs["creditor_account"]
    assert payment.creditor_agent.bic == inputs["creditor_agent_bic"]
    assert payment.purpose.code == inputs["purpose"]
    assert payment.regulatory_reporting[0].code == inputs["reporting_code"]
    assert payment.references.uetr == inputs["uetr"]


def test_above_the_threshold_a_second_person_must_approve(work: WorkflowRunner, batch) -> None:
    instruction = _first(batch, "above_four_eyes")
    run = work.run(OUTBOUND, instruction.inputs)

    run.assert_parked(f"maker {instruction.inputs['maker']}", code="awaiting_approval", step="approval")
    assert not (work.work_dir / "outbox").exists()

    _approve(work, run.run_id, instruction.inputs["maker"])  # the maker tries to approve it
    refused = work.resume(run)
    refused.assert_parked("cannot also approve it", code="four_eyes_violation", step="approval")
    assert not (work.work_dir / "outbox").exists()

    _approve(work, run.run_id, "checker")
    approved = work.resume(run)
    approved.assert_done(outputs={"approved_by": "checker"})
    assert Path(approved.outputs["pacs008"]).is_file()


@pytest.mark.parametrize(
    ("defect", "code"),
    [
        ("screening_hit", "screening_hit"),
        ("invalid_bank_code", "invalid_identifier"),
        ("invalid_account", "invalid_identifier"),
        ("missing_purpose_code", "missing_purpose"),
    ],
)
def test_a_defective_instruction_goes_to_a_person(
    work: WorkflowRunner, batch, defect: str, code: str
) -> None:
    instruction = _first(batch, defect)
    run = work.run(OUTBOUND, instruction.inputs)

    run.assert_parked(instruction.reference, code=code, step="exceptions")
    assert not (work.work_dir / "outbox").exists()


def test_a_large_defective_instruction_shows_the_defect_not_the_approval(work: WorkflowRunner, batch) -> None:
    instruction = _first(batch, "above_four_eyes")
    inputs = {**instruction.inputs, "purpose": ""}
    run = work.run(OUTBOUND, inputs)

    run.assert_parked("four_eyes: amount", code="missing_purpose", step="exceptions")
    assert "missing_purpose: cross-border RMB payment without a purpose" in run.manual_reason


def test_an_instruction_without_a_beneficiary_bank_is_refused(work: WorkflowRunner, batch) -> None:
    inputs = {**_first(batch, None).inputs, "creditor_agent_bic": "", "creditor_agent_cnaps": ""}
    run = work.run(OUTBOUND, inputs)

    run.assert_parked("names no beneficiary bank", code="missing_creditor_agent", step="bank_given")


def test_a_beneficiary_bank_in_china_is_named_by_its_cnaps_code(work: WorkflowRunner, batch) -> None:
    inputs = {**_first(batch, None).inputs, "creditor_agent_bic": "", "creditor_agent_cnaps": "104100000004"}
    run = work.run(OUTBOUND, inputs)

    run.assert_done()
    (payment,) = parse_message(Path(run.outputs["pacs008"]).read_bytes()).payments
    assert payment.creditor_agent.cnaps_code == "104100000004"
