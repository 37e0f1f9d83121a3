"""What one work item costs a runner and its database: CPU per item on each side.

One ``Worker`` (one run at a time) runs in this process over a queue already holding
``--items`` items (enqueued one by one, as a backlog builds up; no ANALYZE afterwards), through
the same no-op workflow as ``queue_throughput.py``. Prints items/s, the runner's CPU per item
(``time.process_time``) and, on a PostgreSQL server on this machine, its processes' CPU per
item (``/proc/<pid>/stat``). Baseline in the same run: the raw claim-and-complete loop of
``queue_throughput.py`` with one process over as many rows; last line ``ratio=<runner / raw>``.

    .venv/bin/python benchmarks/queue_item_cost.py [--items 1000] [--sqlite] [--pg URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from queue_throughput import (
    PG_DEFAULT,
    PgSchema,
    _publish,
    bench_worker,
    pg_params,
    postgres_cpu_seconds,
    raw_rate,
)


def run_backlog(url: str, home: Path, items: int) -> tuple[float, float, float | None]:
    """items/s, runner CPU ms per item, server CPU ms per item (or None)."""
    from orchestrator.queue.models import ItemStatus

    queue = _publish(url, home)
    for n in range(items):
        queue.enqueue("bench", f"item-{n}", {"n": n})
    finished = 0
    stop = asyncio.Event()

    def count(_claim: object, _outcome: object) -> None:  # no database poll beside the runner
        nonlocal finished
        finished += 1
        if finished == items:
            stop.set()

    worker = bench_worker(url, home, on_finished=count)
    runtime = worker.runtime

    async def until_done() -> None:
        await worker.run(stop)

    server_before = postgres_cpu_seconds() if not runtime.store.is_sqlite else None
    started, cpu_started = time.perf_counter(), time.process_time()
    asyncio.run(until_done())
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    server_after = postgres_cpu_seconds() if server_before is not None else None
    server = None if server_after is None or server_before is None else (server_after - server_before)
    done = queue.status_counts().get(ItemStatus.done, 0)
    queue.store.close()
    runtime.store.close()
    assert done == items, f"the runner finished {finished} items but {done} of {items} are done"
    return items / elapsed, cpu / items * 1000, None if server is None else server / items * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--sqlite", action="store_true", help="measure the embedded SQLite store instead")
    parser.add_argument("--pg", default=PG_DEFAULT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        params = None if args.sqlite else pg_params(args.pg)
        if not args.sqlite and params is None:
            print(f"PostgreSQL at {args.pg} is not reachable: measuring SQLite")
        if params is None:
            rate, runner_ms, server_ms = run_backlog(f"sqlite:///{home / 'rpa.db'}", home, args.items)
            raw = raw_rate("sqlite", str(home / "raw.db"), 1, args.items).rate
            backend = "sqlite"
        else:
            with PgSchema(params, args.pg) as schema:
                rate, runner_ms, server_ms = run_backlog(schema.url, home, args.items)
            with PgSchema(params, args.pg) as schema:
                raw = raw_rate("postgresql", (params, schema.name), 1, args.items).rate
            backend = "postgresql"
    server = "n/a" if server_ms is None else f"{server_ms:.2f}"
    print(f"{backend}: {args.items} queued items, one runner: {rate:.0f} items/s")
    print(f"runner CPU {runner_ms:.2f} ms/item, database server CPU {server} ms/item")
    print(f"raw claim-and-complete loop, one process: {raw:.0f} items/s")
    print(f"ratio={rate / raw:.3f}")


if __name__ == "__main__":
    main()
