"""Benchmark: the dashboard's JSON API over a store of 100,000 items and 300,000 step rows.

Usage: ``python benchmarks/dashboard_queries.py [--db URL | --home DIR] [--items N] [--steps N] [--rounds R] [--explain]``

Seeds the store with ``benchmarks/seed_dashboard.py`` (unless ``--home``/``--db`` already holds
seeded data: ``--no-seed``), builds the real app (``create_app`` with the dashboard, sign-in gate
and security headers) and calls each endpoint ``--rounds`` times in process through a token
with the ``read`` scope, alternating endpoints so that load from other processes falls on all.
Baselines measured in the same run, on the same connection pool:

- ``SELECT 1``: one store round trip;
- ``raw SQL``: the very statements the overview endpoint runs (captured from one call, with
  their parameters), replayed on a raw DB-API cursor — the database's share of the answer;
- ``/api/dashboard/me``: the same app stack (token check, middleware, JSON) around a handler
  that reads nothing.

Also times the overview's first call of a day (``overview, month uncached``: the count of the
month's done items before today is read once a day and kept). Prints the median and 90th
percentile per endpoint and ``ratio=<overview median / raw SQL median>``; exits 1 if the
overview's median is 300 ms or more. ``--explain`` captures every
statement each endpoint executes and prints its plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on
PostgreSQL), flagging full scans of the large tables.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed_dashboard import seed

from orchestrator.api.app import ServiceContext, create_app
from orchestrator.api.security import Role
from orchestrator.bootstrap import build_runtime
from orchestrator.dashboard.config import dashboard_settings
from orchestrator.dashboard.queries.overview import MonthToDate, overview
from orchestrator.dashboard.tables import ensure_schema
from orchestrator.dashboard.tokens import TokenRegistry
from orchestrator.dashboard.users import UserDirectory
from orchestrator.queue.manual import ManualQueue
from orchestrator.queue.store import SQLWorkQueue
from orchestrator.settings import Settings

TARGET_MS = 300.0
LARGE_TABLES = ("work_items", "step_states", "audit_events", "runs")


def _endpoints(run_id: str, reference: str) -> dict[str, str]:
    return {
        "overview": "/api/dashboard/overview",
        "overview 7 days": "/api/dashboard/overview?hours=168",
        "items (newest 50)": "/api/dashboard/items",
        "items needs_review": "/api/dashboard/items?status=needs_review",
        "items by reference": f"/api/dashboard/items?reference={reference}",
        "runs (newest 50)": "/api/dashboard/runs",
        "run detail": f"/api/dashboard/runs/{run_id}",
        "manual queue (100)": "/api/dashboard/manual",
        "audit (newest 100)": "/api/dashboard/audit",
        "audit by kind": "/api/dashboard/audit?kind=step_retrying",
        "hot spots 24 h": "/api/dashboard/hotspots",
        "hot spots 7 days": "/api/dashboard/hotspots?hours=168",
        "system": "/api/dashboard/system",
        "metrics": "/metrics",
    }


def _captured(store: Any, call: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The SELECT statements (with parameters) that ``call`` runs on the store's read engine."""
    captured: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and "dashboard_" not in statement:
            captured.append((statement, parameters))

    event.listen(store.read_engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(store.read_engine, "before_cursor_execute", capture)
    return captured


def _raw_replay(store: Any, statements: list[tuple[str, Any]]) -> Callable[[], None]:
    """Run ``statements`` on one raw DB-API connection, fetching every row."""
    raw = store.read_engine.raw_connection()

    def replay() -> None:
        cursor = raw.cursor()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            cursor.fetchall()
        cursor.close()
        raw.rollback()

    return replay


def _select_one(store: Any) -> Callable[[], None]:
    def query() -> None:
        with store.reading() as conn:
            conn.execute(text("SELECT 1")).scalar_one()

    return query


def _explain(store: Any, calls: dict[str, tuple[str, Callable[[], Any]]]) -> int:
    """Print the plan of every statement each call runs; returns the count of full scans."""
    captured: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    engine = store.read_engine
    event.listen(engine, "before_cursor_execute", capture)
    full_scans = 0
    try:
        for label, (what, call) in calls.items():
            captured.clear()
            call()
            statements = list(captured)
            print(f"\n### {label}: {what}\n")
            for statement, parameters in statements:
                if "dashboard_" in statement:
                    continue  # token lookup by primary key / unique hash
                compact = " ".join(statement.split())
                print(f"```sql\n{compact[:600]}{' ...' if len(compact) > 600 else ''}\n```")
                with engine.connect() as conn:
                    raw = conn.connection.dbapi_connection
                    cursor = raw.cursor()
                    prefix = "EXPLAIN QUERY PLAN " if store.is_sqlite else "EXPLAIN "
                    cursor.execute(prefix + statement, parameters)
                    rows = cursor.fetchall()
                    cursor.close()
                plan = [" | ".join(str(c) for c in (r[-1:] if store.is_sqlite else r)) for r in rows]
                for line in plan:
                    scan = any(
                        (f"SCAN {t}" in line and "INDEX" not in line) or f"Seq Scan on {t}" in line
                        for t in LARGE_TABLES
                    )
                    full_scans += scan
                    print(f"    {line}{'   <-- FULL SCAN' if scan else ''}")
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return full_scans


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLAlchemy URL (default: SQLite under --home or a temp folder)")
    parser.add_argument("--home", type=Path, help="data folder (SQLite store)")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-seed", action="store_true", help="the store holds seeded data already")
    parser.add_argument("--explain", action="store_true", help="print the plan of every query")
    args = parser.parse_args(argv)

    home = (args.home or Path(tempfile.mkdtemp(prefix="rpa-dash-bench-"))).resolve()
    settings = Settings(home=home, db_url=args.db, work_dir=home)
    runtime = build_runtime(settings)
    store = runtime.store
    ensure_schema(store)
    if not args.no_seed:
        started = time.perf_counter()
        counts = seed(store, items=args.items, steps=args.steps)
        print(f"seeded {store.safe_url}: {counts} in {time.perf_counter() - started:.1f} s")
    queue = SQLWorkQueue(store)
    context = ServiceContext(runtime=runtime, queue=queue, manual=ManualQueue(store, queue, runtime.registry))
    users = UserDirectory(store, dashboard_settings(settings))
    if users.count() == 0:  # no first-start administrator (and no password printed)
        users.add("bench-admin", secrets.token_urlsafe(16), Role.admin, actor="benchmark")
    app = create_app(context)
    tokens = TokenRegistry(store)
    name = f"bench-{int(time.time())}"
    headers = {"authorization": f"Bearer {tokens.create(name, Role.viewer, ['read'], actor='benchmark')}"}

    from fastapi.testclient import TestClient

    client = TestClient(app)
    with store.reading() as conn:
        run_id = conn.execute(text("SELECT id FROM runs WHERE status = 'needs_review' LIMIT 1")).scalar_one()
        reference = conn.execute(
            text("SELECT reference FROM work_items ORDER BY created_at DESC LIMIT 1")
        ).scalar_one()
    endpoints = _endpoints(run_id, reference[:8])
    for path in [*endpoints.values(), "/api/dashboard/me"]:  # warm caches and check every answer
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            print(f"GET {path} answered {response.status_code}: {response.text[:300]}")
            return 1

    statements = _captured(store, lambda: client.get(endpoints["overview"], headers=headers))
    raw_sql, select_one = _raw_replay(store, statements), _select_one(store)
    dashboard = app.state.dashboard

    def uncached() -> None:
        overview(store, dashboard.settings, month=MonthToDate())

    labels = [*endpoints, "overview, month uncached", "/api/dashboard/me", "SELECT 1", "raw SQL"]
    timings: dict[str, list[float]] = {label: [] for label in labels}
    for _ in range(args.rounds):
        for label, action in [
            *[(label, lambda p=path: client.get(p, headers=headers)) for label, path in endpoints.items()],
            ("overview, month uncached", uncached),
            ("/api/dashboard/me", lambda: client.get("/api/dashboard/me", headers=headers)),
            ("SELECT 1", select_one),
            ("raw SQL", raw_sql),
        ]:
            t0 = time.perf_counter()
            action()
            timings[label].append((time.perf_counter() - t0) * 1000)

    print(f"\n{store.safe_url.split('://')[0]}: {args.rounds} rounds, median and p90 in ms")
    print(f"{'endpoint':<24} {'median':>9} {'p90':>9}")
    medians = {}
    for label, values in timings.items():
        values.sort()
        medians[label] = statistics.median(values)
        p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
        print(f"{label:<24} {medians[label]:>9.1f} {p90:>9.1f}")
    overview_ms = medians["overview"]
    print(f"\noverview median {overview_ms:.1f} ms (target < {TARGET_MS:.0f} ms)")
    print(
        f"overview / me = {overview_ms / medians['/api/dashboard/me']:.1f}  (app stack around a trivial handler)"
    )
    print(f"raw SQL = the overview's {len(statements)} statements replayed on a raw cursor")
    print(f"ratio={overview_ms / medians['raw SQL']:.2f}  (overview API median / raw SQL median)")
    full_scans = 0
    if args.explain:
        calls = {
            label: (f"GET {path}", lambda p=path: client.get(p, headers=headers))
            for label, path in endpoints.items()
        }
        calls["overview, month uncached"] = ("overview() with an empty month-to-date cache", uncached)
        full_scans = _explain(store, calls)
        print(f"\nfull scans of large tables: {full_scans}")
    tokens.revoke(name, actor="benchmark")
    asyncio.run(runtime.aclose())
    return 0 if overview_ms < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
