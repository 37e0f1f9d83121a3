"""The RMB scenario end to end: real Chromium, the example portal and reporting platform, the queue.

One small batch (16 inbound messages with every kind of defect, 6 outbound instructions) runs
through ``orchestrator.queue.service.Service`` exactly as ``rpa demo`` drives it
(``examples/scenarios/rmb_run.py``): folder watchers, runners, four-eyes approval by a second
user, CIPS status reports. The tests then read the platforms' own stores, the outbox, the queue
and the audit trail — not the scenario's evaluation — and check the business outcome. A second
run injects HTTP 500s *after* the portal and the reporting platform handled the request (the
"did my payment go through?" case) and checks that nothing is posted twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from examples.platforms.portal.store import CreditStore
from examples.platforms.reporting.store import ReportStore
from examples.scenarios import rmb
from examples.scenarios.rmb_run import RmbRun, run_rmb
from orchestrator.queue.manual import ManualQueue
from orchestrator.registry import SkillRegistry
from skills.think.check_skills import DEFAULT_SANCTIONS_LIST
from skills.think.payments import PaymentMessage, StatusReport, parse_message

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
SDN = DEFAULT_SANCTIONS_LIST  # the snapshot shipped with the package
INBOUND_DEFECTS = {
    "malformed": 1,
    "invalid_account": 1,
    "invalid_bank_code": 1,
    "screening_hit": 1,
    "missing_purpose_code": 2,
    "above_four_eyes": 1,
}


def _require_parts() -> None:
    if not CHROMIUM.is_file():
        pytest.skip(f"end-to-end RMB tests need Chromium, but {CHROMIUM} is missing")
    if not (SDN / "sdn.csv").is_file():
        pytest.skip(f"end-to-end RMB tests screen names, but the OFAC snapshot {SDN / 'sdn.csv'} is missing")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RmbRun]:
    _require_parts()
    run = run_rmb(
        tmp_path_factory.mktemp("rmb"),
        size=16,
        seed=20260511,
        runners=2,
        outbound=6,
        inbound_defects=INBOUND_DEFECTS,
        outbound_defects={"screening_hit": 1, "invalid_bank_code": 1},
        four_eyes=1,
        rejections=1,
        duplicates=1,
        keep_open=True,
    )
    try:
        yield run
    finally:
        run.store.close()


@pytest.fixture(scope="module")
def truth(scenario: RmbRun) -> dict:
    return rmb.load_truth(scenario.workspace)


def _credits(run: RmbRun) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for credit in CreditStore(run.workspace / "platforms" / "portal" / "portal.sqlite3").all():
        grouped.setdefault(credit.reference, []).append(credit)
    return grouped


def _clean_inbound(truth: dict) -> list[dict]:
    return [m for m in truth["inbound"] if m["defect"] is None]


def test_the_batch_meets_the_targets(scenario: RmbRun) -> None:
    report = scenario.report
    assert report.clean_total > 0
    assert report.clean_straight_through == report.clean_total, report.notes
    assert report.defects_caught == report.defects_total, report.notes
    assert report.wrong_postings == 0, report.notes
    assert report.failed == 0
    assert "audit chain verifies" in report.notes


def test_every_clean_credit_is_on_the_portal_once_with_its_amount_and_account(scenario, truth) -> None:
    credits = _credits(scenario)
    clean = _clean_inbound(truth)
    assert sorted(credits) == sorted(m["reference"] for m in clean)
    for message in clean:
        (credit,) = credits[message["reference"]]
        assert credit.amount == Decimal(message["amount"])
        assert credit.account_number == message["creditor_account"]
        assert credit.beneficiary_name == message["creditor_name"]
        assert credit.currency == "CNY"
        assert credit.posted_by == "bot"


def test_every_posted_credit_is_reported_with_its_bop_code(scenario, truth) -> None:
    credits = _credits(scenario)
    reports = {
        r.record["reference"]: r
        for r in ReportStore(scenario.workspace / "platforms" / "reporting" / "reporting.sqlite3").all()
    }
    clean = _clean_inbound(truth)
    assert sorted(reports) == sorted(m["reference"] for m in clean)
    for message in clean:
        record = reports[message["reference"]].record
        assert Decimal(record["amount"]) == Decimal(message["amount"])
        assert record["transaction_code"] == message["reporting_code"]
        assert record["bank_txn_no"] == credits[message["reference"]][0].txn_no
        assert (record["direction"], record["payee_country"]) == ("inbound", "CN")
        assert record["payer_country"] == message["debtor_country"]
        assert reports[message["reference"]].received_count == 1


def test_every_credited_message_is_answered_with_a_pacs002(scenario, truth) -> None:
    folder = scenario.workspace / rmb.PACS002_OUTBOX
    clean = _clean_inbound(truth)
    assert sorted(p.stem for p in folder.glob("*.xml")) == sorted(m["reference"] for m in clean)
    for message in clean:
        status = parse_message((folder / f"{message['reference']}.xml").read_bytes())
        assert isinstance(status, StatusReport)
        assert status.schema_validated
        assert [t.status for t in status.transactions] == ["ACCC"]
        assert status.transactions[0].original_instruction_id == message["reference"]


def test_each_defective_message_waits_for_a_person_with_its_reason(scenario, truth) -> None:
    manual = ManualQueue(scenario.store, scenario.queue, SkillRegistry.from_entry_points())
    waiting = {e.item.reference: e.run for e in manual.entries() if e.item and e.item.bot == rmb.INBOUND_BOT}
    defective = [m for m in truth["inbound"] if m["defect"] not in (None, "duplicate")]
    assert sorted(waiting) == sorted(m["sha256"] for m in defective)
    for message in defective:
        run = waiting[message["sha256"]]
        assert run.reason_code == message["expected_reason_code"], (message["detail"], run.reason)
        if message["defect"] != "malformed":
            assert message["reference"] in run.reason


def test_a_message_dropped_twice_is_processed_once_and_the_copy_recorded(scenario, truth) -> None:
    (copy,) = [m for m in truth["inbound"] if m["duplicate_of"]]
    (recorded,) = scenario.queue.duplicates(rmb.INBOUND_BOT)
    assert recorded.reference == copy["sha256"]
    assert Path(recorded.source_path).name == copy["file_name"]
    failed = scenario.workspace / "inbox" / "failed"
    assert (failed / copy["file_name"]).is_file()
    assert len(_credits(scenario)[copy["reference"]]) == 1
    original = scenario.queue.find_item(rmb.INBOUND_BOT, copy["sha256"])
    assert original.status.value == "done"
    assert Path(original.source_path).name == copy["duplicate_of"]


def test_a_large_outbound_payment_is_sent_only_after_a_second_person_approved_it(scenario, truth) -> None:
    (large,) = [o for o in truth["outbound"] if o["defect"] == "above_four_eyes"]
    item = scenario.queue.find_item(rmb.OUTBOUND_BOT, large["reference"])
    assert item.status.value == "done"
    assert item.straight_through is False
    steps = {s.step_id: s for s in scenario.store.get_steps(item.run_id)}
    assert steps["approval"].output["approved_by"] == rmb.APPROVER != large["inputs"]["maker"]
    assert steps["pacs008"].started_at > steps["approval"].finished_at
    approvals = [e for e in scenario.store.audit_events(kind="manual_approve") if e.run_id == item.run_id]
    assert [e.actor for e in approvals] == [rmb.APPROVER]
    message = parse_message(
        (scenario.workspace / rmb.PACS008_OUTBOX / f"{large['reference']}.xml").read_bytes()
    )
    assert isinstance(message, PaymentMessage)
    assert message.schema_validated
    assert message.payments[0].settlement_amount.value == Decimal(large["amount"])


def test_outbound_defects_are_stopped_before_a_pacs008_is_written(scenario, truth) -> None:
    folder = scenario.workspace / rmb.PACS008_OUTBOX
    for instruction in truth["outbound"]:
        item = scenario.queue.find_item(rmb.OUTBOUND_BOT, instruction["reference"])
        sent = (folder / f"{instruction['reference']}.xml").exists()
        if instruction["defect"] in (None, "above_four_eyes"):
            assert sent, instruction["reference"]
            assert item.status.value == "done"
        else:
            assert not sent, instruction["reference"]
            assert (item.status.value, item.reason_code) == (
                "needs_review",
                instruction["expected_reason_code"],
            )


def test_each_cips_status_is_tracked_and_a_rejection_goes_to_a_person(scenario, truth) -> None:
    log = scenario.workspace / rmb.STATUS_LOG
    records = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        assert record["original_message_id"] not in records  # one record per payment
        records[record["original_message_id"]] = record
    sent = [o for o in truth["outbound"] if o["cips_answer"]]
    assert sorted(records) == sorted(o["reference"] for o in sent)
    status_items = {i.reference: i for i in scenario.queue.list_items(bot=rmb.STATUS_BOT)}
    assert len(status_items) == len(sent)
    answers = [
        json.loads(line)
        for line in (scenario.workspace / ".rmb" / "cips-answers.jsonl").read_text().splitlines()
    ]
    for answer in answers:
        item = status_items[answer["sha256"]]
        record = records[answer["original_message_id"]]
        if answer["status"] == "RJCT":
            assert (record["status"], record["reason_code"]) == ("RJCT", answer["reason_code"])
            assert (item.status.value, item.reason_code) == ("needs_review", answer["reason_code"])
        else:
            assert record["status"] == "ACSC"
            assert item.status.value == "done"
    assert sum(a["status"] == "RJCT" for a in answers) == 1


def test_the_audit_chain_verifies(scenario: RmbRun) -> None:
    assert scenario.store.verify_audit().ok


def test_platform_faults_after_the_fact_never_double_post(tmp_path_factory: pytest.TempPathFactory) -> None:
    _require_parts()
    faults = {"fail_rate": 0.15, "fail_phase": "after", "seed": 3}
    run = run_rmb(
        tmp_path_factory.mktemp("rmb-faults"),
        size=8,
        seed=99,
        runners=2,
        outbound=0,
        four_eyes=0,
        inbound_defects={},
        duplicates=0,
        platform_options={"portal": faults, "reporting": faults},
    )
    assert run.platform_faults["portal"]["injected_failures"] > 0
    assert run.report.wrong_postings == 0, run.report.notes
    assert run.report.clean_straight_through == run.report.clean_total == 8, run.report.notes
    for reference, credits in _credits(run).items():
        assert len(credits) == 1, reference
