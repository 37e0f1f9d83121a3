"""workflows/cnaps_vouchers.yaml offline: the real engine and checks, fakes for OCR, speech and terminal.

The voucher reading (``see.voucher``), the recorded call (``speak.say``, ``hear.transcribe``) and
the clearing terminal (``do.terminal.submit_payment``) are faked; the amount, identifier and
requirement checks and the journal (``do.append_record``) run for real in the test's folder.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orchestrator.testing import WorkflowRun, WorkflowRunner, fake
from skills import BusinessError, TechnicalError
from skills.think.checks.amounts import amount_to_words

WORKFLOW = Path(__file__).resolve().parents[2] / "workflows" / "cnaps_vouchers.yaml"
PAYER_CARD = "6222021234567890128"  # a UnionPay card with a valid Luhn digit
PAYEE_ACCOUNT = "310066726018170015447"
PAYER_BANK = "102100099996"
PAYEE_BANK = "105100000017"
SERIAL = "CT00000042"


def voucher(
    amount: str = "1234.50",
    *,
    words: str | None = None,
    voucher_no: str = "20261234",
    changes: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What see.voucher answers for a voucher, every field read surely unless ``changes`` say so."""
    values = {
        "voucher_no": voucher_no,
        "date": "2026-05-11",
        "payer_name": "北京恒信贸易有限公司",
        "payer_account": PAYER_CARD,
        "payer_bank": "中国工商银行北京分行",
        "payer_bank_code": PAYER_BANK,
        "payee_name": "张伟",
        "payee_account": PAYEE_ACCOUNT,
        "payee_bank": "中国建设银行北京分行",
        "payee_bank_code": PAYEE_BANK,
        "amount_words": words or amount_to_words(Decimal(amount)).removeprefix("人民币"),
        "amount_figure": amount,
        "purpose": "货款",
    }
    fields = {
        name: {"value": value, "confidence": 0.98, "flagged": False, "reason": None, "raw": value}
        for name, value in values.items()
    }
    for name, change in (changes or {}).items():
        fields[name].update(change)
    return {
        "layout": "wire",
        "fields": fields,
        "flagged": [name for name, f in fields.items() if f["flagged"]],
        "amount_words": fields["amount_words"]["value"],
        "amount_figure": fields["amount_figure"]["value"],
        "skew_degrees": 0.0,
    }


def keyed(params: Any) -> dict[str, Any]:
    return {"serial_no": SERIAL, "status": f"提交成功 流水号 {SERIAL}", "found_by_lookup": False}


def said(params: Any) -> dict[str, Any]:
    return {
        "path": "/tmp/q.wav",
        "duration_seconds": 4.2,
        "sha256": "0" * 64,
        "sample_rate": 22050,
        "voice": "en-us",
    }


def heard(intent: str | None, text: str) -> dict[str, Any]:
    return {
        "text": text if intent else "",
        "mode": "grammar",
        "engine": "pocketsphinx",
        "matched": text if intent else None,
        "intent": intent,
        "confidence": 0.93 if intent else 0.2,
        "rejected_text": "" if intent else text,
        "coverage": 1.0 if intent else 0.0,
        "ambiguous_with": [],
        "duration_seconds": 1.6,
        "words": [],
    }


def run(
    runner: WorkflowRunner, read: Any, *, answer: Any = None, terminal: Any = None, **inputs: Any
) -> WorkflowRun:
    fakes = {
        "see.voucher": read,
        "speak.say": said,
        "hear.transcribe": answer if answer is not None else heard("confirm", "yes I confirm"),
        "do.terminal.submit_payment": terminal if terminal is not None else fake(function=keyed),
    }
    return runner.run(WORKFLOW, {"file": "inbox/cnaps-vouchers/voucher-0001.png", **inputs}, fakes=fakes)


