"""The claim query's plan with 100,000 done items in the table (SQLite and PostgreSQL).

Seeds ``--done`` finished items and a few new ones, then prints the plan of the exact query a
runner sends to find claimable items (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN ANALYZE`` on
PostgreSQL) and times it. The query must stay an index scan on the partial index
``ix_work_items_claim_order`` (status = 'new'), whatever the number of done items. A second case is a
store just created with a backlog of ``--backlog`` new items and no statistics yet (before the
first ANALYZE), where an earlier index set let the planner read and sort the whole backlog.

    .venv/bin/python benchmarks/claim_explain.py [--done 100000] [--pg URL]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from orchestrator.queue.models import ItemStatus
from orchestrator.queue.statements import QueueStatements
from orchestrator.queue.tables import WorkItemRow
from orchestrator.store import open_store

ITEMS = WorkItemRow.__table__  # type: ignore[attr-defined]


def claim_query(now: datetime, dialect_pg: bool) -> Any:
    """The runners' own candidate query (``QueueStatements.candidates``), bound for ``now``."""
    statements = QueueStatements.build(
        postgresql=dialect_pg, insert=pg_insert if dialect_pg else sqlite_insert
    )
    return statements.candidates.params(now=now, lim=8)


def seed(store: object, done: int, new: int = 20, analyze: bool = True) -> None:
    now = datetime.now(UTC)
    rows = []
    for n in range(done + new):
        status = ItemStatus.done.value if n < done else ItemStatus.new.value
        rows.append(
            {
                "id": uuid.uuid4().hex,
                "bot": f"bot-{n % 5}",
                "reference": f"ref-{n}",
                "status": status,
                "priority": n % 3,
                # half the new items have a deadline: the claim takes those first
                "deadline": now + timedelta(hours=n % 7)
                if status == ItemStatus.new.value and n % 2
                else None,
                "inputs_json": "{}",
                "source": "seed",
                "created_at": now,
                "updated_at": now,
                "finished_at": now if status == ItemStatus.done.value else None,
                "attempts": 1,
                "crashes": 0,
                "token": 1,
                "touched_by_person": False,
            }
        )
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        for start in range(0, len(rows), 5000):
            conn.execute(insert(ITEMS), rows[start : start + 5000])
        if not analyze:
            return
        if store.is_sqlite:  # type: ignore[attr-defined]
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.execute(text("ANALYZE work_items"))


def positional_sql(query: Any, store: Any) -> tuple[str, list[str]]:
    """PostgreSQL: ``query`` compiled with ``$n`` parameters (for PREPARE) and their names in order."""
    names: list[str] = []

    def positional(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return re.sub(r"%\((\w+)\)s", positional, str(query.compile(store.engine))), names


def claim_plan(store: Any, analyze: bool = False) -> str:
    """The plan of the runners' own candidate query, as the database runs it now.

    The runners' statements are prepared on PostgreSQL, and after a few executions a prepared
    statement may run on a generic plan (made without the parameters' values): that is the plan
    shown there (``analyze``: EXPLAIN ANALYZE, which runs it).
    """
    pg = not store.is_sqlite
    query = QueueStatements.build(postgresql=pg, insert=pg_insert if pg else sqlite_insert).candidates
    with store.engine.connect() as conn:
        if not pg:
            bound = query.params(now=datetime.now(UTC), lim=8)
            compiled = str(bound.compile(store.engine, compile_kwargs={"literal_binds": True}))
            return "\n".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled))
        sql, names = positional_sql(query, store)
        if names != ["now", "lim"]:
            raise AssertionError(f"the candidate query's parameters changed: {names}")
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql(f"PREPARE claim_plan AS {sql}")
        prefix = "EXPLAIN (ANALYZE) " if analyze else "EXPLAIN "
        rows = conn.exec_driver_sql(prefix + "EXECUTE claim_plan(now(), 8)").all()
        conn.rollback()
    return "\n".join(str(row[0]) for row in rows)


def handover_claim_plan(store: Any) -> str:
    """PostgreSQL: the generic plan of the runners' claim with a finished item's slots
    (``QueueStatements.claim_with_handover``), explained without running it."""
    query = QueueStatements.build(postgresql=True, insert=pg_insert).claim_with_handover
    assert query is not None
    sql, names = positional_sql(query, store)
    values = {
        "now": "now()",
        "until": "now()",
        "caps": "ARRAY['bot:ledger-bot']",
        "slot_nos": "ARRAY[0]",
        "slot_tokens": "ARRAY[1]",
        "owner": "'runner'",
        "bot": "'ledger-bot'",
        "new_run_id": "NULL",
        "slots_needed": "1",
    }
    with store.engine.connect() as conn:
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql(f"PREPARE handover_plan AS {sql}")
        rows = conn.exec_driver_sql(
            f"EXPLAIN EXECUTE handover_plan({', '.join(values[n] for n in names)})"
        ).all()
        conn.rollback()
    return "\n".join(str(row[0]) for row in rows)


def explain(url: str, done: int, new: int = 20, analyze: bool = True) -> None:
    store = open_store(url)
    seed(store, done, new, analyze)
    query = claim_query(datetime.now(UTC), not store.is_sqlite)
    plan = claim_plan(store, analyze=True)
    with store.engine.connect() as conn:
        timings = []
        for _ in range(50):
            started = time.perf_counter()
            conn.execute(query).all()
            timings.append((time.perf_counter() - started) * 1000)
            conn.rollback()
    name = "SQLite" if store.is_sqlite else "PostgreSQL (generic plan of the prepared statement)"
    stats = "" if analyze else ", no statistics yet"
    print(f"\n## {name}, {done:,} done items + {new:,} new{stats}\n")
    print("```")
    print(str(query.compile(store.engine)).strip())
    print("--")
    print(plan)
    print("```")
    print(f"median {statistics.median(timings):.2f} ms over 50 runs")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--done", type=int, default=100_000)
    parser.add_argument("--backlog", type=int, default=2_000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        explain(f"sqlite:///{Path(tmp) / 'explain.db'}", args.done)
        explain(f"sqlite:///{Path(tmp) / 'fresh.db'}", 0, args.backlog, analyze=False)
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from queue_throughput import PgSchema, pg_params

    params = pg_params(args.pg)
    if params is None:
        print(f"\nPostgreSQL at {args.pg} is not reachable: skipped")
        return
    with PgSchema(params, args.pg) as schema:
        explain(schema.url, args.done)
    with PgSchema(params, args.pg) as schema:
        explain(schema.url, 0, args.backlog, analyze=False)


if __name__ == "__main__":
    main()
