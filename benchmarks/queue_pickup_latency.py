"""Pickup latency: how long an item that arrives at an idle runner waits before it is done.

Items trickle in one at a time (``--gap`` apart on average, at random, so the runner is idle when
each arrives and not always at the same point of its polls) to one
runner on the embedded SQLite store and on PostgreSQL when reachable; the figure is the time
from the enqueue's call (its own commit included) to the item's outcome committed (one no-op
step). Three ways for the
runner to learn of new work, in the same run:

- ``fixed polls``: the previous behaviour and the baseline, a claim every ``poll_interval``
  (0.5 s, the default) whatever happened before;
- ``backoff``: the item is enqueued by another process (a second queue object that no runner
  listens to): the runner looks again 5 ms after finding the queue empty, then twice as long
  each time up to ``poll_interval``;
- ``wake``: the item is enqueued through the runner's own queue, as ``rpa serve``'s API,
  scheduler and folder watchers do: the runner is woken at once.

The last line is ``ratio=<fixed polls / wake, median latency on the main backend>``.

    .venv/bin/python benchmarks/queue_pickup_latency.py [--items 20] [--gap 0.3] [--pg URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from queue_throughput import PG_DEFAULT, WORKFLOW, PgSchema, pg_params

BOT = "name: bench\nworkflow: ../workflows/noop.yaml\n"
POLL_INTERVAL = 0.5
MODES = ("fixed polls", "backoff", "wake")


def _published(url: str, folder: Path) -> Any:
    from orchestrator.bootstrap import build_runtime
    from orchestrator.logsetup import configure_logging
    from orchestrator.queue.bots import load_bot_file, publish
    from orchestrator.queue.store import SQLWorkQueue
    from orchestrator.settings import Settings

    configure_logging("ERROR")
    (folder / "workflows").mkdir(parents=True, exist_ok=True)
    (folder / "bots").mkdir(exist_ok=True)
    (folder / "workflows" / "noop.yaml").write_text(WORKFLOW)
    (folder / "bots" / "bench.yaml").write_text(BOT)
    runtime = build_runtime(Settings(db_url=url, home=folder, work_dir=folder))
    queue = SQLWorkQueue(runtime.store)
    publish(queue, load_bot_file(folder / "bots" / "bench.yaml", runtime.registry))
    return runtime, queue


def _enqueue_timed(queue: Any, reference: str, n: int) -> float:
    """Enqueue one item; returns when the call began (``time.perf_counter``)."""
    began = time.perf_counter()
    queue.enqueue("bench", reference, {"n": n})
    return began


async def _latencies(url: str, folder: Path, mode: str, items: int, gap: float) -> list[float]:
    """Seconds from each enqueue's call to its item's outcome, one item at a time.

    Timed from the call, not from its return: a woken runner can finish the item before the
    enqueuing thread's return reaches this coroutine (a negative latency). The enqueue's own
    commit, a millisecond or two, is in every mode's figure alike."""
    from orchestrator.queue.store import SQLWorkQueue
    from orchestrator.queue.worker import Worker

    runtime, queue = _published(url, folder)
    finished: dict[str, float] = {}
    worker = Worker(
        runtime,
        queue,
        capacity=1,
        poll_interval=POLL_INTERVAL,
        first_poll=POLL_INTERVAL if mode == "fixed polls" else 0.005,
        on_finished=lambda claim, _outcome: finished.setdefault(claim.item.reference, time.perf_counter()),
    )
    # "wake": the runner's own queue, from a thread as the API's endpoints call it
    source = queue if mode == "wake" else SQLWorkQueue(runtime.store)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    waited: list[float] = []
    gaps = random.Random(7)  # the same arrival times for every mode
    try:
        for n in range(items):
            await asyncio.sleep(gaps.uniform(gap / 2, gap * 1.5))  # the runner is idle when it arrives
            reference = f"{mode}-{n}"
            enqueued = await asyncio.to_thread(_enqueue_timed, source, reference, n)
            while reference not in finished:
                await asyncio.sleep(0.001)
            waited.append(finished[reference] - enqueued)
    finally:
        stop.set()
        await task
        await runtime.aclose()
    return waited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.3, help="mean seconds between two items (default 0.3)")
    parser.add_argument("--pg", default=PG_DEFAULT)
    args = parser.parse_args()
    params = pg_params(args.pg)
    if not params:
        print(f"PostgreSQL at {args.pg} is not reachable: measuring SQLite only")
    print(f"one runner, poll_interval {POLL_INTERVAL} s, {args.items} items {args.gap} s apart")
    print(f"{'backend':<11} {'how it learns of the item':<26} {'median ms':>10} {'p90 ms':>8} {'max ms':>8}")
    medians: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ["sqlite"] + (["postgresql"] if params else []):
            for mode in MODES:
                folder = Path(tmp) / backend / mode.replace(" ", "-")
                if backend == "sqlite":
                    waited = asyncio.run(
                        _latencies(f"sqlite:///{folder}/rpa.db", folder, mode, args.items, args.gap)
                    )
                else:
                    assert params is not None
                    with PgSchema(params, args.pg) as schema:
                        waited = asyncio.run(_latencies(schema.url, folder, mode, args.items, args.gap))
                ms = sorted(w * 1000 for w in waited)
                medians[backend, mode] = statistics.median(ms)
                p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
                print(f"{backend:<11} {mode:<26} {medians[backend, mode]:>10.1f} {p90:>8.1f} {ms[-1]:>8.1f}")
    main_backend = "postgresql" if params else "sqlite"
    print(f"ratio={medians[main_backend, 'fixed polls'] / medians[main_backend, 'wake']:.1f}")


if __name__ == "__main__":
    main()
