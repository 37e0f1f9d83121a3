"""``rpa new``: what it creates validates (workflow, bot) or installs and passes its own test (skill)."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from orchestrator.errors import ConfigError
from orchestrator.spec.validate import load_workflow
from orchestrator.toolkit.plan import build_plan
from orchestrator.toolkit.scaffold import new_skill_package, new_workflow

PIP_OFFLINE = [
    sys.executable,
    "-m",
    "pip",
    "install",
    "-q",
    "--no-deps",
    "--no-build-isolation",
    "--no-index",
]


def test_new_workflow_and_bot_validate_plan_and_run(
    rpa_cli, tmp_path: Path, workflow_runner, rpa_registry
) -> None:
    created = rpa_cli("new", "bot", "rmb-inbound")
    assert created.code == 0, created.stderr
    assert created.stdout.splitlines() == [
        "created workflows/rmb-inbound.yaml",
        "created bots/rmb-inbound.yaml",
    ]
    extra = rpa_cli("new", "workflow", "fee-check", "--dir", "flows")
    assert extra.code == 0, extra.stderr

    checked = rpa_cli("validate", "workflows", "bots", "flows")
    assert checked.code == 0, checked.stdout + checked.stderr
    assert "3 file(s) checked, 3 valid, 0 problem(s)" in checked.stderr
    bot = (tmp_path / "bots" / "rmb-inbound.yaml").read_text(encoding="utf-8")
    assert bot.startswith("# yaml-language-server: $schema=../schema/bot.schema.json\n")
    assert "workflow: ../workflows/rmb-inbound.yaml\n" in bot

    workflow = load_workflow(tmp_path / "flows" / "fee-check.yaml", rpa_registry)
    plan = build_plan(workflow, rpa_registry, {"reference": "R-1", "amount": "2500"})
    assert plan.steps[1].arguments == {"value": Decimal("2.50")}

    run = workflow_runner.run(tmp_path / "flows" / "fee-check.yaml", {"reference": "R-1", "amount": "2500"})
    run.assert_done(outputs={"fee": Decimal("2.50")})
    assert (workflow_runner.work_dir / "out" / "R-1.txt").read_text() == "R-1: 2,500.00 CNY, fee 2.50\n"


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    new_workflow("flow", tmp_path)
    (tmp_path / "flow.yaml").write_text("mine", encoding="utf-8")

    with pytest.raises(ConfigError, match="already exist"):
        new_workflow("flow", tmp_path)
    assert (tmp_path / "flow.yaml").read_text() == "mine"
    new_workflow("flow", tmp_path, force=True)
    assert (tmp_path / "flow.yaml").read_text().startswith("# yaml-language-server")


def test_bad_names_are_refused_with_the_rule(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="workflow name 'Pay Check' must start with a letter"):
        new_workflow("Pay Check", tmp_path)
    with pytest.raises(ConfigError, match="capability 'act' is not one of see, hear, speak, think, do"):
        new_skill_package("post_credit", "act", tmp_path)
    with pytest.raises(ConfigError, match="skill name 'post-credit' must be lower_snake_case"):
        new_skill_package("post-credit", "do", tmp_path)


def test_new_skill_package_installs_registers_and_passes_its_test(rpa_cli, run_rpa, tmp_path: Path) -> None:
    created = rpa_cli("new", "skill", "normalise_reference", "--capability", "think")
    assert created.code == 0, created.stderr
    package = tmp_path / "rpa_normalise_reference"
    target = tmp_path / "site"
    install = subprocess.run(
        [*PIP_OFFLINE, "--target", str(target), str(package)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    env = {"PYTHONPATH": str(target)}

    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=package,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-2000:]
    assert "2 passed" in tested.stdout

    described = run_rpa("skills", "describe", "think.normalise_reference", cwd=tmp_path, env=env)
    assert described.returncode == 0, described.stderr
    assert "think.normalise_reference — Normalise a business reference" in described.stdout
    assert "plugin      rpa_normalise_reference" in described.stdout
    assert "reference (text, required): Business reference to normalise" in described.stdout
