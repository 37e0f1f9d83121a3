"""A write transaction on the hot path, whichever way the backend runs it.

A runner's per-item transactions (claim and start a run, checkpoint a step, finish the run and
its item) are written against ``StoreTx``: reads whose rows are needed now, writes whose
result is not, and writes that must change exactly one row (fences). On SQLite it is the
store's own ``sqlite3`` connection (``orchestrator.store.sqlite_tx``, checks at once); on
PostgreSQL a pipelined connection (``orchestrator.store.pg_pipeline``) that sends the writes
together and checks the fences before it commits — the same outcome, fewer round trips; off
the hot path (the reaper), a SQLAlchemy connection (``ConnTx``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection

from orchestrator.models import AuditEvent


class StoreTx(Protocol):
    """One write transaction; ``append`` chains an audit event into it."""

    append: Callable[[AuditEvent], None]

    def rows(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        """Run ``stmt`` now and return its rows (attribute access by column name)."""
        ...

    def rows_many(self, statements: Sequence[tuple[Any, dict[str, Any]]]) -> list[list[Any]]:
        """Run each ``(stmt, params)`` in order and return the rows of each (sent together)."""
        ...

    def rows_at_commit(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        """Run ``stmt``; the list returned holds its rows once the transaction has committed
        (they may be read with the commit, saving a round trip)."""
        ...

    def write(self, stmt: Any, params: dict[str, Any] | Sequence[dict[str, Any]]) -> None:
        """Run ``stmt`` (once per parameter set); its result is not needed."""
        ...

    def write_one(self, stmt: Any, params: dict[str, Any], lost: Callable[[], Exception]) -> None:
        """Run ``stmt``, which must change exactly one row; else ``lost()`` is raised and the
        transaction rolls back (at the latest before it commits)."""
        ...

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the transaction has committed (never if it rolls back)."""
        ...


class AfterCommit:
    """The ``after_commit`` part of ``StoreTx``; ``SQLRunStore.hot_tx`` calls ``committed``."""

    def __init__(self) -> None:
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def committed(self) -> None:
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()


class ConnTx(AfterCommit):
    """``StoreTx`` over a SQLAlchemy connection: every statement runs and is checked at once."""

    def __init__(self, conn: Connection, append: Callable[[AuditEvent], None]) -> None:
        super().__init__()
        self.conn = conn
        self.append = append

    def rows(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        return list(self.conn.execute(stmt, params).all())

    def rows_many(self, statements: Sequence[tuple[Any, dict[str, Any]]]) -> list[list[Any]]:
        return [self.rows(stmt, params) for stmt, params in statements]

    def rows_at_commit(self, stmt: Any, params: dict[str, Any]) -> list[Any]:
        return self.rows(stmt, params)

    def write(self, stmt: Any, params: dict[str, Any] | Sequence[dict[str, Any]]) -> None:
        if isinstance(params, dict):
            self.conn.execute(stmt, params)
        elif params:
            self.conn.execute(stmt, list(params))

    def write_one(self, stmt: Any, params: dict[str, Any], lost: Callable[[], Exception]) -> None:
        if self.conn.execute(stmt, params).rowcount != 1:
            raise lost()


def compile_for(stmt: Any, params: dict[str, Any], dialect: Any) -> tuple[Any, dict[str, Any]]:
    """``stmt`` compiled for ``dialect`` (an INSERT names the columns given, an UPDATE keeps its
    own SET list) and the value of every parameter the caller does not give: the statement's
    own bound values and the client-side defaults SQLAlchemy would fill in for the columns an
    INSERT leaves out — for the hot paths that compile a statement once and run it outside
    SQLAlchemy."""
    columns, defaults = None, {}
    if stmt.is_insert:
        for column in stmt.table.columns:
            if column.key in params or column.default is None:
                continue
            if not column.default.is_scalar:
                raise ValueError(f"{stmt.table.name}.{column.key} has a computed default: give it a value")
            defaults[column.key] = column.default.arg
        columns = [*params, *defaults]
    compiled = stmt.compile(dialect=dialect, column_keys=columns)
    return compiled, {**compiled.params, **defaults}
