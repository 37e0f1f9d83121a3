"""The PostgreSQL hot path: a runner's per-item transactions in libpq pipeline mode.

A busy runner's item costs one transaction on PostgreSQL (finish the run and the item, and
claim the next item and start its run) of about six statements. Sent one by one through
SQLAlchemy, each statement is a network round trip plus ≈70 µs of SQLAlchemy execution
machinery — together several times the cost of the commit itself
(``benchmarks/queue_throughput.py``). Here the statements whose result is not needed at once
are queued in libpq's pipeline and sent with the next read or the final sync (``BEGIN`` and
``COMMIT`` included); fences ("exactly one row") are checked as soon as their results are back
(at the next read, else after one more round trip) and always before COMMIT, so a runner that
lost its lease still writes nothing.

The statements are the store's and the queue's prebuilt SQLAlchemy statements, compiled once
for this dialect, which writes a cast after every typed parameter. They are driven through
psycopg's libpq layer (``psycopg.pq``), not its cursors: a cursor's per-statement work (query
conversion, a new adapter context, prepared-statement bookkeeping, one send per statement)
cost more client CPU than the engine running the item (docs/benchmarks.md). Each statement is
prepared once per connection with its parameter types left to the server (the casts and the
columns give them), and described once: its values go as text, dumped by psycopg's own text
dumpers, except aware datetimes for the parameters the server typed timestamptz, which go in
binary (the text form costs ten times more to write here and to parse there); rows are loaded
by psycopg's loaders. Everything queued goes out in one write at the next read or sync.
"""

from __future__ import annotations

import itertools
import re
import select
import time
from collections import deque, namedtuple
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any, NamedTuple

import psycopg
from psycopg import errors, postgres, pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy import Engine, bindparam, insert

from orchestrator.errors import StoreUnavailable, UniqueConflict
from orchestrator.models import AuditEvent
from orchestrator.store.tx import AfterCommit, compile_for

#: rows per multi-row INSERT (each row count is a statement of its own to prepare)
MAX_ROWS_PER_INSERT = 16
#: statements kept prepared on the hot-path connection; any further one is sent unprepared
MAX_PREPARED = 200

TIMESTAMPTZ_OID = postgres.types["timestamptz"].oid
_OK = pq.ExecStatus.COMMAND_OK
_TUPLES = pq.ExecStatus.TUPLES_OK
_SYNC = pq.ExecStatus.PIPELINE_SYNC
_PLACEHOLDER = re.compile(r"%\(([^)]+)\)s|%%")
# unique in the process: a connection given back to the pool keeps the statements it prepared
_names = itertools.count()


class Statement:
    """One compiled statement: SQL with ``$n`` placeholders, and the parameter of each."""

    __slots__ = ("defaults", "names", "row", "sql", "stamps")

    def __init__(self, sql: str, defaults: dict[str, Any], encoding: str) -> None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) is None:
                return "%"
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        self.sql = _PLACEHOLDER.sub(number, sql).encode(encoding)
        self.names = tuple(names)
        self.defaults = defaults
        self.row: tuple[int, Any] | None = None  # (columns, namedtuple class) of its rows
        # the parameters the server typed timestamptz (known once it described the statement):
        # an aware datetime goes there in binary, ten times cheaper to dump than its text
        self.stamps: tuple[int, ...] = ()

    def values(self, params: dict[str, Any]) -> list[Any]:
        defaults = self.defaults
        return [params[n] if n in params else defaults[n] for n in self.names]


_READABLE = select.POLLIN | select.POLLERR | select.POLLHUP


