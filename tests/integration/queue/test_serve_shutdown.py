"""``rpa serve`` as a real process: publishes bots, serves the API, and stops gracefully on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

from orchestrator.api.security import token_digest
from orchestrator.queue.models import ItemStatus
from orchestrator.queue.store import SQLWorkQueue
from orchestrator.store import open_store

RPA = str(Path(sys.executable).parent / "rpa")
TOKEN = "serve-test-token-789"

WORKFLOW = """
name: slow
inputs: {seconds: {type: decimal, default: "60"}}
steps:
  - id: first
    uses: think.evaluate
    with: {value: 1}
  - id: wait
    uses: think.wait
    with: {seconds: "${{ inputs.seconds }}"}
"""


def _serve(workdir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [RPA, "serve", "--port", "0", "--runners", "1"],
        cwd=workdir,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 90
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("serving "):
            return process, line.split()[1]
        assert time.monotonic() < deadline
    raise AssertionError(f"rpa serve did not start (exit {process.wait()})")


def test_sigterm_hands_running_items_back_and_a_restart_finishes_them(tmp_path: Path) -> None:
    (tmp_path / "workflows").mkdir()
    (tmp_path / "bots").mkdir()
    (tmp_path / "workflows" / "slow.yaml").write_text(textwrap.dedent(WORKFLOW))
    (tmp_path / "bots" / "slow.yaml").write_text("name: slow-bot\nworkflow: ../workflows/slow.yaml\n")
    settings = {"api_tokens": {"ops": {"sha256": token_digest(TOKEN), "role": "operator"}}}
    (tmp_path / "rpa.yaml").write_text(json.dumps(settings))
    env = {
        **os.environ,
        "RPA_SHUTDOWN_GRACE": "1",
        "RPA_LEASE_SECONDS": "5",
        "RPA_POLL_INTERVAL": "0.1",
        "RPA_ADMIN_PASSWORD": "not-used-here-1",
    }
    process, url = _serve(tmp_path, env)
    store = open_store(f"sqlite:///{tmp_path / '.rpa' / 'rpa.db'}")
    queue = SQLWorkQueue(store)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        created = httpx.post(
            f"{url}/api/bots/slow-bot/items",
            headers=headers,
            timeout=30,
            json={"reference": "SLOW-1", "inputs": {"seconds": "60"}},
        )
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 60
        while queue.find_item("slow-bot", "SLOW-1").status is not ItemStatus.in_progress:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1.0)  # the first step is done, the second is waiting
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        stopped_in = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
    item = queue.find_item("slow-bot", "SLOW-1")
    assert (item.status, item.crashes, item.lease_owner) == (ItemStatus.new, 0, None)
    run = store.get_run(item.run_id) if item.run_id else store.latest_run_for_item(item.id)
    assert run.owner is None  # the run's lease was released too
    assert [s.step_id for s in store.get_steps(run.id)] == ["first"]
    print(f"\nstopped {stopped_in:.1f}s after SIGTERM (grace 1s)")

    env["RPA_SHUTDOWN_GRACE"] = "20"
    process, _url = _serve(tmp_path, env)
    try:
        queue.store.close()
        store = open_store(f"sqlite:///{tmp_path / '.rpa' / 'rpa.db'}")
        # the restarted runner resumes the same run from its checkpoint; shorten the wait by
        # correcting nothing: the wait step is idempotent and simply runs again
        deadline = time.monotonic() + 120
        while SQLWorkQueue(store).find_item("slow-bot", "SLOW-1").status is not ItemStatus.in_progress:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert store.latest_run_for_item(item.id).id == run.id  # resumed, not started again
    store.close()
