"""Fill a store with a month of synthetic bank-operations work for the dashboard benchmark.

Usage: ``python benchmarks/seed_dashboard.py [--db URL | --home DIR] [--items 100000] [--steps 300000]``

Four bots (RMB inbound/outbound, HVPS and BEPS vouchers) with work items spread over the last
30 days: mostly done (a few touched by a person), some failed, rejected or waiting for a person,
and a queue of new and in-progress items in the last half hour. Every item but the new ones has
a run; the runs have ``--steps`` step rows in total (3 or 4 each, some retried), and the audit
trail gets a run event per run plus a ``step_retrying`` event per retry, chained and hashed like
the store's own (``rpa audit verify`` passes). Three runners heartbeat. Rows are written with
bulk inserts in large transactions; the numbers are deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from orchestrator import jsoncodec
from orchestrator.audit import GENESIS, content_hash
from orchestrator.queue.store import ITEMS, RUNNERS, SQLWorkQueue
from orchestrator.store.sql import AUDIT, RUNS, STEPS, SQLRunStore, open_store, utcnow

BOTS = {
    "rmb-inbound": ["think.parse_payment", "think.screen_names", "do.browser.submit_form"],
    "rmb-outbound": ["think.parse_payment", "think.route_payment", "do.browser.submit_form"],
    "hvps-vouchers": ["see.voucher", "think.check_amount", "do.terminal.submit_payment"],
    "beps-vouchers": ["see.voucher", "think.check_amount", "do.terminal.submit_payment"],
}
FINAL_WEIGHTS = {"done": 0.94, "failed": 0.02, "rejected": 0.01, "needs_review": 0.03}
CHUNK = 5000


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


class _Chain:
    """Audit events chained and hashed exactly as the store writes them."""

    def __init__(self) -> None:
        self.chain = f"seed:{uuid.uuid4().hex[:8]}"
        self.seq = 0
        self.prev = GENESIS
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        at: datetime,
        kind: str,
        run_id: str | None,
        step_id: str | None,
        actor: str,
        payload: dict[str, Any],
    ) -> None:
        self.seq += 1
        payload_json = jsoncodec.dumps(payload)
        digest = content_hash(
            chain=self.chain,
            seq=self.seq,
            at=at,
            run_id=run_id,
            step_id=step_id,
            kind=kind,
            actor=actor,
            payload_json=payload_json,
            prev_hash=self.prev,
        )
        self.rows.append(
            {
                "chain": self.chain,
                "seq": self.seq,
                "at": at,
                "run_id": run_id,
                "step_id": step_id,
                "kind": kind,
                "actor": actor,
                "payload_json": payload_json,
                "prev_hash": self.prev,
                "hash": digest,
            }
        )
        self.prev = digest


def _publish(store: SQLRunStore) -> None:
    queue = SQLWorkQueue(store)
    for name, skills in BOTS.items():
        source = "name: seeded\nsteps:\n" + "".join(
            f"  - id: s{i}\n    uses: {s}\n" for i, s in enumerate(skills)
        )
        digest = hashlib.sha256(source.encode()).hexdigest()
        store.save_workflow_source(digest, name, f"workflows/{name}.yaml", source)
        spec = {
            "name": name,
            "workflow": f"../workflows/{name}.yaml",
            "concurrency": 4,
            "sla": 1800.0,
            "minutes_saved_per_item": 6 if "rmb" in name else 4,
            "priority": 0,
            "max_crashes": 3,
        }
        queue.publish_bot(name, spec, digest, f"bots/{name}.yaml")


def seed(
    store: SQLRunStore, *, items: int, steps: int, seed_value: int = 7, now: datetime | None = None
) -> dict[str, int]:
    """Write the synthetic month into ``store``; returns the row counts written."""
    rng = random.Random(seed_value)
    now = now or utcnow()
    _publish(store)
    item_rows: list[dict[str, Any]] = []
    run_rows: list[dict[str, Any]] = []
    step_rows: list[dict[str, Any]] = []
    chain = _Chain()
    names = list(BOTS)
    statuses = list(FINAL_WEIGHTS)
    weights = list(FINAL_WEIGHTS.values())
    with_runs = items - int(items * 0.01)  # the last 1 % are the open queue (no steps for "new")
    per_run, extra = divmod(steps, max(with_runs, 1))
    for i in range(items):
        bot = names[i % len(names)]
        open_item = i >= with_runs
        age = (
            timedelta(seconds=rng.uniform(0, 1800))
            if open_item
            else timedelta(seconds=rng.uniform(1900, 30 * 86400))
        )
        created = now - age
        status = rng.choice(["new", "new", "in_progress"]) if open_item else rng.choices(statuses, weights)[0]
        item_id = f"{i:08d}{uuid.UUID(int=rng.getrandbits(128)).hex[:24]}"
        run_id = None if status == "new" else uuid.UUID(int=rng.getrandbits(128)).hex
        started = created + timedelta(seconds=rng.uniform(1, 30))
        finished = (
            started + timedelta(seconds=rng.uniform(20, 600))
            if status in ("done", "failed", "rejected")
            else None
        )
        touched = status == "done" and rng.random() < 0.05
        item_rows.append(
            {
                "id": item_id,
                "bot": bot,
                "reference": f"{bot[:4].upper()}-{i:07d}",
                "status": status,
                "priority": 0,
                "inputs_json": jsoncodec.dumps({"reference": f"REF-{i:07d}"}),
                "source": "api",
                "attempts": 1 if status != "new" else 0,
                "crashes": 0,
                "token": 1,
                "run_id": run_id,
                "reason": None if status in ("done", "new", "in_progress") else f"seeded {status}",
                "reason_code": None if status in ("done", "new", "in_progress") else status,
                "straight_through": (not touched) if status == "done" else None,
                "touched_by_person": touched,
                "created_at": created,
                "started_at": started if status != "new" else None,
                "finished_at": finished,
                "updated_at": finished or started,
                "sla_due_at": created + timedelta(seconds=1800),
                "lease_owner": "seed-runner-1" if status == "in_progress" else None,
                "lease_until": now + timedelta(seconds=30) if status == "in_progress" else None,
            }
        )
        if run_id is None:
            continue
        run_status = {"in_progress": "running"}.get(status, status)
        run_rows.append(
            {
                "id": run_id,
                "workflow": bot,
                "workflow_digest": "0" * 64,
                "status": run_status,
                "inputs_json": item_rows[-1]["inputs_json"],
                "outputs_json": None,
                "reason": item_rows[-1]["reason"],
                "reason_code": item_rows[-1]["reason_code"],
                "parked_step": "s2" if status == "needs_review" else None,
                "epoch": 1,
                "work_item_id": item_id,
                "executions": 1,
                "created_at": created,
                "started_at": started,
                "finished_at": finished,
                "updated_at": finished or started,
            }
        )
        count = per_run + (1 if len(run_rows) <= extra else 0)
        clock = started
        for index in range(count):
            skill = BOTS[bot][min(index, 2)]
            step_id = f"s{min(index, 2)}"
            attempts = 1 if rng.random() > 0.05 else rng.choice([2, 3])
            duration = rng.uniform(5, 400) if skill.startswith("think") else rng.uniform(200, 4000)
            last = index == count - 1
            step_status = "done"
            if last and status in ("failed", "needs_review"):
                step_status = status
            elif last and status == "in_progress":
                step_status = "started"
            for attempt in range(1, attempts):
                chain.add(
                    clock,
                    "step_retrying",
                    run_id,
                    step_id,
                    "seed-runner-1",
                    {
                        "skill": skill,
                        "index": index if index > 2 else -1,
                        "attempt": attempt,
                        "error": "timeout",
                        "delay_s": 1.0,
                    },
                )
            step_rows.append(
                {
                    "run_id": run_id,
                    "step_id": step_id,
                    "item_index": index if index > 2 else -1,
                    "status": step_status,
                    "skill": skill,
                    "effect": "once" if skill.startswith("do") else "none",
                    "attempts": attempts,
                    "idempotency_key": f"{run_id}:{step_id}:{index}",
                    "params_json": jsoncodec.dumps({"reference": f"REF-{i:07d}"}),
                    "output_json": jsoncodec.dumps({"ok": True}) if step_status == "done" else None,
                    "error": None if step_status in ("done", "started") else "seeded problem",
                    "error_kind": None if step_status in ("done", "started") else status,
                    "adopted": False,
                    "started_at": clock,
                    "finished_at": None
                    if step_status == "started"
                    else clock + timedelta(milliseconds=duration),
                    "duration_ms": None if step_status == "started" else duration,
                }
            )
            clock += timedelta(milliseconds=duration + 5)
        if finished is not None or status == "needs_review":
            kind = {"done": "run_done", "failed": "run_failed", "rejected": "manual_rejected"}.get(
                status, "run_parked"
            )
            chain.add(finished or clock, kind, run_id, None, "seed-runner-1", {"status": status})
    runners = [
        {
            "id": f"seed-runner-{n}",
            "host": "seed-host",
            "pid": 1000 + n,
            "capacity": 4,
            "busy": n % 3,
            "started_at": now - timedelta(hours=5),
            "heartbeat_at": now - timedelta(seconds=5 * n),
            "version": "seed",
        }
        for n in range(1, 4)
    ]
    with store.writing() as conn:
        for table, rows in (
            (ITEMS, item_rows),
            (RUNS, run_rows),
            (STEPS, step_rows),
            (AUDIT, chain.rows),
            (RUNNERS, runners),
        ):
            for chunk in _chunks(rows):
                conn.execute(insert(table), chunk)
    # fresh planner statistics (and on PostgreSQL a visibility map), as autovacuum keeps them in a
    # long-lived store: without it PostgreSQL cannot use index-only scans on freshly written rows
    if store.is_sqlite:
        with store.writing() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return {"items": len(item_rows), "runs": len(run_rows), "steps": len(step_rows), "audit": len(chain.rows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLAlchemy URL (default: SQLite under --home)")
    parser.add_argument("--home", type=Path, help="data folder for the SQLite store (default: a temp folder)")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    url = (
        args.db
        or f"sqlite:///{(args.home or Path(tempfile.mkdtemp(prefix='rpa-seed-'))).resolve() / 'rpa.db'}"
    )
    store = open_store(url, synchronous="OFF" if url.startswith("sqlite") else "FULL")
    started = time.perf_counter()
    counts = seed(store, items=args.items, steps=args.steps, seed_value=args.seed)
    store.close()
    print(
        f"seeded {url}: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
        + f" in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
