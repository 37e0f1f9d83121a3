"""The RMB test data: the message generator's ground truth holds, and the CIPS stand-in answers once."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from rmb_offline_support import SDN, require_sanctions_list

from examples.cips.responder import CipsResponder
from examples.messages.inbound import DEFECTS, FOUR_EYES_THRESHOLD, generate_inbound
from examples.messages.outbound import generate_outbound
from examples.messages.sanctioned import ListProximity
from skills.think.payments import (
    MessageFormatError,
    PaymentMessage,
    StatusReport,
    build_pacs008,
    parse_message,
)

VALUE_DATE = date(2026, 5, 11)


@pytest.fixture(scope="module")
def batch():
    require_sanctions_list()
    return generate_inbound(60, seed=4, value_date=VALUE_DATE, duplicates=2)


def test_the_same_seed_gives_the_same_files(batch) -> None:
    again = generate_inbound(60, seed=4, value_date=VALUE_DATE, duplicates=2)
    assert [(m.file_name, m.content) for m in again] == [(m.file_name, m.content) for m in batch]
    other = generate_inbound(60, seed=5, value_date=VALUE_DATE, duplicates=2)
    assert {m.content for m in other}.isdisjoint({m.content for m in batch})


def test_the_defects_are_spread_as_planned(batch) -> None:
    counts = Counter(m.defect for m in batch)
    assert counts["duplicate"] == 2
    assert sum(counts[d] for d in DEFECTS) == 12  # 20 % of 60
    assert all(counts[d] == 2 for d in DEFECTS)
    assert Counter(m.format for m in batch if not m.duplicate_of) == {"swift_mt": 30, "iso20022": 30}
    exact = generate_inbound(8, seed=1, defect_counts={"malformed": 3, "screening_hit": 1}, duplicates=0)
    assert Counter(m.defect for m in exact) == {None: 4, "malformed": 3, "screening_hit": 1}
    with pytest.raises(ValueError, match="unknown defect"):
        generate_inbound(4, seed=1, defect_counts={"typo": 1})


def test_every_readable_message_says_what_the_truth_says(batch) -> None:
    for message in batch:
        if message.defect == "malformed":
            continue
        parsed = parse_message(message.content)
        assert isinstance(parsed, PaymentMessage)
        (payment,) = parsed.payments
        assert payment.references.instruction_id == message.reference
        assert payment.settlement_amount.currency == "CNY"
        assert payment.settlement_amount.value == message.amount
        assert payment.value_date == VALUE_DATE
        assert payment.creditor.account.id == message.creditor_account
        assert payment.creditor.name == message.creditor_name
        assert payment.debtor.name == message.debtor_name
        assert payment.debtor.country == message.debtor_country
        codes = [r.code for r in payment.regulatory_reporting]
        assert codes == ([message.reporting_code] if message.reporting_code else [None])
        if message.defect == "above_four_eyes":
            assert message.amount > FOUR_EYES_THRESHOLD
        else:
            assert message.amount <= FOUR_EYES_THRESHOLD


def test_malformed_files_are_refused_with_a_located_reason(batch) -> None:
    malformed = [m for m in batch if m.defect == "malformed"]
    assert malformed
    for message in malformed:
        with pytest.raises(MessageFormatError, match=r"line \d+"):
            parse_message(message.content)


def test_a_resent_copy_is_byte_identical_and_comes_later(batch) -> None:
    names = [m.file_name for m in batch]
    for copy in (m for m in batch if m.duplicate_of):
        (original,) = [m for m in batch if m.file_name == copy.duplicate_of]
        assert copy.content == original.content
        assert original.defect is None
        assert names.index(copy.file_name) > names.index(original.file_name)


def test_hits_are_listed_parties_and_clean_parties_are_far_from_the_list(batch) -> None:
    proximity = ListProximity(SDN)
    for message in batch:
        if message.defect == "screening_hit":
            assert message.listed is not None
            assert message.listed.written in (message.debtor_name, message.creditor_name)
        else:
            assert not proximity.too_close(message.debtor_name, message.creditor_name), message.file_name


def test_outbound_instructions_are_planned_with_their_cips_answers() -> None:
    require_sanctions_list()
    instructions = generate_outbound(20, seed=8, four_eyes=3, rejections=2)
    counts = Counter(i.defect for i in instructions)
    assert counts["above_four_eyes"] == 3
    assert sum(n for d, n in counts.items() if d not in (None, "above_four_eyes")) == 3  # 15 %
    for instruction in instructions:
        large = Decimal(instruction.inputs["amount"]) > FOUR_EYES_THRESHOLD
        assert large == (instruction.defect == "above_four_eyes")
        assert (instruction.cips_answer is not None) == instruction.will_be_sent
    answers = Counter(i.cips_answer for i in instructions if i.cips_answer)
    assert sum(n for code, n in answers.items() if code != "ACSC") == 2


def _sent(folder: Path, batch, count: int) -> list[str]:
    folder.mkdir(parents=True)
    ids = []
    for message in [m for m in batch if m.format == "iso20022" and m.clean][:count]:
        payment = parse_message(message.content).payments[0]
        payment.references.message_id = message.reference
        (folder / f"{message.reference}.xml").write_text(build_pacs008(payment, cips=True), encoding="utf-8")
        ids.append(message.reference)
    return ids


def test_cips_answers_each_payment_once_as_planned(tmp_path: Path, batch) -> None:
    sent = _sent(tmp_path / "outbox", batch, 3)
    inbox, log = tmp_path / "inbox", tmp_path / "answers.jsonl"
    plan = {sent[0]: "ACSC", sent[1]: "AC04"}
    responder = CipsResponder(tmp_path / "outbox", inbox, log, plan=plan, reject_rate=0.0)

    answers = responder.answer_pending()

    assert [(a.original_message_id, a.status, a.reason_code) for a in answers] == [
        (sent[0], "ACSC", None),
        (sent[1], "RJCT", "AC04"),
        (sent[2], "ACSC", None),
    ]
    assert sorted(p.name for p in inbox.iterdir()) == sorted(a.file_name for a in answers)  # no .part left
    for answer in answers:
        report = parse_message((inbox / answer.file_name).read_bytes())
        assert isinstance(report, StatusReport)
        assert report.schema_validated
        (status,) = report.transactions
        assert (status.original_message_id or report.original_message_id) == answer.original_message_id
        assert status.status == answer.status
        assert [r.code for r in status.reasons] == ([answer.reason_code] if answer.reason_code else [])
    again = CipsResponder(tmp_path / "outbox", inbox, log, plan=plan)
    assert again.answer_pending() == []  # a restarted responder never answers twice
    assert len(again.answered()) == 3


def test_cips_rejects_a_share_of_unplanned_payments_reproducibly(tmp_path: Path) -> None:
    one = CipsResponder(tmp_path, tmp_path, tmp_path / "a.jsonl", reject_rate=0.3, seed=1)
    two = CipsResponder(tmp_path, tmp_path, tmp_path / "b.jsonl", reject_rate=0.3, seed=1)
    decisions = [one.decide(f"RO{n:05d}") for n in range(400)]
    assert decisions == [two.decide(f"RO{n:05d}") for n in range(400)]
    rejected = sum(d != "ACSC" for d in decisions)
    assert 80 < rejected < 160