def journal(runner: WorkflowRunner) -> list[dict[str, Any]]:
    path = runner.work_dir / "outbox" / "cnaps-submissions.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_clean_voucher_is_keyed_once_and_journalled(workflow_runner: WorkflowRunner) -> None:
    terminal = fake(function=keyed)

    result = run(workflow_runner, voucher("1234.50"), terminal=terminal)

    result.assert_done(
        outputs={"reference": "VCH-20261234", "serial_no": SERIAL, "amount": Decimal("1234.50")}
    )
    result.assert_not_run("call_question")
    result.assert_not_run("call_answer")
    [call] = terminal.calls
    assert call.params == {
        "reference": "VCH-20261234",
        "payer_account": PAYER_CARD,
        "payer_name": "北京恒信贸易有限公司",
        "payee_account": PAYEE_ACCOUNT,
        "payee_name": "张伟",
        "payee_bank_code": PAYEE_BANK,
        "amount": Decimal("1234.50"),
        "purpose": "货款",
        "check_fields": True,
    }
    [line] = journal(workflow_runner)
    assert line["reference"] == "VCH-20261234"
    assert line["serial_no"] == SERIAL
    assert Decimal(line["amount"]) == Decimal("1234.50")
    assert (line["payee_account"], line["payee_bank_code"], line["voucher_file"]) == (
        PAYEE_ACCOUNT,
        PAYEE_BANK,
        "voucher-0001.png",
    )


def test_a_large_amount_is_confirmed_by_the_recorded_call_first(workflow_runner: WorkflowRunner) -> None:
    answer = fake(heard("confirm", "yes I confirm the payment"))

    result = run(workflow_runner, voucher("2500000.00"), answer=answer)

    result.assert_done()
    question = result.step("call_question")
    assert question.params["output"] == "outbox/calls/20261234.wav"
    assert "2,500,000.00 yuan" in question.params["text"]
    assert "ending 0128" in question.params["text"]
    [heard_call] = answer.calls
    assert heard_call.params["audio"] == "calls/20261234.wav"
    assert heard_call.params["intents"]["refuse"][0] == "no I do not confirm"


@pytest.mark.parametrize(
    ("intent", "text", "code", "step"),
    [
        ("refuse", "no stop the payment", "refused_on_call", "not_refused"),
        ("call_later", "please call me later", "call_back_later", "not_later"),
        (None, "sorry I did not hear you", "call_unclear", "confirmed"),
    ],
)
def test_a_call_without_a_clear_yes_goes_to_a_person_and_nothing_is_keyed(
    workflow_runner: WorkflowRunner, intent: str | None, text: str, code: str, step: str
) -> None:
    terminal = fake(function=keyed)

    result = run(workflow_runner, voucher("1500000.00"), answer=heard(intent, text), terminal=terminal)

    result.assert_parked(code=code, step=step)
    assert text in (result.reason or "")
    assert terminal.calls == []
    assert journal(workflow_runner) == []


def test_a_missing_recording_goes_to_a_person(workflow_runner: WorkflowRunner) -> None:
    missing = BusinessError("audio file calls/20261234.wav not found", code="audio_not_found")

    result = run(workflow_runner, voucher("1500000.00"), answer=missing)

    result.assert_parked("calls/20261234.wav", code="audio_not_found", step="call_answer")


def test_the_threshold_is_an_input(workflow_runner: WorkflowRunner) -> None:
    result = run(workflow_runner, voucher("1234.50"), call_above="1000.00")

    result.assert_done()
    result.assert_step("call_answer", "done")


def test_words_that_say_another_amount_stop_the_voucher(workflow_runner: WorkflowRunner) -> None:
    terminal = fake(function=keyed)

    result = run(workflow_runner, voucher("1234.50", words="壹仟贰佰叁拾肆元伍角整"), terminal=terminal)
    result.assert_done()  # the same amount written in words: a match

    wrong = run(workflow_runner, voucher("1234.50", words="壹仟贰佰叁拾伍元伍角整"), terminal=terminal)

    wrong.assert_parked("1235.50", code="amount_words_mismatch", step="amount")
    assert len(terminal.calls) == 1


def test_an_unsure_field_is_never_guessed(workflow_runner: WorkflowRunner) -> None:
    unsure = {
        "flagged": True,
        "confidence": 0.42,
        "reason": "OCR confidence 0.42 is below 0.80",
        "code": "low_confidence",
    }

    result = run(workflow_runner, voucher(changes={"payee_name": unsure}))

    result.assert_parked("flagged: payee_name", code="voucher_unreadable", step="readable")
    result.assert_not_run("key")


