"""Queue throughput: enqueue → claim → one no-op step → done, with 1, 2 and 4 runner processes.

For each backend (SQLite file; PostgreSQL when reachable) and runner count, N worker processes
(``orchestrator.queue.worker.Worker``, one run at a time each) wait on an empty queue; then
``--items`` items are enqueued and the clock runs until the last one is done (each runner counts
the items it finished in a shared counter, as the raw loop does, so that no poll of the
database competes with the runners for the CPU). In the same run a
raw loop does the minimum a queue needs — claim one row (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and mark it done, two commits per item — with the
same process counts. The last line is ``ratio=<best runner count on PostgreSQL / raw loop with
the same process count>`` (SQLite when PostgreSQL is absent).

Each configuration is measured ``--repeat`` times (rounds interleave them) and the figures
are the medians.

    .venv/bin/python benchmarks/queue_throughput.py [--items 400] [--procs 1 2 4] [--repeat 3] [--pg URL]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PG_DEFAULT = os.environ.get("RPA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

WORKFLOW = """name: noop
inputs: {n: {type: integer}}
steps:
  - id: s
    uses: think.evaluate
    with: {value: "${{ inputs.n }}"}
"""
BOT = "name: bench\nworkflow: ../workflows/noop.yaml\nconcurrency: 64\n"


# -- the orchestrator side ---------------------------------------------------------------
def bench_worker(url: str, home: Path, on_finished: Any = None) -> Any:
    """The runner every queue benchmark measures: one run at a time, 20 ms polls, quiet logs."""
    from datetime import timedelta

    from orchestrator.bootstrap import build_runtime
    from orchestrator.logsetup import configure_logging
    from orchestrator.queue.store import SQLWorkQueue
    from orchestrator.queue.worker import Worker
    from orchestrator.settings import Settings

    configure_logging("ERROR")
    runtime = build_runtime(Settings(db_url=url, home=home, work_dir=home, poll_interval=0.02))
    return Worker(
        runtime,
        SQLWorkQueue(runtime.store),
        capacity=1,
        lease=timedelta(seconds=30),
        poll_interval=0.02,
        on_finished=on_finished,
    )


def _worker_process(url: str, home: str, ready: Any, stop: Any, finished: Any) -> None:
    import asyncio

    def count(_claim: Any, _outcome: Any) -> None:  # called once the item's outcome committed
        with finished.get_lock():
            finished.value += 1

    worker = bench_worker(url, Path(home), on_finished=count)

    async def main() -> None:
        event = asyncio.Event()

        async def watch() -> None:
            while not stop.is_set():
                await asyncio.sleep(0.05)
            event.set()

        watcher = asyncio.create_task(watch())
        ready.release()
        await worker.run(event)
        watcher.cancel()

    asyncio.run(main())


def _publish(url: str, folder: Path) -> Any:
    from orchestrator.queue.bots import load_bot_file, publish
    from orchestrator.queue.store import SQLWorkQueue
    from orchestrator.registry import SkillRegistry
    from orchestrator.store import open_store

    (folder / "workflows").mkdir(parents=True, exist_ok=True)
    (folder / "bots").mkdir(exist_ok=True)
    (folder / "workflows" / "noop.yaml").write_text(WORKFLOW)
    (folder / "bots" / "bench.yaml").write_text(BOT)
    store = open_store(url)
    queue = SQLWorkQueue(store)
    publish(queue, load_bot_file(folder / "bots" / "bench.yaml", SkillRegistry.from_entry_points()))
    return queue


def orchestrator_rate(url: str, procs: int, items: int, folder: Path, batch: int = 1) -> float:
    from orchestrator.queue.models import ItemStatus, Offer

    queue = _publish(url, folder)
    ctx = mp.get_context("spawn")
    ready, stop, finished = ctx.Semaphore(0), ctx.Event(), ctx.Value("i", 0)
    workers = [
        ctx.Process(target=_worker_process, args=(url, str(folder), ready, stop, finished))
        for _ in range(procs)
    ]
    for w in workers:
        w.start()
    for _ in workers:
        ready.acquire(timeout=120)
    time.sleep(0.5)
    started = time.perf_counter()
    for start in range(0, items, batch):
        queue.enqueue_many(
            "bench", [Offer(f"item-{n}", {"n": n}) for n in range(start, min(start + batch, items))]
        )
    while finished.value < items:
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    stop.set()
    for w in workers:
        w.join(timeout=60)
    done = queue.status_counts().get(ItemStatus.done, 0)
    queue.store.close()
    assert done == items, f"the runners finished {finished.value} items but {done} of {items} are done"
    return items / elapsed


# -- the raw loop ------------------------------------------------------------------------
def _raw_pg(dsn: dict[str, Any], schema: str, ready: Any, go: Any, counter: Any) -> None:
    import psycopg

    with psycopg.connect(**dsn, options=f"-csearch_path={schema}") as conn:
        ready.release()
        go.wait()
        while True:
            with conn.transaction():
                row = conn.execute(
                    "SELECT id FROM raw_items WHERE status = 'new' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
                ).fetchone()
                if row is None:
                    return
                conn.execute("UPDATE raw_items SET status = 'in_progress' WHERE id = %s", (row[0],))
            with conn.transaction():
                conn.execute("UPDATE raw_items SET status = 'done' WHERE id = %s", (row[0],))
            with counter.get_lock():
                counter.value += 1


def _raw_sqlite(path: str, ready: Any, go: Any, counter: Any) -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute("PRAGMA synchronous=FULL")
    ready.release()
    go.wait()
    while True:
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(
            "UPDATE raw_items SET status = 'in_progress' WHERE id = "
            "(SELECT id FROM raw_items WHERE status = 'new' ORDER BY id LIMIT 1) RETURNING id"
        ).fetchone()
        conn.execute("COMMIT")
        if row is None:
            return
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE raw_items SET status = 'done' WHERE id = ?", (row[0],))
        conn.execute("COMMIT")
        with counter.get_lock():
            counter.value += 1


def raw_rate(backend: str, target: Any, procs: int, items: int) -> float:
    ctx = mp.get_context("spawn")
    ready, go, counter = ctx.Semaphore(0), ctx.Event(), ctx.Value("i", 0)
    if backend == "sqlite":
        conn = sqlite3.connect(target, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE raw_items (id INTEGER PRIMARY KEY, status TEXT NOT NULL)")
        conn.execute("CREATE INDEX raw_new ON raw_items (id) WHERE status = 'new'")
        conn.executemany("INSERT INTO raw_items (status) VALUES ('new')", [()] * items)
        conn.close()
        args: tuple[Any, ...] = (target,)
        fn = _raw_sqlite
    else:
        import psycopg

        dsn, schema = target
        with psycopg.connect(**dsn, options=f"-csearch_path={schema}", autocommit=True) as conn:
            conn.execute("CREATE TABLE raw_items (id serial PRIMARY KEY, status text NOT NULL)")
            conn.execute("CREATE INDEX raw_new ON raw_items (id) WHERE status = 'new'")
            conn.execute(f"INSERT INTO raw_items (status) SELECT 'new' FROM generate_series(1, {int(items)})")
        args = (dsn, schema)
        fn = _raw_pg
    workers = [ctx.Process(target=fn, args=(*args, ready, go, counter)) for _ in range(procs)]
    for w in workers:
        w.start()
    for _ in workers:
        ready.acquire(timeout=60)
    started = time.perf_counter()
    go.set()
    for w in workers:
        w.join(timeout=300)
    elapsed = time.perf_counter() - started
    assert counter.value == items, f"raw loop finished {counter.value} of {items}"
    return items / elapsed


# -- set-up --------------------------------------------------------------------------------
def pg_params(url: str) -> dict[str, Any] | None:
    from sqlalchemy.engine import make_url

    try:
        import psycopg

        parsed = make_url(url)
        params = {
            "host": parsed.host,
            "port": parsed.port or 5432,
            "dbname": parsed.database,
            "user": parsed.username,
        }
        with psycopg.connect(**params, connect_timeout=3):
            return params
    except Exception:
        return None


class PgSchema:
    def __init__(self, params: dict[str, Any], base_url: str) -> None:
        self.params = params
        self.name = f"bench_{uuid.uuid4().hex[:10]}"
        self.url = f"{base_url}?options=-csearch_path%3D{self.name}"

    def __enter__(self) -> PgSchema:
        import psycopg

        with psycopg.connect(**self.params, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.name}"')
        return self

    def __exit__(self, *exc: object) -> None:
        import psycopg

        with psycopg.connect(**self.params, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{self.name}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--pg", default=PG_DEFAULT)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="items per enqueue transaction (enqueue_many, as a folder scan or an API batch); default 1",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds over every configuration; the table and the ratio take the medians (default 3)",
    )
    args = parser.parse_args()
    params = pg_params(args.pg)
    backends = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if params else [])
    if not params:
        print(f"PostgreSQL at {args.pg} is not reachable: measuring SQLite only")
    # one run of a configuration swings by a third here from one minute to the next (other
    # services on the machine, checkpoints): the rounds interleave the configurations and the
    # figures are medians
    runs: dict[tuple[str, int], list[tuple[float, float]]] = {}
    print(
        f"{'round':>5} {'backend':<11} {'procs':>5} {'runners items/s':>16} {'raw items/s':>12} {'ratio':>6}"
    )
    for round_no in range(1, args.repeat + 1):
        for backend in backends:
            for procs in args.procs:
                orch, raw = measure(backend, procs, args, params)
                runs.setdefault((backend, procs), []).append((orch, raw))
                print(
                    f"{round_no:>5} {backend:<11} {procs:>5} {orch:>16.1f} {raw:>12.1f} {orch / raw:>6.2f}",
                    flush=True,
                )
    results = {
        key: (statistics.median(o for o, _ in pairs), statistics.median(r for _, r in pairs))
        for key, pairs in runs.items()
    }
    print(f"medians of {args.repeat} round(s):")
    print(f"{'backend':<11} {'procs':>5} {'runners items/s':>16} {'raw items/s':>12} {'ratio':>6}")
    for (backend, procs), (orch, raw) in results.items():
        print(f"{backend:<11} {procs:>5} {orch:>16.1f} {raw:>12.1f} {orch / raw:>6.2f}")
    main_backend = "postgresql" if params else "sqlite"
    best_procs = max(
        (p for b, p in results if b == main_backend), key=lambda p: results[(main_backend, p)][0]
    )
    orch, raw = results[(main_backend, best_procs)]
    if (main_backend, 1) in results and (main_backend, 4) in results:
        scale = results[(main_backend, 4)][0] / results[(main_backend, 1)][0]
        print(f"{main_backend}: 4 runners / 1 runner = {scale:.2f}")
    print(f"best on {main_backend}: {best_procs} runner process(es), {orch:.1f} items/s vs raw {raw:.1f}")
    print(f"ratio={orch / raw:.3f}")


def measure(
    backend: str, procs: int, args: argparse.Namespace, params: dict[str, Any] | None
) -> tuple[float, float]:
    """Runners' and raw loop's items/s for one configuration, each on a fresh database."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if backend == "sqlite":
            orch = orchestrator_rate(f"sqlite:///{folder / 'rpa.db'}", procs, args.items, folder, args.batch)
            raw = raw_rate("sqlite", str(folder / "raw.db"), procs, args.items)
            return orch, raw
        assert params is not None
        with PgSchema(params, args.pg) as schema:
            orch = orchestrator_rate(schema.url, procs, args.items, folder, args.batch)
        with PgSchema(params, args.pg) as schema:
            raw = raw_rate("postgresql", (params, schema.name), procs, args.items)
        return orch, raw


if __name__ == "__main__":
    main()
