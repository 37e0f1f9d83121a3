"""The PostgreSQL hot path: a runner's per-item transactions in psycopg pipeline mode.

A busy runner's item costs one transaction on PostgreSQL (finish the run and the item, and
claim the next item and start its run) of about six statements. Sent one by one through
SQLAlchemy, each statement is a network round trip plus ≈70 µs of SQLAlchemy execution
machinery — together several times the cost of the commit itself
(``benchmarks/queue_throughput.py``). Here the statements whose result is not needed at once
are queued in libpq's pipeline and sent with the next read or the final sync (``BEGIN`` and
``COMMIT`` included: the connection is in autocommit mode, so psycopg adds no sync of its own
after an implicit ``BEGIN``); fences ("exactly
one row") are checked as soon as their results are back (at the next read, else after a sync)
and always before COMMIT, so a runner that lost its lease still writes nothing.

The statements are the store's and the queue's prebuilt SQLAlchemy statements, compiled once
for this dialect; their values need no SQLAlchemy type processing on psycopg (datetimes,
booleans, integers and text all pass through as they would under SQLAlchemy).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Engine, bindparam, insert

from orchestrator.errors import StoreUnavailable
from orchestrator.models import AuditEvent
from orchestrator.store.tx import AfterCommit

#: rows per multi-row INSERT (each row count is a statement of its own to prepare)
MAX_ROWS_PER_INSERT = 16


class PipelineTx(AfterCommit):
    """``StoreTx`` on a pipelined psycopg connection (see the module docstring)."""

    append: Callable[[AuditEvent], None]

    def __init__(self, owner: PgPipeline, conn: psycopg.Connection[Any]) -> None:
        super().__init__()
        self._owner = owner
        self._conn = conn
        self._fences: list[tuple[psycopg.Cursor[Any], Callable[[], Exception]]] = []
        self._checked = 0  # fences whose results came back with an earlier fetch, and passed

    def _send(self, stmt: Any, params: dict[str, Any]) -> psycopg.Cursor[Any]:
        sql, defaults = self._owner.compiled(stmt, params)
        cursor = self._conn.cursor(row_factory=namedtuple_row)
        cursor.execute(sql, {**defaults, **params})
        return cursor

    def rows(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        rows = self._send(stmt, params).fetchall()  # fetching syncs what was queued before it
        self.check_fences()
        return rows

    def rows_many(self, statements: Sequence[tuple[Any, dict[str, Any]]]) -> list[list[Any]]:
        cursors = [self._send(stmt, params) for stmt, params in statements]  # all sent, then fetched
        rows = [cursor.fetchall() for cursor in cursors]
        self.check_fences()
        return rows

    def write(self, stmt: Any, params: dict[str, Any] | Sequence[dict[str, Any]]) -> None:
        for one in [params] if isinstance(params, dict) else params:
            self._send(stmt, one)

    def write_one(self, stmt: Any, params: dict[str, Any], lost: Callable[[], Exception]) -> None:
        self._fences.append((self._send(stmt, params), lost))

    def insert_rows(self, table: Any, rows: Sequence[dict[str, Any]]) -> None:
        """INSERT ``rows`` (each with the same keys) as multi-row statements, not one per row."""
        for start in range(0, len(rows), MAX_ROWS_PER_INSERT):
            chunk = rows[start : start + MAX_ROWS_PER_INSERT]
            columns = tuple(chunk[0])
            sql = self._owner.multi_row_insert(table, columns, len(chunk))
            params = {f"{c}_{n}": row[c] for n, row in enumerate(chunk) for c in columns}
            self._conn.cursor().execute(sql, params)

    @property
    def unchecked_fences(self) -> bool:
        """Fences sent since the last fetch: their results need a sync before COMMIT."""
        return self._checked < len(self._fences)

    def check_fences(self) -> None:
        """Check the fences whose results are in (all sent before the last fetch or sync).

        A fetch receives the results of everything queued before it, in order, so a fence
        sent before a read is checked right after that read: a runner that lost its lease
        stops there, and no sync is spent on it before COMMIT.
        """
        for cursor, lost in self._fences[self._checked :]:
            if cursor.rowcount != 1:
                raise lost()
        self._checked = len(self._fences)


def _column_defaults(table: Any, given: dict[str, Any]) -> dict[str, Any]:
    """The client-side defaults SQLAlchemy would fill in for the columns an INSERT leaves out."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.key in given or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"{table.name}.{column.key} has a computed default: give it a value")
        defaults[column.key] = column.default.arg
    return defaults