def _wait(fd: int, *, writing: bool) -> bool:
    """Block until ``fd`` can be read (or, ``writing``, written); True when it can be read (or
    failed: reading then raises the error). ``poll``, not ``select``: ``select`` refuses
    descriptors above 1023, which a long-running worker with a raised file limit may hold."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | (select.POLLOUT if writing else 0))
    return any(events & _READABLE for _, events in poller.poll())


class _Sent(NamedTuple):
    """A queued request whose result is still to be read."""

    statement: Statement | None  # None: BEGIN, COMMIT, ROLLBACK
    prepare: bytes | None  # the name of a PREPARE (its result confirms the name) or of a DESCRIBE
    lost: Callable[[], Exception] | None  # a fence: raised unless exactly one row changed
    rows: list[Any] | None  # filled with the rows when they are wanted


class PipelineTx(AfterCommit):
    """``StoreTx`` on a connection in libpq pipeline mode (see the module docstring)."""

    append: Callable[[AuditEvent], None]

    def __init__(self, owner: PgPipeline, pgconn: Any, adapt: Transformer) -> None:
        super().__init__()
        self._owner = owner
        self._pg = pgconn
        self._adapt = adapt
        self._dumper = adapt.get_dumper
        self._queued: deque[_Sent | None] = deque()  # None: a sync
        self._unchecked = False  # a fence was sent after the last read

    # -- StoreTx ---------------------------------------------------------------------------
    def rows(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        rows: list[Any] = []
        self._send(self._owner.statement(stmt, params), params, None, rows)
        self.exchange()
        return rows

    def rows_many(self, statements: Sequence[tuple[Any, dict[str, Any]]]) -> list[list[Any]]:
        out: list[list[Any]] = [[] for _ in statements]
        for (stmt, params), rows in zip(statements, out, strict=True):
            self._send(self._owner.statement(stmt, params), params, None, rows)
        self.exchange()
        return out

    def rows_at_commit(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        rows: list[Any] = []
        self._send(self._owner.statement(stmt, params), params, None, rows)
        return rows

    def write(self, stmt: Any, params: dict[str, Any] | Sequence[dict[str, Any]]) -> None:
        for one in [params] if isinstance(params, dict) else params:
            self._send(self._owner.statement(stmt, one), one, None, None)

    def write_one(self, stmt: Any, params: dict[str, Any], lost: Callable[[], Exception]) -> None:
        self._send(self._owner.statement(stmt, params), params, lost, None)
        self._unchecked = True

    def insert_rows(self, table: Any, rows: Sequence[dict[str, Any]]) -> None:
        """INSERT ``rows`` (each with the same keys) as multi-row statements, not one per row."""
        for start in range(0, len(rows), MAX_ROWS_PER_INSERT):
            chunk = rows[start : start + MAX_ROWS_PER_INSERT]
            columns = tuple(chunk[0])
            statement = self._owner.multi_row_insert(table, columns, len(chunk))
            self._send_values(statement, [row[c] for row in chunk for c in columns], None, None)

    # -- the wire --------------------------------------------------------------------------
    def _send(
        self,
        statement: Statement,
        params: dict[str, Any],
        lost: Callable[[], Exception] | None,
        rows: list[Any] | None,
    ) -> None:
        self._send_values(statement, statement.values(params), lost, rows)

    def _send_values(
        self,
        statement: Statement,
        values: list[Any],
        lost: Callable[[], Exception] | None,
        rows: list[Any] | None,
    ) -> None:
        stamps: list[tuple[int, datetime]] = []
        for i in statement.stamps:
            value = values[i]
            if type(value) is datetime and value.tzinfo is not None:
                stamps.append((i, value))
                values[i] = None
        dumper, text = self._dumper, PyFormat.TEXT
        dumped = [
            None if v is None else self._list(v) if type(v) is list else dumper(v, text).dump(v)
            for v in values
        ]
        formats = None
        if stamps:
            formats = [0] * len(values)
            stamp = self._owner.stamp
            for i, value in stamps:
                dumped[i], formats[i] = stamp(value), 1
        name, new = self._owner.name(statement)
        pg = self._pg
        if name is None:
            pg.send_query_params(statement.sql, dumped, param_formats=formats)
        else:
            if new:
                pg.send_prepare(name, statement.sql)
                pg.send_describe_prepared(name)
                self._queued.append(_Sent(None, name, None, None))
                self._queued.append(_Sent(statement, name, None, None))
            pg.send_query_prepared(name, dumped, param_formats=formats)
        self._queued.append(_Sent(statement, None, lost, rows))

    def _list(self, value: list[Any]) -> Any:
        literal = _array(value)
        if literal is None:
            return self._dumper(value, PyFormat.TEXT).dump(value)
        return literal.encode(self._adapt.encoding)

    def command(self, sql: bytes) -> None:
        """Queue a statement without parameters or rows (BEGIN, COMMIT, ROLLBACK)."""
        self._pg.send_query_params(sql, None)
        self._queued.append(_Sent(None, None, None, None))

    @property
    def unchecked_fences(self) -> bool:
        """Fences sent since the last read: their results need a round trip before COMMIT."""
        return self._unchecked

    def exchange(self, *, sync: bool = False) -> None:
        """Send what is queued and read every result back (one round trip).

        Results come back in order, so a fence sent before a read is checked right after that
        read: a runner that lost its lease stops there, and no round trip is spent on it
        before COMMIT.
        """
        pg = self._pg
        if sync:
            pg.pipeline_sync()
            self._queued.append(None)
        else:
            pg.send_flush_request()
        self._flush()
        failed: Exception | None = None
        while self._queued:
            sent = self._queued.popleft()
            res = self._result(end=sent is not None)
            if failed is None:
                failed = self._take(sent, res)
        self._unchecked = False
        if failed is not None:
            raise failed

    def _take(self, sent: _Sent | None, res: Any) -> Exception | None:
        """Use one result; the error it carries (the first one of a read is raised)."""
        status = res.status
        if sent is None:  # a sync
            return None
        if status != _OK and status != _TUPLES:
            if status == pq.ExecStatus.FATAL_ERROR:
                return errors.error_from_result(res, encoding=self._adapt.encoding)
            return errors.PipelineAborted("pipeline aborted")
        if sent.prepare is not None:
            if sent.statement is None:
                self._owner.prepared(sent.prepare)
            else:  # its description: the types the server gave its parameters
                sent.statement.stamps = tuple(
                    i for i in range(res.nparams) if res.param_type(i) == self._owner.stamp_oid
                )
        elif sent.lost is not None and res.command_tuples != 1:
            return sent.lost()
        elif sent.rows is not None and res.ntuples:
            sent.rows.extend(self._load(sent.statement, res))
        return None

    def _load(self, statement: Statement | None, res: Any) -> list[Any]:
        assert statement is not None
        if statement.row is None or statement.row[0] != res.nfields:
            names = [res.fname(i).decode() for i in range(res.nfields)]
            statement.row = (res.nfields, namedtuple("Row", names, rename=True))
        adapt = self._adapt
        adapt.set_pgresult(res)
        return adapt.load_rows(0, res.ntuples, statement.row[1]._make)

    def _flush(self) -> None:
        pg = self._pg
        while pg.flush():  # the socket is full: read meanwhile, the server may be writing to us
            if _wait(pg.socket, writing=True):
                pg.consume_input()

    def _result(self, *, end: bool) -> Any:
        """The next result; ``end``: it is a statement's, whose end marker is read too."""
        res = self._next()
        if end and res.status != _SYNC and self._next() is not None:
            raise psycopg.InternalError("a pipelined statement returned more than one result")
        return res

    def _next(self) -> Any:
        pg = self._pg
        while pg.is_busy():
            _wait(pg.socket, writing=False)
            pg.consume_input()
        return pg.get_result()

    def abandon(self) -> None:
        """After a failure: read what is still due, end pipeline mode, roll back."""
        pg = self._pg
        if not self._queued or self._queued[-1] is not None:
            pg.pipeline_sync()
            self._queued.append(None)
        self._flush()
        while self._queued:
            self._result(end=self._queued.popleft() is not None)
        pg.exit_pipeline_mode()
        if pg.transaction_status != pq.TransactionStatus.IDLE:
            pg.send_query_params(b"ROLLBACK", None)
            self._flush()
            while self._next() is not None:
                pass


