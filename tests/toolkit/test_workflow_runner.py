"""The pytest plugin: workflows run offline on the real engine with chosen skills faked."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest

from orchestrator.errors import BusinessError, TechnicalError, WorkflowError
from orchestrator.testing import FakeSetupError, fake

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "workflows" / "hello.yaml"
CREDIT = Path(__file__).parent / "data" / "credit.yaml"

POSTED = {"url": "http://portal/credits", "values": {"txn_no": "TXN-00000042"}}
SENT = {
    "channel": "email",
    "idempotency_key": "k",
    "message_id": "<m@bank.example>",
    "recipients": ["operations@bank.example"],
    "refused": [],
    "status_code": None,
    "sent_at": "2026-05-11T08:00:00+00:00",
}


def test_hello_runs_with_its_real_skills_in_the_test_folder(workflow_runner) -> None:
    run = workflow_runner.run(HELLO, {"amount": "100.00"})

    run.assert_done(outputs={"fee": Decimal("0.10")})
    run.assert_step("journal", "done", item=1, attempts=1, params={"record": {"reference": "REF-002"}})
    assert len(run.items("journal")) == 2
    ledger = workflow_runner.work_dir / "out" / "ledger.jsonl"
    assert [json.loads(line)["reference"] for line in ledger.read_text().splitlines()] == [
        "REF-001",
        "REF-002",
    ]


def test_fixed_outputs_replace_the_platform_and_arguments_reach_the_fake(workflow_runner) -> None:
    run = workflow_runner.run(
        CREDIT,
        {"reference": "REF-7", "amount": "250.50"},
        fakes={"do.browser.submit_form": POSTED, "speak.notify": SENT},
        only_fakes=False,
    )

    run.assert_done(outputs={"txn_no": "TXN-00000042", "notified": "<m@bank.example>"})
    (post,) = run.calls("do.browser.submit_form")
    assert post.params["fields"]["Amount"] == Decimal("250.50")
    assert post.params["reference"] == "REF-7"
    (notice,) = run.calls("speak.notify")
    assert notice.params["subject"] == "Credit REF-7 posted as TXN-00000042"
    assert notice.params["body"] == "250.50 credited to 6222020200112233."


def test_a_function_computes_the_answer_from_the_arguments(workflow_runner) -> None:
    def post(params):
        return {"url": "u", "values": {"txn_no": f"TXN-{params.reference}"}}

    run = workflow_runner.run(
        CREDIT, {"reference": "R9", "amount": "1", "notify": False}, fakes={"do.browser.submit_form": post}
    )

    run.assert_done(outputs={"txn_no": "TXN-R9"})
    run.assert_step("notify", "skipped")
    run.assert_not_run("notify")


def test_a_technical_error_on_the_first_call_is_retried_without_sleeping(workflow_runner) -> None:
    flaky = fake(POSTED, raises=TechnicalError("portal answered 502", applied=False), on_call=1)

    run = workflow_runner.run(
        CREDIT,
        {"reference": "R1", "amount": "10"},
        fakes={"do.browser.submit_form": flaky, "speak.notify": SENT},
    )

    run.assert_done()
    run.assert_step("post", "done", attempts=2)
    assert [c.attempt for c in flaky.calls] == [1, 2]
    assert len(run.retry_delays) == 1
    assert 0 <= run.retry_delays[0] <= 2.0


def test_an_unknown_outcome_of_a_once_step_is_verified_and_adopted(workflow_runner) -> None:
    lost_answer = fake(
        POSTED, raises=TechnicalError("connection reset after sending"), on_call=1, found=POSTED
    )

    run = workflow_runner.run(
        CREDIT,
        {"reference": "R2", "amount": "10"},
        fakes={"do.browser.submit_form": lost_answer, "speak.notify": SENT},
    )

    run.assert_done(outputs={"txn_no": "TXN-00000042"})
    run.assert_step("post", "done", attempts=1, adopted=True)
    assert len(lost_answer.calls) == 1
    assert len(lost_answer.verify_calls) == 1


def test_retries_that_run_out_fail_the_run_with_the_attempts_recorded(workflow_runner) -> None:
    down = fake(raises=TechnicalError("portal down", applied=False))

    run = workflow_runner.run(
        CREDIT, {"reference": "R3", "amount": "10"}, fakes={"do.browser.submit_form": down}
    )

    run.assert_failed("portal down", code="technical_error", step="post")
    run.assert_step("post", "failed", attempts=4)
    assert len(down.calls) == 4
    assert len(run.retry_delays) == 3


def test_a_business_error_parks_the_run_with_its_reason(workflow_runner) -> None:
    refused = fake(
        POSTED, raises=BusinessError("Account number must be 8 to 32 digits", code="rejected"), on_call=[1]
    )

    run = workflow_runner.run(
        CREDIT, {"reference": "R4", "amount": "10"}, fakes={"do.browser.submit_form": refused}
    )

    run.assert_parked("Account number must be 8 to 32 digits", code="rejected", step="post")
    assert run.manual_reason is not None
    assert "step post" in run.manual_reason
    run.assert_step("post", "needs_review", attempts=1)
    assert run.step("check").status == "done"


def test_a_failing_condition_in_the_workflow_itself_parks_the_run(workflow_runner) -> None:
    run = workflow_runner.run(
        CREDIT, {"reference": "R5", "amount": "-3"}, fakes={"do.browser.submit_form": POSTED}
    )

    run.assert_parked("amount must be positive, found -3", code="bad_amount", step="check")
    assert run.calls("do.browser.submit_form") == []


def test_arguments_are_still_checked_by_the_skill_model(workflow_runner, tmp_path: Path) -> None:
    workflow = tmp_path / "bad_args.yaml"
    workflow.write_text(
        "name: bad-args\n"
        "inputs:\n  wait: {type: string}\n"
        "steps:\n  - id: pause\n    uses: think.wait\n    with:\n      seconds: ${{ inputs.wait }}\n",
        encoding="utf-8",
    )

    run = workflow_runner.run(workflow, {"wait": "soon"}, fakes={"think.wait": {}})

    run.assert_parked("invalid arguments for think.wait: seconds", code="invalid_arguments")
    assert run.calls("think.wait") == []


def test_assertion_failures_describe_the_run(workflow_runner) -> None:
    run = workflow_runner.run(
        CREDIT, {"reference": "R6", "amount": "-1"}, fakes={"do.browser.submit_form": POSTED}
    )

    with pytest.raises(AssertionError) as failure:
        run.assert_done()

    message = str(failure.value)
    assert "expected the run to be done, but it is needs_review" in message
    assert "check" in message
    assert "amount must be positive" in message


def test_fakes_are_checked_against_the_result_model_before_anything_runs(workflow_runner) -> None:
    with pytest.raises(FakeSetupError, match=r"'returns' does not fit SubmitFormResult: url: Field required"):
        workflow_runner.run(
            CREDIT, {"reference": "R", "amount": "1"}, fakes={"do.browser.submit_form": {"values": {}}}
        )
    with pytest.raises(FakeSetupError, match=r"no such skill; did you mean 'do.browser.submit_form'"):
        workflow_runner.run(
            CREDIT, {"reference": "R", "amount": "1"}, fakes={"do.browser.submit_from": POSTED}
        )
    with pytest.raises(FakeSetupError, match=r"needs path, sha256, size"):
        workflow_runner.run(HELLO, {}, fakes={"do.write_file": fake()})
    with pytest.raises(FakeSetupError, match=r"not faked: speak.notify, think.require"):
        workflow_runner.run(
            CREDIT,
            {"reference": "R", "amount": "1"},
            fakes={"do.browser.submit_form": POSTED},
            only_fakes=True,
        )


def test_an_invalid_workflow_lists_every_problem(workflow_runner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nsteps:\n  - id: a\n    uses: think.evalute\n    with: {value: 1}\n")

    with pytest.raises(WorkflowError, match=r"broken.yaml:4:11.*unknown skill 'think.evalute'; did you mean"):
        workflow_runner.run(broken)


def test_async_tests_use_arun(workflow_runner) -> None:
    async def scenario():
        return await workflow_runner.arun(
            HELLO, {"amount": "5"}, fakes={"do.append_record": fake(function=_append)}
        )

    run = asyncio.run(scenario())

    run.assert_done()
    assert [c.params["record"]["reference"] for c in run.calls("do.append_record")] == ["REF-001", "REF-002"]


def _append(ctx, params):
    return {"path": params.path, "idempotency_key": ctx.idempotency_key, "line": (ctx.item_index or 0) + 1}
