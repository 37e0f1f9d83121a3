"""workflows/rmb_inbound.yaml offline: the real checks and writers, fakes for the portal and RCPMIS."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from rmb_offline_support import (
    INBOUND,
    FakePortal,
    FakeReporting,
    require_sanctions_list,
    runner,
    write_messages,
)

from examples.messages.inbound import InboundMessage, generate_inbound
from orchestrator.testing import WorkflowRunner, fake
from skills import BusinessError, TechnicalError
from skills.think.payments import StatusReport, parse_message, write_mt

DEFECTS = {
    "malformed": 2,
    "invalid_account": 2,
    "invalid_bank_code": 2,
    "screening_hit": 2,
    "missing_purpose_code": 2,
    "above_four_eyes": 1,
}


@pytest.fixture(scope="module")
def batch() -> list[InboundMessage]:
    require_sanctions_list()
    return generate_inbound(30, seed=31, defect_counts=DEFECTS, duplicates=0)


@pytest.fixture
def work(tmp_path: Path) -> WorkflowRunner:
    return runner(tmp_path)


def _first(batch: list[InboundMessage], **wanted: object) -> InboundMessage:
    return next(m for m in batch if all(getattr(m, k) == v for k, v in wanted.items()))


def _run(work: WorkflowRunner, message: InboundMessage, **fakes: object):
    (path,) = write_messages(work.work_dir / "inbox", [message]).values()
    portal, reporting = fakes.pop("portal", FakePortal()), fakes.pop("reporting", FakeReporting())
    skills = {"do.browser.submit_form": portal, "do.http_post": reporting, **fakes}
    return work.run(INBOUND, {"file": str(path)}, fakes=skills), portal, reporting


@pytest.mark.parametrize("fmt", ["swift_mt", "iso20022"])
def test_a_clean_message_is_posted_reported_and_answered(work: WorkflowRunner, batch, fmt: str) -> None:
    message = _first(batch, defect=None, format=fmt)
    run, portal, reporting = _run(work, message)

    run.assert_done(outputs={"reference": message.reference, "txn_no": "TXN-00000001"})
    (posted,) = portal.posted
    assert posted["Account number"] == message.creditor_account
    assert posted["Beneficiary name"] == message.creditor_name
    assert posted["Amount"] == message.amount
    assert posted["Currency"] == "CNY"
    assert posted["Reference"] == message.reference
    assert posted["Purpose code"] == message.purpose
    (body,) = reporting.bodies
    assert body["direction"] == "inbound"
    assert Decimal(str(body["amount"])) == message.amount
    assert body["transaction_code"] == message.reporting_code
    assert body["payer_country"] == message.debtor_country != "CN"
    assert body["payee_country"] == "CN"
    assert body["payer_account"] == message.debtor_account
    assert body["bank_txn_no"] == "TXN-00000001"
    assert body["uetr"] == message.uetr
    status = parse_message(Path(run.outputs["pacs002"]).read_bytes())
    assert isinstance(status, StatusReport)
    assert status.schema_validated
    (answer,) = status.transactions
    assert answer.status == "ACCC"
    assert answer.original_instruction_id == message.reference


def test_a_chinese_beneficiary_name_travels_unchanged(work: WorkflowRunner, batch) -> None:
    message = next(m for m in batch if m.clean and not m.creditor_name.isascii())
    run, portal, reporting = _run(work, message)

    run.assert_done()
    assert portal.posted[0]["Beneficiary name"] == message.creditor_name
    assert reporting.bodies[0]["payee_name"] == message.creditor_name


@pytest.mark.parametrize(
    "expected",
    [
        "malformed_message",
        "invalid_identifier",
        "screening_hit",
        "missing_purpose",
        "missing_reporting_code",
        "four_eyes",
    ],
)
def test_each_defect_goes_to_a_person_before_anything_is_posted(
    work: WorkflowRunner, batch, expected: str
) -> None:
    for message in (m for m in batch if m.expected_reason_code == expected):
        run, portal, reporting = _run(work, message)

        run.assert_parked(message.reference if expected != "malformed_message" else "", code=expected)
        assert portal.posted == [], message.detail
        assert reporting.bodies == [], message.detail
        assert not list((work.work_dir / "outbox").rglob("*.xml"))


def test_the_reason_names_the_party_and_the_list_entry(work: WorkflowRunner, batch) -> None:
    message = _first(batch, defect="screening_hit")
    run, _, _ = _run(work, message)

    assert message.listed is not None
    run.assert_parked("is close to", code="screening_hit", step="exceptions")
    assert f"entry {message.listed.uid}" in run.manual_reason


def test_every_reason_is_listed_at_once(work: WorkflowRunner, batch) -> None:
    clean = _first(batch, defect=None, format="swift_mt")
    text = clean.content.decode()
    amount_line = next(line for line in text.split("\r\n") if line.startswith(":32A:"))
    text = text.replace(amount_line, amount_line[:14] + "2500000,00")  # above four-eyes
    text = text.replace(f":59:/{clean.creditor_account}", ":59:/1234567")  # 7 digits
    message = InboundMessage(**{**clean.__dict__, "content": text.encode(), "file_name": "two-defects.fin"})
    run, portal, _ = _run(work, message)

    run.assert_parked("2 reason(s)", code="four_eyes", step="exceptions")
    assert "four_eyes: amount 2500000.00 is above the four-eyes threshold" in run.manual_reason
    assert "invalid_identifier: creditor account '1234567'" in run.manual_reason
    assert portal.posted == []


def test_a_credit_in_doubt_is_looked_up_not_posted_twice(work: WorkflowRunner, batch) -> None:
    message = _first(batch, defect=None)
    posted = {"url": "http://portal.test/credits", "values": {"txn_no": "TXN-00000007"}}
    unsure = fake(
        posted,
        raises=TechnicalError("the confirmation page did not load", applied=None),
        on_call=1,
        found={**posted, "found_by_lookup": True},
    )
    run, _, reporting = _run(work, message, portal=unsure)

    run.assert_done(outputs={"txn_no": "TXN-00000007"})
    run.assert_step("post", "done", adopted=True)
    assert len(unsure.calls) == 1
    assert len(unsure.verify_calls) == 1
    assert reporting.bodies[0]["bank_txn_no"] == "TXN-00000007"


def test_a_report_in_doubt_is_checked_on_the_reporting_platform(work: WorkflowRunner, batch) -> None:
    message = _first(batch, defect=None)
    created = {"status": 201, "found": True, "json_body": {"report_id": "RPT-00000001"}, "text": ""}
    reporting = fake(created, raises=TechnicalError("POST /api/reports answered HTTP 502"), on_call=1)
    on_platform = {"status": 200, "found": True, "json_body": {"report_id": "RPT-00000042"}, "text": ""}
    run, _, _ = _run(work, message, reporting=reporting, **{"do.http_get": on_platform})

    run.assert_done(outputs={"report_id": "RPT-00000042"})
    run.assert_step("report", "done", adopted=True)
    (lookup,) = run.calls("do.http_get")
    assert lookup.params["url"] == f"/api/reports/{message.reference}"
    assert len(reporting.calls) == 1  # never posted twice


def test_a_portal_validation_message_goes_to_a_person(work: WorkflowRunner, batch) -> None:
    refused = BusinessError("Account number must be 8 to 32 digits", code="platform_validation")
    run, _, reporting = _run(work, _first(batch, defect=None), portal=refused)

    run.assert_parked("Account number must be 8 to 32 digits", code="platform_validation", step="post")
    assert reporting.bodies == []


def _rewritten(message: InboundMessage, name: str, **debtor_changes: object) -> InboundMessage:
    payment = parse_message(message.content).payments[0]
    payment.debtor = payment.debtor.model_copy(update=debtor_changes)
    text = write_mt(payment)
    return InboundMessage(**{**message.__dict__, "content": text.encode(), "file_name": name})


def test_without_an_address_country_the_payer_country_is_its_banks(work: WorkflowRunner, batch) -> None:
    clean = _first(batch, defect=None, format="swift_mt")
    message = _rewritten(clean, "no-country.fin", country=None, town=None, address_lines=["SOMEWHERE 1"])
    assert ":50K:" in message.content.decode()
    run, _, reporting = _run(work, message)

    run.assert_done()
    assert reporting.bodies[0]["payer_country"] == clean.debtor_country


def test_nothing_is_posted_that_cannot_be_reported(work: WorkflowRunner, batch) -> None:
    clean = _first(batch, defect=None, format="swift_mt")
    message = _rewritten(clean, "payer-in-cn.fin", country="CN")
    run, portal, _ = _run(work, message)

    run.assert_parked(
        "payer's country abroad (found 'CN')", code="incomplete_reporting_data", step="reportable"
    )
    assert portal.posted == []


def test_an_mt103_without_an_ordering_institution_uses_its_sender(work: WorkflowRunner, batch) -> None:
    clean = _first(batch, defect=None, format="swift_mt")
    payment = parse_message(clean.content).payments[0]
    payment.debtor_agent = None
    payment.debtor = payment.debtor.model_copy(update={"country": None, "town": None, "address_lines": ["X"]})
    message = InboundMessage(
        **{**clean.__dict__, "content": write_mt(payment).encode(), "file_name": "no-52a.fin"}
    )
    assert ":52A:" not in message.content.decode()
    run, _, reporting = _run(work, message)

    run.assert_done()
    assert reporting.bodies[0]["payer_country"] == clean.debtor_country
    roles = [(i["role"], i["valid"]) for i in run.step("identifiers").output["results"]]
    assert ("debtor_agent", True) in roles