def test_an_unsure_account_is_unreadable_but_a_clearly_short_one_is_invalid(
    workflow_runner: WorkflowRunner,
) -> None:
    blurred = {
        "flagged": True,
        "confidence": 0.31,
        "value": "12345",
        "reason": "OCR confidence 0.31",
        "code": "low_confidence",
    }
    short = {
        "flagged": True,
        "confidence": 0.97,
        "value": "52817",
        "reason": "expected 8 to 32 digits",
        "code": "shape",
    }
    cut = {
        "flagged": True,
        "confidence": 0.97,
        "value": "62220202",
        "reason": "the value touches the edge",
        "code": "cut_off",
    }

    unreadable = run(workflow_runner, voucher(changes={"payer_account": blurred}))
    invalid = run(workflow_runner, voucher(changes={"payer_account": short}))
    truncated = run(workflow_runner, voucher(changes={"payer_account": cut}))

    unreadable.assert_parked(code="voucher_unreadable", step="readable")
    truncated.assert_parked(code="voucher_unreadable", step="readable")  # read clearly, but cut off
    invalid.assert_parked(
        "payer 52817 (an account number has 8 to 32 digits, found 5)", code="invalid_account"
    )


def test_a_persons_card_number_failing_its_luhn_digit_is_an_invalid_account(
    workflow_runner: WorkflowRunner,
) -> None:
    mistyped = {"value": PAYER_CARD[:-1] + "9", "raw": PAYER_CARD[:-1] + "9"}
    person = {"value": "王芳", "raw": "王芳"}

    result = run(workflow_runner, voucher(changes={"payer_account": mistyped, "payer_name": person}))

    result.assert_parked("fails the Luhn check", code="invalid_account", step="accounts_valid")


def test_a_company_account_shaped_like_a_card_needs_no_luhn_digit(workflow_runner: WorkflowRunner) -> None:
    company_account = {"value": PAYER_CARD[:-1] + "9", "raw": PAYER_CARD[:-1] + "9"}

    result = run(workflow_runner, voucher(changes={"payer_account": company_account}))

    result.assert_done()  # the payer is 北京恒信贸易有限公司: 对公账户 carry no check digit


def test_a_bank_code_with_a_wrong_check_digit_is_invalid(workflow_runner: WorkflowRunner) -> None:
    wrong = {"value": PAYEE_BANK[:-1] + "3"}

    result = run(workflow_runner, voucher(changes={"payee_bank_code": wrong}))

    result.assert_parked(f"payee bank {PAYEE_BANK[:-1]}3", code="invalid_bank_code", step="bank_codes_valid")


def test_the_terminal_refusing_the_payment_goes_to_a_person(workflow_runner: WorkflowRunner) -> None:
    refused = BusinessError("错误: 收款人名称不能为空", code="terminal_validation")

    result = run(workflow_runner, voucher(), terminal=refused)

    result.assert_parked("收款人名称不能为空", code="terminal_validation", step="key")
    assert journal(workflow_runner) == []


def test_a_keying_in_doubt_is_looked_up_and_adopted_not_keyed_again(workflow_runner: WorkflowRunner) -> None:
    found = {
        "serial_no": SERIAL,
        "status": f"查询结果: 流水号 {SERIAL} 金额 1234.50 收款人 张伟",
        "found_by_lookup": True,
    }
    in_doubt = fake(
        function=keyed,
        raises=TechnicalError("status line unreadable after submit", applied=None),
        on_call=1,
        found=found,
    )

    result = run(workflow_runner, voucher(), terminal=in_doubt)

    result.assert_done(outputs={"serial_no": SERIAL})
    result.assert_step("key", "done", adopted=True)
    assert len(in_doubt.calls) == 1
    assert len(in_doubt.verify_calls) == 1
    assert [line["serial_no"] for line in journal(workflow_runner)] == [SERIAL]


def test_a_clearly_wrong_bank_code_is_reported_even_when_another_field_is_unsure(
    workflow_runner: WorkflowRunner,
) -> None:
    changes = {
        "payee_bank_code": {"value": PAYEE_BANK[:-1] + "3"},
        "amount_figure": {"value": None, "flagged": True, "confidence": 0.0, "reason": "nothing was read"},
    }

    result = run(workflow_runner, voucher(changes=changes))

    result.assert_parked(code="invalid_bank_code", step="bank_codes_valid")


def test_an_unsure_bank_code_is_not_blamed_but_read_by_a_person(workflow_runner: WorkflowRunner) -> None:
    unsure = {
        "value": "10510000001",
        "flagged": True,
        "confidence": 0.35,
        "reason": "OCR confidence 0.35",
        "code": "low_confidence",
    }

    result = run(workflow_runner, voucher(changes={"payee_bank_code": unsure}))

    result.assert_parked("flagged: payee_bank_code", code="voucher_unreadable", step="readable")
