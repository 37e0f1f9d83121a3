"""Chaos: runner processes are SIGKILLed at random while 300 items flow through a `once` step.

Three ``rpa worker`` processes on PostgreSQL (and a variant with two on SQLite) take items of a
bot whose workflow posts to the example ledger service (its own SQLite store; every POST is
recorded, duplicates included) with a lookup by reference as verify. A killer SIGKILLs a random
runner every couple of seconds and restarts it. Afterwards every item is done or needs_review,
none is lost, the ledger holds no duplicate reference, and the audit trail verifies.
"""

from __future__ import annotations

import collections
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from examples.platforms.launch import run_platform
from orchestrator.queue.models import ItemStatus
from orchestrator.queue.store import SQLWorkQueue
from orchestrator.store import open_store

ITEMS = 300
RPA = str(Path(sys.executable).parent / "rpa")

WORKFLOW = """
name: chaos-post
inputs:
  reference: {type: string}
  amount: {type: decimal}
  ledger: {type: string}
steps:
  - id: prepare
    uses: think.evaluate
    with: {value: "${{ inputs.amount * 100 }}"}
  - id: post
    uses: do.http_post
    idempotency_key: ${{ inputs.reference }}
    timeout: 10s
    retry: {max_attempts: 5, initial_interval: 100ms, max_interval: 1s}
    with:
      url: ${{ inputs.ledger }}/entries
      json_body: {reference: "${{ inputs.reference }}", account: "6222000011112222", amount: "${{ inputs.amount }}"}
    verify:
      uses: do.http_get
      with: {url: "${{ inputs.ledger }}/entries/${{ inputs.reference }}"}
  - id: settle
    uses: think.wait
    with: {seconds: 0.02}
outputs:
  status: ${{ steps.post.status }}
"""

BOT = """
name: chaos-bot
workflow: ../workflows/chaos.yaml
concurrency: 8
max_crashes: 20
"""


def _start_worker(env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(
        [RPA, "worker", "--runners", "2"], cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT
    )


def _chaos(db_url: str, tmp_path: Path, workers: int) -> None:
    (tmp_path / "workflows").mkdir()
    (tmp_path / "bots").mkdir()
    (tmp_path / "workflows" / "chaos.yaml").write_text(textwrap.dedent(WORKFLOW), encoding="utf-8")
    (tmp_path / "bots" / "chaos.yaml").write_text(textwrap.dedent(BOT), encoding="utf-8")
    env = {
        **os.environ,
        "RPA_DB_URL": db_url,
        "RPA_LEASE_SECONDS": "3",
        "RPA_POLL_INTERVAL": "0.1",
        "RPA_HOME": str(tmp_path / ".rpa"),
        "RPA_LOG_LEVEL": "WARNING",
    }
    published = subprocess.run(
        [RPA, "bots", "publish", "bots"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert published.returncode == 0, published.stderr
    with run_platform("ledger", data_dir=tmp_path / "ledger") as ledger:
        store = open_store(db_url)
        queue = SQLWorkQueue(store)
        for n in range(ITEMS):
            reference = f"CHAOS-{n:04d}"
            queue.enqueue(
                "chaos-bot",
                reference,
                {"reference": reference, "amount": f"{n + 1}.25", "ledger": ledger.base_url},
            )
        log = tmp_path / "workers.log"
        procs = [_start_worker(env, tmp_path, log) for _ in range(workers)]
        rng = random.Random(2026)
        kills = 0
        deadline = time.monotonic() + 420
        try:
            while True:
                time.sleep(rng.uniform(1.5, 3.0))
                counts = queue.status_counts()
                settled = counts.get(ItemStatus.done, 0) + counts.get(ItemStatus.needs_review, 0)
                if settled == ITEMS:
                    break
                assert time.monotonic() < deadline, f"items did not settle: {counts}"
                victim = rng.randrange(len(procs))
                procs[victim].send_signal(signal.SIGKILL)
                procs[victim].wait(timeout=10)
                kills += 1
                procs[victim] = _start_worker(env, tmp_path, log)
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        entries = httpx.get(f"{ledger.base_url}/entries", timeout=30).json()
    per_reference = collections.Counter(e["reference"] for e in entries)
    counts = queue.status_counts()
    items = queue.list_items(bot="chaos-bot", limit=ITEMS + 10)
    done = {i.reference for i in items if i.status is ItemStatus.done}
    review = [i for i in items if i.status is ItemStatus.needs_review]
    crashes = sum(i.crashes for i in items)
    adopted = sum(1 for i in items if i.run_id and any(s.adopted for s in store.get_steps(i.run_id)))
    print(
        f"\nchaos ({store.safe_url.split(':')[0]}, {workers} workers): items={len(items)} "
        f"done={len(done)} needs_review={len(review)} kills={kills} lease_expiries={crashes} "
        f"adopted_by_verify={adopted} ledger_entries={len(entries)} "
        f"duplicates={sum(1 for c in per_reference.values() if c > 1)}"
    )
    for item in review[:5]:
        print(f"  needs_review {item.reference}: {item.reason_code}: {item.reason}")
    for reference in [r for r, n in per_reference.items() if n > 1]:
        item = next(i for i in items if i.reference == reference)
        print(f"  DUPLICATE {reference}: item {item.id} attempts={item.attempts} crashes={item.crashes}")
        for event in store.audit_events(run_id=item.run_id):
            print(f"    {event.at:%H:%M:%S.%f} {event.kind:<18} {event.actor:<28} {event.payload}")
    assert len(items) == ITEMS
    assert counts.get(ItemStatus.done, 0) + counts.get(ItemStatus.needs_review, 0) == ITEMS
    assert all(n == 1 for n in per_reference.values()), [r for r, n in per_reference.items() if n > 1]
    assert done <= set(per_reference), "a done item has no ledger entry"
    assert kills >= 3
    report = store.verify_audit()
    assert report.ok, report.problems
    store.close()
    # a worker stopped by SIGTERM says what it did, including its idle looks at the queue (one
    # restarted a moment before the end may still be starting up, and just exits)
    stopped = [line for line in log.read_text().splitlines() if line.startswith("worker stopped:")]
    assert 1 <= len(stopped) <= workers, stopped
    assert all(
        re.search(r"looked at the queue on its own \d+ time\(s\), \d+ found nothing", s) for s in stopped
    )
    print("\n".join(stopped))


@pytest.mark.slow
def test_chaos_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    _chaos(pg_url, tmp_path, workers=3)


@pytest.mark.slow
def test_chaos_on_sqlite(tmp_path: Path) -> None:
    _chaos(f"sqlite:///{tmp_path / 'rpa.db'}", tmp_path, workers=2)
