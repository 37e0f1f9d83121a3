"""Kill a real ``rpa run`` process mid-step with SIGKILL and resume it with ``rpa resume``.

Counter files written by the probe plugin (installed with pip like any third-party plugin) show
what ran: done steps never run again, a ``once`` step with verify is adopted instead of being
repeated, a ``once`` step without verify is parked in doubt, and a foreach resumes at the element
where it stopped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

WORKFLOW = """
name: crash-demo
inputs:
  dir: {{type: string}}
steps:
  - id: before
    uses: do.probe_count
    with: {{counter_dir: "${{{{ inputs.dir }}}}", name: before}}
  - id: pay
    uses: {pay_skill}
    platform: ledger
    with:
      counter_dir: ${{{{ inputs.dir }}}}
      name: pay
      marker: ${{{{ inputs.dir }}}}/pay.marker
      pause: 60
  - id: after
    uses: do.probe_count
    with: {{counter_dir: "${{{{ inputs.dir }}}}", name: after}}
"""

FOREACH = """
name: crash-foreach
inputs:
  dir: {type: string}
steps:
  - id: each
    uses: do.probe_count
    foreach: ${{ ['a', 'b', 'c', 'd', 'e'] }}
    with:
      counter_dir: ${{ inputs.dir }}
      name: item-${{ item }}
      marker: "${{ inputs.dir + '/each.marker' if item == 'c' else null }}"
      pause: "${{ 60 if item == 'c' and get(env, 'HOLD', '0') == '1' else 0 }}"
"""


def _counts(folder: Path) -> dict[str, int]:
    return {p.stem: len(p.read_text().splitlines()) for p in sorted(folder.glob("*.count"))}


def _start_and_kill(workflow: Path, work: Path, env: dict[str, str], marker: Path) -> str:
    rpa = str(Path(sys.executable).parent / "rpa")
    process = subprocess.Popen(
        [rpa, "run", str(workflow), "--input", f"dir={work / 'counters'}"],
        cwd=work,
        env={**env, "RPA_ENV_HOLD": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, "the run ended before reaching the marker"
            assert time.monotonic() < deadline, "the marker was never written"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    return _single_run_id(work, env)


def _single_run_id(work: Path, env: dict[str, str]) -> str:
    rpa = str(Path(sys.executable).parent / "rpa")
    listing = subprocess.run(
        [rpa, "runs", "--json"], cwd=work, env=env, capture_output=True, text=True, check=True
    )
    (run,) = json.loads(listing.stdout)
    assert run["status"] == "running"  # interrupted: nobody finished it
    return run["id"]


@pytest.fixture
def env(probe_plugin_path: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": probe_plugin_path, "RPA_LEASE_SECONDS": "30"}


def _write(work: Path, name: str, text: str) -> Path:
    path = work / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_once_step_with_verify_is_not_repeated_after_sigkill(
    tmp_path: Path, env: dict[str, str], run_rpa
) -> None:
    workflow = _write(tmp_path, "wf.yaml", WORKFLOW.format(pay_skill="do.probe_pay"))
    counters = tmp_path / "counters"
    run_id = _start_and_kill(workflow, tmp_path, env, counters / "pay.marker")
    assert _counts(counters) == {"before": 1, "pay": 1}

    resumed = run_rpa("resume", run_id, "--json", cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "done"
    assert _counts(counters) == {"after": 1, "before": 1, "pay": 1}
    assert len((counters / "pay.ledger").read_text().splitlines()) == 1  # one payment on the platform

    shown = json.loads(run_rpa("show", run_id, "--json", cwd=tmp_path, env=env).stdout)
    pay = next(s for s in shown["steps"] if s["step_id"] == "pay")
    assert pay["adopted"] is True
    assert run_rpa("audit", "verify", cwd=tmp_path, env=env).returncode == 0


def test_once_step_without_verify_is_parked_after_sigkill(
    tmp_path: Path, env: dict[str, str], run_rpa
) -> None:
    workflow = _write(tmp_path, "wf.yaml", WORKFLOW.format(pay_skill="do.probe_pay_blind"))
    counters = tmp_path / "counters"
    run_id = _start_and_kill(workflow, tmp_path, env, counters / "pay.marker")

    resumed = run_rpa("resume", run_id, "--json", cwd=tmp_path, env=env)
    assert resumed.returncode == 3, resumed.stderr  # needs review
    outcome = json.loads(resumed.stdout)
    assert outcome["status"] == "needs_review"
    assert outcome["reason"].startswith("in doubt at step pay on platform ledger")
    assert _counts(counters) == {"before": 1, "pay": 1}  # neither repeated nor continued


def test_foreach_resumes_at_the_element_where_it_stopped(
    tmp_path: Path, env: dict[str, str], run_rpa
) -> None:
    workflow = _write(tmp_path, "wf.yaml", FOREACH)
    counters = tmp_path / "counters"
    run_id = _start_and_kill(workflow, tmp_path, env, counters / "each.marker")
    assert _counts(counters) == {"item-a": 1, "item-b": 1, "item-c": 1}

    resumed = run_rpa("resume", "--all", "--json", cwd=tmp_path, env={**env, "RPA_ENV_HOLD": "0"})
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["run_id"] == run_id
    # a and b were done; c was in progress (idempotent, so it runs again); d and e follow
    assert _counts(counters) == {"item-a": 1, "item-b": 1, "item-c": 2, "item-d": 1, "item-e": 1}
