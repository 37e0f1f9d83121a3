"""The SQLite hot path's connection, and its step checkpoint: fence + step upsert + audit
insert + commit (a runner's other per-item transactions run on the same connection through
``orchestrator.store.sqlite_tx``).

Going through SQLAlchemy's execution machinery costs about as much as the commit itself
(≈200 µs per checkpoint measured here), which would make a durable step cost more than two
raw commits. So on SQLite the checkpoint uses the DBAPI connection directly, with the same
schema and value formats SQLAlchemy uses (datetimes as naive UTC text, booleans as 0/1).
The contract test suite runs against this path and the SQLAlchemy one (PostgreSQL) alike.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import OperationalError

from orchestrator.errors import StoreUnavailable

FENCE_SQL = "UPDATE runs SET updated_at = ? WHERE id = ? AND epoch = ? AND status = 'running'"
FENCE_LEASE_SQL = (
    "UPDATE runs SET updated_at = ?, lease_until = ? WHERE id = ? AND epoch = ? AND status = 'running'"
)
STEP_COLUMNS = (
    "run_id",
    "step_id",
    "item_index",
    "status",
    "skill",
    "effect",
    "attempts",
    "idempotency_key",
    "params_json",
    "output_json",
    "error",
    "error_kind",
    "adopted",
    "started_at",
    "finished_at",
    "duration_ms",
)
# written out (not assembled) so that it reads as the SQL it is; the store contract tests run it
STEP_UPSERT_SQL = (
    "INSERT INTO step_states (run_id, step_id, item_index, status, skill, effect, attempts, idempotency_key, "
    "params_json, output_json, error, error_kind, adopted, started_at, finished_at, duration_ms) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (run_id, step_id, item_index) DO UPDATE SET status = excluded.status, skill = excluded.skill, "
    "effect = excluded.effect, attempts = excluded.attempts, idempotency_key = excluded.idempotency_key, "
    "params_json = excluded.params_json, output_json = excluded.output_json, error = excluded.error, "
    "error_kind = excluded.error_kind, adopted = excluded.adopted, started_at = excluded.started_at, "
    "finished_at = excluded.finished_at, duration_ms = excluded.duration_ms"
)
AUDIT_COLUMNS = (
    "chain",
    "seq",
    "at",
    "run_id",
    "step_id",
    "kind",
    "actor",
    "payload_json",
    "prev_hash",
    "hash",
)
AUDIT_INSERT_SQL = (
    "INSERT INTO audit_events (chain, seq, at, run_id, step_id, kind, actor, payload_json, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def sqlite_datetime(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DateTime type stores (naive UTC, microseconds)."""
    if value is None:
        return None
    zone = value.tzinfo
    if zone is not None:
        value = (value if zone is UTC else value.astimezone(UTC)).replace(tzinfo=None)
    # isoformat, not strftime: half the cost, and four-digit years as SQLAlchemy writes them
    return value.isoformat(" ", "microseconds")


class SQLiteFastPath:
    """A dedicated DBAPI connection for checkpoints (used under the store's writer lock)."""

    def __init__(self, raw_connection: Any) -> None:
        self._proxy = raw_connection
        self.connection: sqlite3.Connection = raw_connection.dbapi_connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        cursor = self.connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            cursor.close()
            raise StoreUnavailable(f"store write failed: {exc}") from exc
        try:
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK")
            cursor.close()
            raise
        try:
            cursor.execute("COMMIT")
        except (sqlite3.OperationalError, OperationalError) as exc:
            with suppress(sqlite3.OperationalError):
                cursor.execute("ROLLBACK")
            raise StoreUnavailable(f"store commit failed: {exc}") from exc
        finally:
            cursor.close()

    def close(self) -> None:
        self._proxy.close()
