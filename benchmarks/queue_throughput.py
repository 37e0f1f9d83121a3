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

``--producers N`` enqueues from N processes (each an equal share of the items), as several API
clients or watchers would; the default is one. Beside the CPU, each configuration shows how
often a runner looked at the queue in a claim transaction of its own (not one that finished an
item) per item, and how many of those looks found nothing.

Each configuration is measured ``--repeat`` times (rounds interleave them) and the figures
are the medians. Beside items/s each configuration shows where the CPU went, in ms per item: the
runner processes, the enqueuing process, the PostgreSQL server's processes (when the server runs
on this machine) and how busy the machine's cores were (``/proc/stat``) — where the cores are
full, more runner processes cannot go faster, whatever the code does.

    .venv/bin/python benchmarks/queue_throughput.py [--items 2000] [--procs 1 2 4] [--repeat 3]
        [--batch 1] [--producers 1] [--prefill] [--no-sqlite] [--pg URL]
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
from dataclasses import dataclass
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


# -- CPU accounting ----------------------------------------------------------------------
def postgres_cpu_seconds() -> float | None:
    """CPU time of the PostgreSQL server processes on this machine, or None if none is visible."""
    ticks, found = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text or "(postmaster)" in text:
            fields = text.rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
            found = True
    return ticks / os.sysconf("SC_CLK_TCK") if found else None


def machine_cpu_seconds() -> tuple[float, float] | None:
    """(busy, all) CPU seconds of every core since boot (``/proc/stat``), or None off Linux."""
    try:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    every = sum(fields[:8])  # guest time is already counted in user
    return (every - idle) / os.sysconf("SC_CLK_TCK"), every / os.sysconf("SC_CLK_TCK")


@dataclass
class Measurement:
    """One configuration's items/s and its CPU per item (ms) on each side."""

    rate: float
    runners_ms: float
    enqueue_ms: float
    server_ms: float | None  # None: no PostgreSQL server visible on this machine (or SQLite)
    busy: float | None  # share of all cores busy during the run, 0..1
    looks: float | None = None  # the runners' claim transactions of their own, per item
    empty_looks: float | None = None  # … of which found nothing


class CpuWindow:
    """CPU used by the PostgreSQL server and by the whole machine between ``start`` and ``stop``."""

    def __init__(self, with_server: bool) -> None:
        self.with_server = with_server

    def start(self) -> None:
        self._server = postgres_cpu_seconds() if self.with_server else None
        self._machine = machine_cpu_seconds()

    def stop(self) -> tuple[float | None, float | None]:
        """(server CPU seconds, share of the cores busy)."""
        server = postgres_cpu_seconds() if self._server is not None else None
        machine = machine_cpu_seconds()
        busy = None
        if machine is not None and self._machine is not None and machine[1] > self._machine[1]:
            busy = (machine[0] - self._machine[0]) / (machine[1] - self._machine[1])
        spent = None if server is None or self._server is None else server - self._server
        return spent, busy


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


def _worker_process(
    url: str, home: str, ready: Any, go: Any, stop: Any, finished: Any, cpu: Any, looks: Any = None
) -> None:
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
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        cpu_started = time.process_time()  # idle polls before the start cost next to nothing
        stats = await worker.run(event)
        watcher.cancel()
        with cpu.get_lock():
            cpu.value += time.process_time() - cpu_started
        if looks is not None:
            with looks.get_lock():
                looks[0] += stats.looks
                looks[1] += stats.empty_looks

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


def _producer_process(url: str, first: int, last: int, batch: int, ready: Any, go: Any, cpu: Any) -> None:
    """Enqueue items ``first`` … ``last - 1``, ``batch`` per transaction, once ``go`` is set."""
    from orchestrator.queue.models import Offer
    from orchestrator.queue.store import SQLWorkQueue
    from orchestrator.store import open_store

    queue = SQLWorkQueue(open_store(url))
    offers = [Offer(f"item-{n}", {"n": n}) for n in range(first, last)]
    queue.get_bot("bench")  # read the bot before the clock starts, as a running process has
    ready.release()
    go.wait()
    started = time.process_time()
    for start in range(0, len(offers), batch):
        queue.enqueue_many("bench", offers[start : start + batch])
    with cpu.get_lock():
        cpu.value += time.process_time() - started
    queue.store.close()


