"""The browser skills run by the real engine from a YAML workflow, against the example portal."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from do_e2e_harness import CHROMIUM, require

from orchestrator.testing import WorkflowRunner

pytestmark = pytest.mark.e2e

WORKFLOW = """\
name: post-inbound-credit
inputs:
  reference: {type: string}
  account: {type: string}
  beneficiary: {type: string}
  amount: {type: decimal}
steps:
  - id: post
    uses: do.browser.submit_form
    platform: portal
    retry: {max_attempts: 3}
    with:
      url: /credits/new
      fields:
        Account number: ${{ inputs.account }}
        Beneficiary name: ${{ inputs.beneficiary }}
        Amount: ${{ inputs.amount }}
        Currency: CNY
        Reference: ${{ inputs.reference }}
        Purpose code: SALA
      sensitive: [Account number]
      submit: Post credit
      expect: {text: Credit posted}
      read: {txn_no: "#txn-no"}
      reference: ${{ inputs.reference }}
      lookup:
        url: /credits/lookup?reference={reference}
        found_selector: "#lookup-result"
        not_found_text: No credit found
        read: {txn_no: "#lookup-result tbody tr:first-child td:nth-child(1)"}
outputs:
  txn_no: ${{ steps.post.values.txn_no }}
"""


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require(CHROMIUM, "chromium")
    from examples.platforms.launch import run_platform

    with run_platform("portal", data_dir=tmp_path_factory.mktemp("portal")) as handle:
        assert handle.base_url is not None
        yield handle.base_url


@pytest.fixture
def runner(tmp_path: Path, portal: str) -> Iterator[WorkflowRunner]:
    (tmp_path / "post-credit.yaml").write_text(WORKFLOW, encoding="utf-8")
    platforms = {
        "portal": {"base_url": portal, "login": {"username": "bot", "password_secret": "portal_password"}}
    }
    with WorkflowRunner(tmp_path, platforms=platforms, secrets={"portal_password": "bot-password"}) as runner:
        yield runner


def inputs(**changes: str) -> dict[str, Any]:
    return {
        "reference": f"WF{uuid.uuid4().hex[:10].upper()}",
        "account": "6222020200112233",
        "beneficiary": "王五 Wang Wu",
        "amount": "88.80",
        **changes,
    }


def credits(portal: str, reference: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{portal}/api/credits/{reference}")
    return [] if response.status_code == 404 else response.json()


def test_engine_retries_a_500_and_the_portal_gets_one_credit(
    runner: WorkflowRunner, portal: str, tmp_path: Path
) -> None:
    httpx.post(f"{portal}/_faults", json={"fail_next": 1}).raise_for_status()
    values = inputs()
    run = runner.run(tmp_path / "post-credit.yaml", values)
    run.assert_done()
    run.assert_step("post", "done", attempts=2)
    [credit] = credits(portal, values["reference"])
    assert run.outputs["txn_no"] == credit["txn_no"]
    assert credit["amount"] == "88.80"
    screenshots = list((tmp_path / ".rpa" / "evidence").rglob("*.png"))
    assert len(screenshots) == 1  # the failed first attempt kept its screenshot


def test_a_validation_message_parks_the_run_for_a_person(
    runner: WorkflowRunner, portal: str, tmp_path: Path
) -> None:
    values = inputs(account="12AB")
    run = runner.run(tmp_path / "post-credit.yaml", values)
    run.assert_parked(code="platform_validation", step="post")
    assert "Account number" in (run.reason or "")
    assert credits(portal, values["reference"]) == []


def test_a_post_whose_outcome_is_unknown_is_adopted_by_verify_not_repeated(
    runner: WorkflowRunner, portal: str, tmp_path: Path
) -> None:
    # The credit is posted but the post-condition misses (the confirmation wording changed):
    # the attempt fails with applied=None, so the engine asks verify before any retry.
    doubtful = WORKFLOW.replace(
        "expect: {text: Credit posted}", "expect: {text: Credit booked, timeout_seconds: 0.5}"
    )
    (tmp_path / "doubtful.yaml").write_text(doubtful, encoding="utf-8")
    values = inputs()
    run = runner.run(tmp_path / "doubtful.yaml", values)
    run.assert_done()
    run.assert_step("post", "done", adopted=True)
    [credit] = credits(portal, values["reference"])
    assert run.outputs["txn_no"] == credit["txn_no"]


TERMINAL_WORKFLOW = """\
name: key-clearing-payment
inputs:
  reference: {type: string}
  amount: {type: decimal}
steps:
  - id: key
    uses: do.terminal.submit_payment
    platform: terminal
    with:
      reference: ${{ inputs.reference }}
      payer_account: "6222020200112233"
      payer_name: 张三
      payee_account: "6217000010001234"
      payee_name: 李四贸易有限公司
      payee_bank_code: "102100099996"
      amount: ${{ inputs.amount }}
      purpose: 货款
outputs:
  serial_no: ${{ steps.key.serial_no }}
"""


def run_terminal_workflow(
    tmp_path: Path, display: str, platform_config: dict[str, Any]
) -> tuple[Any, list[Any], str]:
    from examples.platforms.launch import run_platform
    from examples.platforms.terminal.store import TerminalStore

    (tmp_path / "key-payment.yaml").write_text(TERMINAL_WORKFLOW, encoding="utf-8")
    reference = f"WT{uuid.uuid4().hex[:10].upper()}"
    with (
        run_platform("terminal", data_dir=tmp_path / "terminal", display=display) as terminal,
        WorkflowRunner(
            tmp_path, platforms={"terminal": platform_config}, secrets={"terminal_password": "clerk-pass"}
        ) as runner,
    ):
        run = runner.run(tmp_path / "key-payment.yaml", {"reference": reference, "amount": "300.00"})
        return run, TerminalStore(terminal.store_path).find(reference), reference


def test_the_engine_keys_a_payment_into_the_terminal(
    tmp_path: Path, xvfb_display: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", xvfb_display)  # the runner's desktop service uses $DISPLAY
    run, [payment], _ = run_terminal_workflow(tmp_path, xvfb_display, {})
    run.assert_done()
    run.assert_step("key", "done", attempts=1, adopted=False)
    assert run.outputs["serial_no"] == payment.serial_no
    assert payment.payee_name == "李四贸易有限公司"


def test_a_terminal_payment_whose_status_is_unreadable_is_adopted_by_verify(
    tmp_path: Path, xvfb_display: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", xvfb_display)
    # The status line is looked for in the wrong place (say the terminal moved it): the payment
    # goes in, the skill cannot tell, and the engine's verify finds it by the on-screen lookup.
    run, payments, _ = run_terminal_workflow(tmp_path, xvfb_display, {"layout": {"status_line": [450, 25]}})
    run.assert_done()
    run.assert_step("key", "done", adopted=True)
    assert [p.serial_no for p in payments] == [run.outputs["serial_no"]]