class PgPipeline:
    """One pooled connection kept for the hot path; statements compiled once per object."""

    def __init__(self, engine: Engine, idle_ping_seconds: Callable[[], float]) -> None:
        self._engine = engine
        self._idle_ping_seconds = idle_ping_seconds
        self._fairy: Any = None
        self._last_used = 0.0
        self._compiled: dict[tuple[int, tuple[str, ...]], tuple[Any, str, dict[str, Any]]] = {}
        self._multi_row: dict[tuple[str, tuple[str, ...], int], str] = {}

    def multi_row_insert(self, table: Any, columns: tuple[str, ...], count: int) -> str:
        """``INSERT INTO table (columns) VALUES (…), …`` for ``count`` rows; its parameters
        are named ``<column>_<row>``."""
        key = (table.name, columns, count)
        sql = self._multi_row.get(key)
        if sql is None:
            rows = [{c: bindparam(f"{c}_{n}") for c in columns} for n in range(count)]
            sql = insert(table).values(rows).compile(dialect=self._engine.dialect).string
            self._multi_row[key] = sql
        return sql

    def compiled(self, stmt: Any, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """SQL text and default parameters of ``stmt`` (an INSERT names the columns given)."""
        key = (id(stmt), tuple(params))
        hit = self._compiled.get(key)
        if hit is None or hit[0] is not stmt:
            columns, defaults = None, {}  # an UPDATE keeps its own SET list
            if stmt.is_insert:
                defaults = _column_defaults(stmt.table, params)
                columns = [*params, *defaults]
            compiled = stmt.compile(dialect=self._engine.dialect, column_keys=columns)
            hit = (stmt, compiled.string, {**compiled.params, **defaults})  # holding stmt keeps its id
            self._compiled[key] = hit
        return hit[1], hit[2]

    def _connection(self) -> psycopg.Connection[Any]:
        if self._fairy is not None and time.monotonic() - self._last_used >= self._idle_ping_seconds():
            try:  # idle for a while: a restarted server or a firewall may have dropped it
                self._fairy.dbapi_connection.execute("SELECT 1")
                self._fairy.dbapi_connection.rollback()
            except psycopg.Error:
                self._drop()
        if self._fairy is None:
            self._fairy = self._engine.raw_connection()
            # BEGIN is sent by ``transaction`` as one more pipelined statement: psycopg's own
            # implicit BEGIN in pipeline mode is followed by a sync, a round trip of its own
            self._fairy.dbapi_connection.autocommit = True
        return self._fairy.dbapi_connection

    def _drop(self) -> None:
        if self._fairy is not None:
            with suppress(Exception):
                self._fairy.invalidate()
            self._fairy = None

    @contextmanager
    def transaction(self) -> Iterator[PipelineTx]:
        try:
            conn = self._connection()
        except Exception as exc:
            raise StoreUnavailable(f"store write failed: {exc}") from exc
        try:
            with conn.pipeline() as pipeline:
                conn.execute(b"BEGIN", prepare=False)
                tx = PipelineTx(self, conn)
                yield tx
                if tx.unchecked_fences:  # they are checked before COMMIT is sent
                    pipeline.sync()
                    tx.check_fences()
                conn.execute(b"COMMIT", prepare=False)
                pipeline.sync()
        except psycopg.OperationalError as exc:
            self._drop()
            raise StoreUnavailable(f"store write failed: {exc}") from exc
        except BaseException:
            try:
                conn.rollback()
            except psycopg.Error:
                self._drop()
            raise
        finally:
            self._last_used = time.monotonic()

    def close(self) -> None:
        if self._fairy is not None:
            with suppress(Exception):
                self._fairy.dbapi_connection.autocommit = False  # back to the pool as it came
                self._fairy.close()
            self._fairy = None