def orchestrator_rate(
    url: str,
    procs: int,
    items: int,
    folder: Path,
    batch: int = 1,
    prefill: bool = False,
    producers: int = 1,
) -> Measurement:
    """The runners' items/s and CPU per item. ``prefill``: the items are enqueued before the
    clock starts and the runners start with it (the runners alone, without the enqueue);
    otherwise ``producers`` processes enqueue them once the clock runs."""
    from orchestrator.queue.models import ItemStatus, Offer

    queue = _publish(url, folder)
    ctx = mp.get_context("spawn")
    ready, go, stop, finished = ctx.Semaphore(0), ctx.Event(), ctx.Event(), ctx.Value("i", 0)
    runners_cpu, enqueue_cpu, looks = ctx.Value("d", 0.0), ctx.Value("d", 0.0), ctx.Array("i", 2)
    start_producing = ctx.Event()
    producing = []
    if prefill:
        offers = [Offer(f"item-{n}", {"n": n}) for n in range(items)]
        for start in range(0, items, 500):
            queue.enqueue_many("bench", offers[start : start + 500])
    else:
        go.set()  # the runners wait on the empty queue, as they would for work to arrive
        bounds = [items * n // producers for n in range(producers + 1)]
        producing = [
            ctx.Process(
                target=_producer_process,
                args=(url, bounds[n], bounds[n + 1], batch, ready, start_producing, enqueue_cpu),
            )
            for n in range(producers)
        ]
    workers = [
        ctx.Process(
            target=_worker_process, args=(url, str(folder), ready, go, stop, finished, runners_cpu, looks)
        )
        for _ in range(procs)
    ]
    for process in workers + producing:
        process.start()
    for _ in workers + producing:
        ready.acquire(timeout=120)
    time.sleep(0.5)
    window = CpuWindow(with_server=not url.startswith("sqlite"))
    window.start()
    started = time.perf_counter()
    go.set()
    start_producing.set()
    while finished.value < items:
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    server, busy = window.stop()
    stop.set()
    for process in workers + producing:
        process.join(timeout=60)
    done = queue.status_counts().get(ItemStatus.done, 0)
    queue.store.close()
    assert done == items, f"the runners finished {finished.value} items but {done} of {items} are done"
    per_item = 1000 / items
    return Measurement(
        rate=items / elapsed,
        runners_ms=runners_cpu.value * per_item,
        enqueue_ms=enqueue_cpu.value * per_item,
        server_ms=None if server is None else server * per_item,
        busy=busy,
        looks=looks[0] / items,
        empty_looks=looks[1] / items,
    )


# -- the raw loop ------------------------------------------------------------------------
def _raw_pg(
    dsn: dict[str, Any], schema: str, ready: Any, go: Any, counter: Any, cpu: Any, leave: Any
) -> None:
    import psycopg

    with psycopg.connect(**dsn, options=f"-csearch_path={schema}") as conn:
        ready.release()
        go.wait()
        cpu_started = time.process_time()
        while True:
            with conn.transaction():
                row = conn.execute(
                    "SELECT id FROM raw_items WHERE status = 'new' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
                ).fetchone()
                if row is None:
                    break
                conn.execute("UPDATE raw_items SET status = 'in_progress' WHERE id = %s", (row[0],))
            with conn.transaction():
                conn.execute("UPDATE raw_items SET status = 'done' WHERE id = %s", (row[0],))
            with counter.get_lock():
                counter.value += 1
        with cpu.get_lock():
            cpu.value += time.process_time() - cpu_started
        leave.wait(60)  # the server process's CPU is read before the connection ends


def _raw_sqlite(path: str, ready: Any, go: Any, counter: Any, cpu: Any, leave: Any) -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute("PRAGMA synchronous=FULL")
    ready.release()
    go.wait()
    cpu_started = time.process_time()
    while True:
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(
            "UPDATE raw_items SET status = 'in_progress' WHERE id = "
            "(SELECT id FROM raw_items WHERE status = 'new' ORDER BY id LIMIT 1) RETURNING id"
        ).fetchone()
        conn.execute("COMMIT")
        if row is None:
            break
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE raw_items SET status = 'done' WHERE id = ?", (row[0],))
        conn.execute("COMMIT")
        with counter.get_lock():
            counter.value += 1
    with cpu.get_lock():
        cpu.value += time.process_time() - cpu_started


def raw_rate(backend: str, target: Any, procs: int, items: int) -> Measurement:
    """The raw loop's items/s and CPU per item (its processes as ``runners_ms``; no enqueue)."""
    ctx = mp.get_context("spawn")
    ready, go, leave = ctx.Semaphore(0), ctx.Event(), ctx.Event()
    counter, cpu = ctx.Value("i", 0), ctx.Value("d", 0.0)
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
    workers = [ctx.Process(target=fn, args=(*args, ready, go, counter, cpu, leave)) for _ in range(procs)]
    for w in workers:
        w.start()
    for _ in workers:
        ready.acquire(timeout=60)
    window = CpuWindow(with_server=backend != "sqlite")
    window.start()
    started = time.perf_counter()
    go.set()
    while counter.value < items and any(w.is_alive() for w in workers):
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    server, busy = window.stop()
    leave.set()
    for w in workers:
        w.join(timeout=300)
    assert counter.value == items, f"raw loop finished {counter.value} of {items}"
    per_item = 1000 / items
    return Measurement(
        rate=items / elapsed,
        runners_ms=cpu.value * per_item,
        enqueue_ms=0.0,
        server_ms=None if server is None else server * per_item,
        busy=busy,
    )


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
    parser.add_argument("--items", type=int, default=2000)
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
        "--producers",
        type=int,
        default=1,
        help="processes that enqueue the items, each an equal share (default 1)",
    )
    parser.add_argument(
        "--prefill",
        action="store_true",
        help="enqueue every item before the clock starts: the runners alone, without the enqueue",
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
    runs: dict[tuple[str, int], list[tuple[Measurement, Measurement]]] = {}
    print(HEADER.format("round"))
    for round_no in range(1, args.repeat + 1):
        for backend in backends:
            for procs in args.procs:
                orch, raw = measure(backend, procs, args, params)
                runs.setdefault((backend, procs), []).append((orch, raw))
                print(row(str(round_no), backend, procs, orch, raw), flush=True)
    results = {key: medians(pairs) for key, pairs in runs.items()}
    print(f"medians of {args.repeat} round(s):")
    print(HEADER.format(""))
    for (backend, procs), (orch, raw) in results.items():
        print(row("", backend, procs, orch, raw))
    print(
        "cpu ms/item: the runner (or raw loop) processes, the enqueuing process(es), the PostgreSQL\n"
        "server; busy: share of all cores in use during the run — near 100 %, more processes\n"
        "cannot go faster, and the ratio is the raw loop's CPU per item over the runners';\n"
        "looks/item: claim transactions of the runners' own (not one finishing an item) per item,\n"
        "and how many of them found nothing"
    )
    main_backend = "postgresql" if params else "sqlite"
    best_procs = max(
        (p for b, p in results if b == main_backend), key=lambda p: results[(main_backend, p)][0].rate
    )
    orch, raw = results[(main_backend, best_procs)]
    if (main_backend, 1) in results and (main_backend, 4) in results:
        scale = results[(main_backend, 4)][0].rate / results[(main_backend, 1)][0].rate
        print(f"{main_backend}: 4 runners / 1 runner = {scale:.2f}")
    print(
        f"best on {main_backend}: {best_procs} runner process(es), {orch.rate:.1f} items/s vs raw {raw.rate:.1f}"
    )
    print(f"ratio={orch.rate / raw.rate:.3f}")


HEADER = (
    "{:>5} backend     procs  runners items/s  raw items/s  ratio"
    " | cpu ms/item: runners enqueue server  busy | raw: procs server  busy | looks/item empty"
)


def row(label: str, backend: str, procs: int, orch: Measurement, raw: Measurement) -> str:
    def cpu(m: Measurement) -> tuple[str, str]:
        server = "n/a" if m.server_ms is None else f"{m.server_ms:.2f}"
        return server, "n/a" if m.busy is None else f"{m.busy:.0%}"

    (server, busy), (raw_server, raw_busy) = cpu(orch), cpu(raw)
    return (
        f"{label:>5} {backend:<11} {procs:>5} {orch.rate:>16.1f} {raw.rate:>12.1f} {orch.rate / raw.rate:>6.2f}"
        f" | {'':>12} {orch.runners_ms:>7.2f} {orch.enqueue_ms:>7.2f} {server:>6} {busy:>5}"
        f" | {raw.runners_ms:>9.2f} {raw_server:>6} {raw_busy:>5}"
        f" | {orch.looks or 0:>10.2f} {orch.empty_looks or 0:>5.2f}"
    )


def medians(pairs: list[tuple[Measurement, Measurement]]) -> tuple[Measurement, Measurement]:
    """Each figure's median over the rounds, for the runners and for the raw loop."""

    def median_of(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.median(known) if known else None

    def median_measurement(runs: list[Measurement]) -> Measurement:
        return Measurement(
            rate=statistics.median(m.rate for m in runs),
            runners_ms=statistics.median(m.runners_ms for m in runs),
            enqueue_ms=statistics.median(m.enqueue_ms for m in runs),
            server_ms=median_of([m.server_ms for m in runs]),
            busy=median_of([m.busy for m in runs]),
            looks=median_of([m.looks for m in runs]),
            empty_looks=median_of([m.empty_looks for m in runs]),
        )

    return median_measurement([o for o, _ in pairs]), median_measurement([r for _, r in pairs])


def measure(
    backend: str, procs: int, args: argparse.Namespace, params: dict[str, Any] | None
) -> tuple[Measurement, Measurement]:
    """Runners' figures and the raw loop's items/s for one configuration, each on a fresh database."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if backend == "sqlite":
            orch = orchestrator_rate(
                f"sqlite:///{folder / 'rpa.db'}",
                procs,
                args.items,
                folder,
                args.batch,
                args.prefill,
                args.producers,
            )
            raw = raw_rate("sqlite", str(folder / "raw.db"), procs, args.items)
            return orch, raw
        assert params is not None
        with PgSchema(params, args.pg) as schema:
            orch = orchestrator_rate(
                schema.url, procs, args.items, folder, args.batch, args.prefill, args.producers
            )
        with PgSchema(params, args.pg) as schema:
            raw = raw_rate("postgresql", (params, schema.name), procs, args.items)
        return orch, raw


if __name__ == "__main__":
    main()
