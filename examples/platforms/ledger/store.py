"""Ledger entries: one SQLite row per POST, never deduplicated (the chaos test counts duplicates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from examples.platforms.common import sqlite
from examples.platforms.common.money import format_amount

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    reference TEXT NOT NULL,
    account TEXT NOT NULL,
    amount TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_reference ON entries (reference);
"""


@dataclass(frozen=True)
class Entry:
    """One recorded entry."""

    entry_id: int
    reference: str
    account: str
    amount: Decimal
    created_at: str

    def to_json(self) -> dict[str, object]:
        return {
            "entry_id": self.entry_id,
            "reference": self.reference,
            "account": self.account,
            "amount": format_amount(self.amount),
            "created_at": self.created_at,
        }


class LedgerStore:
    """Entries in ``ledger.sqlite3``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        sqlite.initialise(path, _SCHEMA)

    def add(self, reference: str, account: str, amount: Decimal) -> Entry:
        """Record one entry and return it."""
        created_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        with sqlite.transaction(self.path) as db:
            cursor = db.execute(
                "INSERT INTO entries (reference, account, amount, created_at) VALUES (?, ?, ?, ?)",
                (reference, account, format_amount(amount), created_at),
            )
        assert cursor.lastrowid is not None
        return Entry(cursor.lastrowid, reference, account, amount, created_at)

    def find(self, reference: str) -> list[Entry]:
        """Every entry with ``reference``, oldest first."""
        with sqlite.transaction(self.path) as db:
            rows = db.execute(
                "SELECT * FROM entries WHERE reference = ? ORDER BY entry_id", (reference,)
            ).fetchall()
        return [_entry(row) for row in rows]

    def all(self) -> list[Entry]:
        """Every entry, oldest first."""
        with sqlite.transaction(self.path) as db:
            rows = db.execute("SELECT * FROM entries ORDER BY entry_id").fetchall()
        return [_entry(row) for row in rows]


def _entry(row: sqlite.Row) -> Entry:
    return Entry(row["entry_id"], row["reference"], row["account"], Decimal(row["amount"]), row["created_at"])