def _array(values: list[Any]) -> str | None:
    """A flat list of strings or integers as a PostgreSQL array literal, else None (psycopg's
    list dumper looks into the list to choose its element dumper, several times the cost)."""
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif type(value) is str:
            parts.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif type(value) is int:
            parts.append(str(value))
        else:
            return None
    return "{" + ",".join(parts) + "}"


class PgPipeline:
    """One pooled connection kept for the hot path; statements compiled once per object and
    prepared once per connection."""

    def __init__(self, engine: Engine, idle_ping_seconds: Callable[[], float]) -> None:
        self._engine = engine
        self._idle_ping_seconds = idle_ping_seconds
        self._fairy: Any = None
        self._adapt: Transformer | None = None
        self._last_used = 0.0
        self._compiled: dict[tuple[int, tuple[str, ...]], tuple[Any, Statement]] = {}
        self._multi_row: dict[tuple[str, tuple[str, ...], int], Statement] = {}
        self._prepared: dict[Statement, bytes] = {}  # on the current connection
        self._preparing: dict[Statement, bytes] = {}  # sent, not confirmed yet
        self._confirmed: set[bytes] = set()
        self.stamp: Callable[[datetime], Any] = lambda _: None  # the binary timestamptz dumper
        self.stamp_oid = -1  # timestamptz, once a connection gave its dumper

    def _statement(self, sql: str, defaults: dict[str, Any]) -> Statement:
        return Statement(sql, defaults, self._adapt.encoding if self._adapt else "utf-8")

    def multi_row_insert(self, table: Any, columns: tuple[str, ...], count: int) -> Statement:
        """``INSERT INTO table (columns) VALUES (…), …`` for ``count`` rows; its values go row
        by row, column by column."""
        key = (table.name, columns, count)
        statement = self._multi_row.get(key)
        if statement is None:
            rows = [{c: bindparam(f"{c}_{n}") for c in columns} for n in range(count)]
            sql = insert(table).values(rows).compile(dialect=self._engine.dialect).string
            statement = self._statement(sql, {})
            if statement.names != tuple(f"{c}_{n}" for n in range(count) for c in columns):
                raise ValueError(f"unexpected parameter order in {sql}")
            self._multi_row[key] = statement
        return statement

    def statement(self, stmt: Any, params: dict[str, Any]) -> Statement:
        """``stmt`` compiled (an INSERT names the columns given), with its default values."""
        key = (id(stmt), tuple(params))
        hit = self._compiled.get(key)
        if hit is None or hit[0] is not stmt:
            compiled, defaults = compile_for(stmt, params, self._engine.dialect)
            hit = (stmt, self._statement(compiled.string, defaults))
            self._compiled[key] = hit  # holding stmt keeps its id
        return hit[1]

    def name(self, statement: Statement) -> tuple[bytes | None, bool]:
        """The statement's prepared name on this connection and whether it is to be prepared
        now; None when too many are prepared already."""
        name = self._prepared.get(statement) or self._preparing.get(statement)
        if name is not None:
            return name, False
        if len(self._prepared) + len(self._preparing) >= MAX_PREPARED:
            return None, False
        name = f"rpa_hot_{next(_names)}".encode()
        self._preparing[statement] = name
        return name, True

    def prepared(self, name: bytes) -> None:
        """The server confirmed a PREPARE."""
        self._confirmed.add(name)

    def _settle(self) -> None:
        """Keep the statements whose PREPARE the server confirmed; forget the others (a failed
        transaction may have skipped them: they are prepared again, under new names)."""
        for statement, name in self._preparing.items():
            if name in self._confirmed:
                self._prepared[statement] = name
        self._preparing.clear()
        self._confirmed.clear()

    def _connection(self) -> psycopg.Connection[Any]:
        if self._fairy is not None and time.monotonic() - self._last_used >= self._idle_ping_seconds():
            try:  # idle for a while: a restarted server or a firewall may have dropped it
                self._fairy.dbapi_connection.execute("SELECT 1", prepare=False)
            except psycopg.Error:
                self._drop()
        if self._fairy is None:
            self._fairy = self._engine.raw_connection()
            conn = self._fairy.dbapi_connection
            # BEGIN and COMMIT are sent by ``transaction`` as pipelined statements
            conn.autocommit = True
            self._adapt = Transformer(conn)
            self._prepared.clear()
            stamp = self._adapt.get_dumper(datetime.now(UTC), PyFormat.BINARY)
            if stamp.oid == TIMESTAMPTZ_OID:
                self.stamp, self.stamp_oid = stamp.dump, stamp.oid
        return self._fairy.dbapi_connection

    def _drop(self) -> None:
        if self._fairy is not None:
            with suppress(Exception):
                self._fairy.invalidate()
            self._fairy = None

    @contextmanager
    def transaction(self) -> Iterator[PipelineTx]:
        try:
            pgconn = self._connection().pgconn
            assert self._adapt is not None
            pgconn.enter_pipeline_mode()
        except Exception as exc:
            self._drop()
            raise StoreUnavailable(f"store write failed: {exc}") from exc
        tx = PipelineTx(self, pgconn, self._adapt)
        try:
            tx.command(b"BEGIN")
            yield tx
            if tx.unchecked_fences:  # they are checked before COMMIT is sent
                tx.exchange()
            tx.command(b"COMMIT")
            tx.exchange(sync=True)
            pgconn.exit_pipeline_mode()
        except psycopg.OperationalError as exc:
            self._drop()
            raise StoreUnavailable(f"store write failed: {exc}") from exc
        except BaseException as exc:
            if pgconn.status != pq.ConnStatus.OK:  # e.g. the server ended the session
                self._drop()
                if isinstance(exc, psycopg.Error):
                    raise StoreUnavailable(f"store write failed: {exc}") from exc
                raise
            try:
                tx.abandon()
            except psycopg.Error:
                self._drop()
            if isinstance(exc, errors.UniqueViolation):
                raise UniqueConflict(exc.diag.constraint_name, f"store write failed: {exc}") from exc
            raise
        finally:
            self._settle()
            self._last_used = time.monotonic()

    def close(self) -> None:
        if self._fairy is not None:
            with suppress(Exception):
                self._fairy.dbapi_connection.autocommit = False  # back to the pool as it came
                self._fairy.close()
            self._fairy = None
