"""``rpa plan``: each step as it will run, expressions resolved where the inputs allow, nothing run."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from orchestrator.spec.validate import load_workflow
from orchestrator.toolkit.plan import Unresolved, build_plan
from orchestrator.toolkit.plan_view import plan_dict, plan_text

CREDIT = Path(__file__).parent / "data" / "credit.yaml"

BRANCHES = """\
name: branches
inputs:
  amount: {type: decimal}
  accounts: {type: list, default: ["001", "002", "003"]}
  limit: {type: decimal, default: 5000}
steps:
  - id: fee
    uses: think.evaluate
    with:
      value: ${{ round(inputs.amount * 0.001, 2) }}
  - id: big
    uses: think.require
    if: ${{ inputs.amount > inputs.limit }}
    on_error: fail
    with: {condition: false, message: "over the limit"}
  - id: later
    uses: think.evaluate
    if: ${{ steps.fee.value > 1 }}
    timeout: 5s
    with: {value: "${{ run.id }}/${{ inputs.amount }}"}
  - id: each
    uses: think.evaluate
    foreach: ${{ inputs.accounts }}
    idempotency_key: pay-${{ item }}
    with: {value: "${{ item }}:${{ secrets.token }}"}
  - id: each_later
    uses: think.evaluate
    foreach: ${{ steps.fee.value }}
    on_error: continue
    with: {value: "${{ index }}"}
  - id: broken
    uses: think.evaluate
    with: {value: "${{ inputs.amount / 0 }}"}
outputs:
  fee: ${{ steps.fee.value }}
  name: ${{ run.workflow }}
