"""The claim query's plan with 100,000 done items in the table (SQLite and PostgreSQL).

Seeds ``--done`` finished items and a few new ones, then prints the plan of the exact query a
runner sends to find claimable items (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN ANALYZE`` on
PostgreSQL) and times it. The query must stay an index scan on the partial index
``ix_work_items_claim`` (status = 'new'), whatever the number of done items.

    .venv/bin/python benchmarks/claim_explain.py [--done 100000] [--pg URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, text

from orchestrator.queue.models import ItemStatus
from orchestrator.queue.statements import QueueStatements
from orchestrator.queue.tables import WorkItemRow
from orchestrator.store import open_store

ITEMS = WorkItemRow.__table__  # type: ignore[attr-defined]


def claim_query(now: datetime, dialect_pg: bool) -> object:
    """The runners' own candidate query (``QueueStatements.candidates``), bound for ``now``."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    statements = QueueStatements.build(
        postgresql=dialect_pg, insert=pg_insert if dialect_pg else sqlite_insert
    )
    return statements.candidates.params(now=now, lim=8)


def seed(store: object, done: int) -> None:
    now = datetime.now(UTC)
    rows = []
    for n in range(done + 20):
        status = ItemStatus.done.value if n < done else ItemStatus.new.value
        rows.append(
            {
                "id": uuid.uuid4().hex,
                "bot": f"bot-{n % 5}",
                "reference": f"ref-{n}",
                "status": status,
                "priority": n % 3,
                "inputs_json": "{}",
                "source": "seed",
                "created_at": now,
                "updated_at": now,
                "attempts": 1,
                "crashes": 0,
                "token": 1,
                "touched_by_person": False,
            }
        )
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        for start in range(0, len(rows), 5000):
            conn.execute(insert(ITEMS), rows[start : start + 5000])
        if store.is_sqlite:  # type: ignore[attr-defined]
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.execute(text("ANALYZE work_items"))


def explain(url: str, done: int) -> None:
    store = open_store(url)
    seed(store, done)
    pg = not store.is_sqlite
    query = claim_query(datetime.now(UTC), pg)
    compiled = query.compile(store.engine, compile_kwargs={"literal_binds": True})
    with store.engine.connect() as conn:
        prefix = "EXPLAIN ANALYZE " if pg else "EXPLAIN QUERY PLAN "
        plan = conn.exec_driver_sql(prefix + str(compiled)).all()
        timings = []
        for _ in range(50):
            started = time.perf_counter()
            conn.execute(query).all()
            timings.append((time.perf_counter() - started) * 1000)
            conn.rollback()
    name = "PostgreSQL" if pg else "SQLite"
    print(f"\n## {name}, {done:,} done items + 20 new\n")
    print("```")
    print(str(compiled).strip())
    print("--")
    for row in plan:
        print(row[-1] if not pg else row[0])
    print("```")
    print(f"median {statistics.median(timings):.2f} ms over 50 runs")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--done", type=int, default=100_000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        explain(f"sqlite:///{Path(tmp) / 'explain.db'}", args.done)
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from queue_throughput import PgSchema, pg_params

    params = pg_params(args.pg)
    if params is None:
        print(f"\nPostgreSQL at {args.pg} is not reachable: skipped")
        return
    with PgSchema(params, args.pg) as schema:
        explain(schema.url, args.done)


if __name__ == "__main__":
    main()
