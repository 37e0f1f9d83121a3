"""A third-party plugin installed with pip runs in a workflow; secrets never reach store or logs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

SECRET = "S3cr3t-Portal-Pa55"


def test_a_pip_installed_plugin_registers_and_runs(tmp_path: Path, probe_plugin_path: str, run_rpa) -> None:
    env = {"PYTHONPATH": probe_plugin_path}
    listing = json.loads(run_rpa("skills", "--json", cwd=tmp_path, env=env).stdout)
    by_id = {s["id"]: s for s in listing["skills"]}
    assert by_id["think.probe_greet"]["plugin"] == "probe"
    assert by_id["do.probe_pay"]["effect"] == "once"
    assert by_id["do.probe_pay"]["verify"] is True

    workflow = tmp_path / "greet.yaml"
    workflow.write_text(
        textwrap.dedent("""
            name: greet
            inputs: {who: {type: string}}
            steps:
              - id: hello
                uses: think.probe_greet
                with: {name: "${{ inputs.who }}"}
            outputs: {greeting: "${{ steps.hello.greeting }}"}
        """),
        encoding="utf-8",
    )
    result = run_rpa("run", str(workflow), "-i", "who=运营中心", "--json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outputs"] == {"greeting": "hello, 运营中心"}
    # without the plugin the same file is invalid, with a located message
    bare = run_rpa("validate", str(workflow), cwd=tmp_path, env={"PYTHONPATH": ""})
    assert bare.returncode == 1
    assert f"{workflow}:6:11 steps[0].uses:" in bare.stdout
    assert "unknown skill 'think.probe_greet'" in bare.stdout


def test_secrets_are_masked_everywhere(tmp_path: Path, probe_plugin_path: str, run_rpa) -> None:
    env = {"PYTHONPATH": probe_plugin_path, "RPA_SECRET_PORTAL_PASSWORD": SECRET}
    workflow = tmp_path / "login.yaml"
    workflow.write_text(
        textwrap.dedent("""
            name: login
            steps:
              - id: echo
                uses: do.probe_count
                with:
                  counter_dir: counters
                  name: echo
                  secret: ${{ secrets.PORTAL_PASSWORD }}
              - id: pay
                uses: do.probe_pay_blind
                retry: {max_attempts: 2, initial_interval: 10ms}
                with:
                  counter_dir: counters
                  name: pay
                  secret: "${{ secrets.PORTAL_PASSWORD }}"
            outputs:
              said: ${{ steps.echo.echo }}
        """),
        encoding="utf-8",
    )
    log = tmp_path / "run.log"
    result = run_rpa("--log-level", "DEBUG", "run", str(workflow), "--json", cwd=tmp_path, env=env)
    log.write_text(result.stdout + result.stderr, encoding="utf-8")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outputs"] == {"said": "given ***"}
    assert "platform refused login with ***" in result.stderr  # the retry was logged, masked
    run_id = json.loads(result.stdout)["run_id"]
    shown = run_rpa("show", run_id, "--json", cwd=tmp_path, env=env)
    audit = run_rpa("audit", "list", "--json", cwd=tmp_path, env=env)
    artefacts = [log.read_bytes(), shown.stdout.encode(), audit.stdout.encode()]
    artefacts += [p.read_bytes() for p in (tmp_path / ".rpa").rglob("*") if p.is_file()]
    assert len(artefacts) >= 4
    for blob in artefacts:
        assert SECRET.encode() not in blob
    assert b"***" in b"".join(artefacts)