"""


@pytest.fixture
def branches(tmp_path: Path, rpa_registry):
    path = tmp_path / "branches.yaml"
    path.write_text(BRANCHES, encoding="utf-8")
    return load_workflow(path, rpa_registry)


def test_expressions_are_resolved_where_the_inputs_allow(branches, rpa_registry) -> None:
    plan = build_plan(branches, rpa_registry, {"amount": "12000.00"})
    fee, big, later, each, each_later, broken = plan.steps

    assert fee.arguments == {"value": Decimal("12.00")}
    assert big.runs is True
    assert big.retry.max_attempts == 1
    assert big.retry_source == "on_error: fail"
    assert isinstance(later.runs, Unresolved)
    assert str(later.runs) == "<steps.fee.value > 1: known at run time>"
    assert later.arguments["value"].shown == "<run.id: known at run time>/12000.00"
    assert later.timeout is not None
    assert later.timeout.total_seconds() == 5
    assert later.timeout_source == "step"
    assert each.elements == ["001", "002", "003"]
    assert str(each.idempotency_key) == "pay-<item: each element>"
    assert str(each.arguments["value"]) == "<item: each element>:<secrets.token: secret, read at run time>"
    assert str(each_later.elements) == "<steps.fee.value: known at run time>"
    assert str(broken.arguments["value"]).startswith("<inputs.amount / 0: error: arithmetic error")
    assert any(w.startswith("step broken with.value: arithmetic error") for w in plan.warnings)
    assert str(plan.outputs["fee"]) == "<steps.fee.value: known at run time>"
    assert plan.outputs["name"] == "branches"


def test_a_condition_known_from_the_inputs_decides_before_the_run(branches, rpa_registry) -> None:
    plan = build_plan(branches, rpa_registry, {"amount": "10", "limit": "20"})

    assert plan.steps[1].runs is False
    assert "if: ${{ inputs.amount > inputs.limit }} → SKIPPED" in plan_text(plan)


def test_missing_inputs_stay_unresolved_and_bad_ones_are_refused(branches, rpa_registry) -> None:
    plan = build_plan(branches, rpa_registry, {})

    assert [(i.name, i.source) for i in plan.inputs] == [
        ("amount", "missing"),
        ("accounts", "default"),
        ("limit", "default"),
    ]
    assert str(plan.steps[0].arguments["value"]) == "<round(inputs.amount * 0.001, 2): input not given>"
    with pytest.raises(ValueError, match=r"input 'amount': expected decimal, got 'lots'"):
        build_plan(branches, rpa_registry, {"amount": "lots"})
    with pytest.raises(ValueError, match=r"unknown input 'amout'; declared: accounts, amount, limit"):
        build_plan(branches, rpa_registry, {"amout": "1"})


def test_the_text_shows_skill_effect_platform_retry_and_timeout(rpa_registry) -> None:
    workflow = load_workflow(CREDIT, rpa_registry)
    plan = build_plan(
        workflow, rpa_registry, {"reference": "REF-1", "amount": "250.50"}, platforms={"portal": {}}
    )

    text = plan_text(plan)

    assert "nothing is executed or stored" in text
    assert "2. post — do.browser.submit_form: Fill and post a form once" in text
    assert (
        "effect: once — an interrupted attempt is looked up on the platform first (the skill's verify)"
        in text
    )
    assert "platform: portal (configured)" in text
    assert "retry: up to 4 attempts; backoff 2s, ×2 per retry, at most 1m (full jitter) [step]" in text
    assert "timeout: 1m30s per attempt [skill]" in text
    assert '       Amount: 250.50\n       Reference: "REF-1"' in text
    assert "subject: Credit REF-1 posted as <steps.post.values.txn_no: known at run time>" in text
    assert "if: ${{ inputs.notify }} → runs" in text
    assert "warnings:" not in text


def test_json_marks_unresolved_values_for_machines(rpa_registry) -> None:
    workflow = load_workflow(CREDIT, rpa_registry)
    data = plan_dict(build_plan(workflow, rpa_registry, {"reference": "R", "amount": "1"}, platforms={}))

    post = data["steps"][1]
    assert data["executes"] is False
    assert post["retry"]["max_attempts"] == 4
    assert post["platform_configured"] is False
    assert post["with"]["fields"]["Amount"] == "1"
    assert data["outputs"]["txn_no"] == {
        "unresolved": "steps.post.values.txn_no",
        "why": "known at run time",
        "shown": "<steps.post.values.txn_no: known at run time>",
    }
    assert "step post: platform 'portal' is not configured (settings: platforms)" in data["warnings"]


def test_rpa_plan_prints_the_plan_and_writes_nothing(run_rpa, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = run_rpa("--home", str(home), "plan", str(CREDIT), "-i", "reference=R-1", "--json", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["id"] for s in data["steps"]] == ["check", "post", "notify"]
    assert data["inputs"]["amount"]["source"] == "missing"
    assert not home.exists(), "plan must not create a store"

    bad = run_rpa("plan", str(CREDIT), "-i", "amount=ten", cwd=tmp_path)
    assert bad.returncode == 2
    assert "input 'amount': expected decimal, got 'ten'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_known_arguments_are_typed_by_the_skill_and_refused_ones_warned(tmp_path: Path, rpa_registry) -> None:
    path = tmp_path / "typed.yaml"
    path.write_text(
        "name: typed\ninputs:\n  wait: {type: string}\nsteps:\n"
        "  - id: check\n    uses: think.check_amount\n"
        "    with: {words: 人民币壹元整, figure: '1.00', raise_on_problem: true}\n"
        "  - id: pause\n    uses: think.wait\n    with: {seconds: '${{ inputs.wait }}'}\n",
        encoding="utf-8",
    )
    workflow = load_workflow(path, rpa_registry)

    plan = build_plan(workflow, rpa_registry, {"wait": "-1"})

    assert plan.steps[0].arguments["raise_on_problem"] is True
    assert plan.steps[1].arguments["seconds"] == "-1"
    assert plan.warnings == [
        "step pause with.seconds: Input should be greater than or equal to 0 (given '-1')"
    ]
    assert build_plan(workflow, rpa_registry, {"wait": "2.5"}).steps[1].arguments["seconds"] == 2.5
