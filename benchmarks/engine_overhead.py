"""Engine overhead: a 2,000-step no-op workflow with durable checkpoints vs raw SQLite commits.

Both sides use the same file system, WAL journal and ``synchronous=FULL``. The raw side
commits one single-row INSERT per transaction with the sqlite3 module; the engine side runs a
workflow whose steps do nothing (``think.evaluate`` of a constant), so what is measured is the
cost of a durable step: argument rendering, the checkpoint (fence, step row, audit event with
its hash) and the commit. Last line: ``ratio=<steps per second / raw commits per second>``.

    .venv/bin/python benchmarks/engine_overhead.py [--steps 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from orchestrator.engine import EngineConfig, RunExecutor
from orchestrator.registry import SkillRegistry
from orchestrator.spec.validate import load_workflow
from orchestrator.store import open_store
from skills.think.basics import evaluate


def raw_commits_per_second(folder: Path, count: int) -> float:
    connection = sqlite3.connect(folder / "raw.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, run TEXT, step TEXT, payload TEXT)")
    started = time.perf_counter()
    for i in range(count):
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT INTO t (run, step, payload) VALUES (?, ?, ?)", ("run", f"s{i}", '{"value":1}')
        )
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return count / elapsed


def workflow_file(folder: Path, steps: int) -> Path:
    lines = ["name: noop", "steps:"]
    for i in range(steps):
        lines += [f"  - id: s{i}", "    uses: think.evaluate", "    with: {value: 1}"]
    path = folder / "noop.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def engine_steps_per_second(folder: Path, steps: int) -> float:
    registry = SkillRegistry.from_functions([evaluate])
    loaded = load_workflow(workflow_file(folder, steps), registry)
    store = open_store(f"sqlite:///{folder / 'engine.db'}", synchronous="FULL")
    executor = RunExecutor(store, registry, config=EngineConfig(work_dir=folder))
    run = executor.create_run(loaded, {})
    started = time.perf_counter()
    outcome = asyncio.run(executor.execute(run.id))
    elapsed = time.perf_counter() - started
    assert outcome.status.value == "done", outcome
    assert len(store.get_steps(run.id)) == steps
    store.close()
    return steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine_rates, raw_rates = [], []
    for round_no in range(args.repeat):
        # each side in a fresh folder, the order alternating, with a pause in between so that
        # the write-back of one side's thousands of fsyncs does not land on the other
        sides = [("raw", raw_commits_per_second), ("engine", engine_steps_per_second)]
        if round_no % 2:
            sides.reverse()
        measured = {}
        for name, measure in sides:
            with tempfile.TemporaryDirectory() as tmp:
                measured[name] = measure(Path(tmp), args.steps)
            time.sleep(1.0)
        engine_rates.append(measured["engine"])
        raw_rates.append(measured["raw"])
        print(
            f"round {round_no + 1}: engine {engine_rates[-1]:8.0f} steps/s   raw {raw_rates[-1]:8.0f} commits/s"
        )
    engine = statistics.median(engine_rates)
    raw = statistics.median(raw_rates)
    print(f"steps={args.steps} synchronous=FULL journal=WAL")
    print(f"engine_steps_per_s={engine:.0f}")
    print(f"raw_commits_per_s={raw:.0f}")
    print(f"ratio={engine / raw:.3f}")


if __name__ == "__main__":
    main()
