"""Tiny SQLite helpers: every platform keeps its records in one file under its data folder."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

Row = sqlite3.Row


def initialise(path: Path, schema: str) -> None:
    """Create the database file at ``path`` (WAL mode) and run the idempotent ``schema`` script."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=10)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(schema)
    finally:
        connection.close()


@contextmanager
def transaction(path: Path, *, immediate: bool = False) -> Iterator[sqlite3.Connection]:
    """Open ``path``, yield a connection inside one transaction, commit (or roll back) and close.

    A fresh connection per operation keeps the stores safe to use from uvicorn's thread pool, the
    Tk main loop and a test process reading the same file at the same time.

    Args:
        path: the database file.
        immediate: take the write lock at once (``BEGIN IMMEDIATE``), for read-then-write logic
            that must not interleave with another writer.
    """
    connection = sqlite3.connect(path, timeout=10)
    connection.row_factory = sqlite3.Row
    # WAL with synchronous=NORMAL survives a killed process (what the chaos tests do); only a
    # power cut could lose the last commits, which does not matter for an example platform.
    connection.execute("PRAGMA synchronous=NORMAL")
    try:
        with connection:
            if immediate:
                connection.execute("BEGIN IMMEDIATE")
            yield connection
    finally:
        connection.close()
