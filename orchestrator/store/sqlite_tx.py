"""The SQLite hot path: a runner's per-item transactions on the store's own DBAPI connection.

On SQLite the database runs inside the runner's process, so what a transaction costs is the
Python around it: through SQLAlchemy, each statement pays for a pooled connection's checkout,
the execution context, a parameter dictionary rebuilt and converted value by value, and a
result object — about 2.5 ms of a work item's ≈ 5 ms here (``benchmarks/queue_item_cost.py
--sqlite``, py-spy). ``SqliteTx`` runs the same prebuilt SQLAlchemy statements, compiled once
for SQLite, straight on the ``sqlite3`` connection the step checkpoints already use
(``sqlite_fastpath``): parameters in the order the compiled SQL wants them, datetimes written
as SQLAlchemy writes them (naive UTC text), and the columns' own result processors applied to
the rows it reads. Every statement runs and is checked at once, as with ``ConnTx``.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect

from orchestrator.errors import StoreUnavailable, UniqueConflict
from orchestrator.models import AuditEvent
from orchestrator.store.sqlite_fastpath import sqlite_datetime
from orchestrator.store.tx import AfterCommit, compile_for


class SqliteStatement:
    """One statement compiled for SQLite: its SQL, the parameter of each ``?``, and how to read
    its rows."""

    __slots__ = ("compiled", "defaults", "expanding", "loaders", "names", "row", "sql", "stmt")

    def __init__(self, stmt: Any, params: dict[str, Any], dialect: Dialect) -> None:
        self.compiled, self.defaults = compile_for(stmt, params, dialect)
        self.stmt = stmt
        self.sql: str = self.compiled.string
        self.names: tuple[str, ...] = tuple(self.compiled.positiontup or ())
        # an IN list whose length is known at execution only (a runner's ``--bot`` filter)
        self.expanding = "POSTCOMPILE" in self.sql
        # the columns' own result processors (datetimes are read back from text), by position
        self.loaders: tuple[Callable[[Any], Any] | None, ...] = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in getattr(stmt, "exported_columns", ())
        )
        self.row: Any = None  # the namedtuple class of its rows, made from the first result

    def values(self, params: dict[str, Any]) -> tuple[str, list[Any]]:
        """The SQL and its values, in the order of its placeholders."""
        if self.expanding:
            state = self.compiled.construct_expanded_state({**self.defaults, **params})
            return state.statement, [_bind(state.parameters[n]) for n in state.positiontup or ()]
        defaults = self.defaults
        return self.sql, [_bind(params[n] if n in params else defaults[n]) for n in self.names]

    def load(self, cursor: sqlite3.Cursor) -> list[Any]:
        fetched = cursor.fetchall()
        if self.row is None:
            names = [d[0] for d in cursor.description or ()]
            if self.loaders and len(names) != len(self.loaders):  # no loaders: text() SQL, as read
                raise RuntimeError(f"{len(names)} columns read, {len(self.loaders)} expected: {self.sql}")
            self.row = namedtuple("Row", names, rename=True)  # type: ignore[misc]
        make, loaders = self.row._make, self.loaders
        if not any(loaders):
            return [make(r) for r in fetched]
        return [make([v if f is None else f(v) for f, v in zip(loaders, r, strict=True)]) for r in fetched]


def _bind(value: Any) -> Any:
    """A value as SQLAlchemy's SQLite types store it (datetimes as naive UTC text)."""
    if type(value) is datetime:
        return sqlite_datetime(value)
    return value


class SqliteStatements:
    """The statements compiled so far, per statement object and parameter names."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._compiled: dict[tuple[int, tuple[str, ...]], SqliteStatement] = {}

    def get(self, stmt: Any, params: dict[str, Any]) -> SqliteStatement:
        key = (id(stmt), tuple(params))
        hit = self._compiled.get(key)
        if hit is None or hit.stmt is not stmt:  # holding stmt keeps its id
            hit = self._compiled[key] = SqliteStatement(stmt, params, self._dialect)
        return hit


class SqliteTx(AfterCommit):
    """``StoreTx`` on the store's DBAPI connection, inside ``BEGIN IMMEDIATE`` (see the module
    docstring); ``SQLRunStore.hot_tx`` commits it and writes its audit rows."""

    def __init__(
        self, statements: SqliteStatements, cursor: sqlite3.Cursor, append: Callable[[AuditEvent], None]
    ) -> None:
        super().__init__()
        self._statements = statements
        self._cursor = cursor
        self.append = append

    def _run(self, stmt: Any, params: dict[str, Any]) -> SqliteStatement:
        statement = self._statements.get(stmt, params)
        _execute(self._cursor, *statement.values(params))
        return statement

    def rows(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        return self._run(stmt, params).load(self._cursor)

    def rows_many(self, statements: Sequence[tuple[Any, dict[str, Any]]]) -> list[list[Any]]:
        return [self.rows(stmt, params) for stmt, params in statements]

    def rows_at_commit(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        return self.rows(stmt, params)

    def write(self, stmt: Any, params: dict[str, Any] | Sequence[dict[str, Any]]) -> None:
        for one in [params] if isinstance(params, dict) else params:
            self._run(stmt, one)
            if self._cursor.description is not None:  # RETURNING: read to the end
                self._cursor.fetchall()

    def write_one(self, stmt: Any, params: dict[str, Any], lost: Callable[[], Exception]) -> None:
        self._run(stmt, params)
        cursor = self._cursor
        # with RETURNING, sqlite3 counts the changed rows only once they are all read
        changed = len(cursor.fetchall()) if cursor.description is not None else cursor.rowcount
        if changed != 1:
            raise lost()

    def write_rows(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run ``sql`` (plain SQLite SQL) once per row of values (the transaction's audit rows)."""
        _execute(self._cursor, sql, rows, many=True)


def _execute(cursor: sqlite3.Cursor, sql: str, values: Sequence[Any], *, many: bool = False) -> None:
    try:
        if many:
            cursor.executemany(sql, values)
        else:
            cursor.execute(sql, values)
    except sqlite3.IntegrityError as exc:
        if "UNIQUE constraint failed" in str(exc):
            raise UniqueConflict(None, f"store write failed: {exc}") from exc
        raise
    except sqlite3.OperationalError as exc:  # locked past the busy timeout, disk full, I/O
        raise StoreUnavailable(f"store write failed: {exc}") from exc
