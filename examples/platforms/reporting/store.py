"""Reports kept by reference: one row per reference, repeats counted, conflicts refused."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from examples.platforms.common import sqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id TEXT UNIQUE,
    reference TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL,
    received_count INTEGER NOT NULL,
    first_received_at TEXT NOT NULL,
    last_received_at TEXT NOT NULL
);
"""


class Outcome(StrEnum):
    """What :meth:`ReportStore.submit` did with a record."""

    created = "created"
    repeated = "repeated"
    conflict = "conflict"


@dataclass(frozen=True)
class StoredReport:
    """A report as kept: the record (JSON-ready) plus bookkeeping."""

    report_id: str
    record: dict[str, Any]
    received_count: int
    first_received_at: str
    last_received_at: str

    def to_json(self) -> dict[str, Any]:
        """The record's fields plus ``report_id``, ``received_count`` and the receipt times."""
        return {
            "report_id": self.report_id,
            **self.record,
            "received_count": self.received_count,
            "first_received_at": self.first_received_at,
            "last_received_at": self.last_received_at,
        }


@dataclass(frozen=True)
class Submission:
    """The result of one submit: the outcome, the stored report and, on conflict, what differs."""

    outcome: Outcome
    report: StoredReport
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)


class ReportStore:
    """Reports in ``reporting.sqlite3``, idempotent by reference."""

    def __init__(self, path: Path) -> None:
        self.path = path
        sqlite.initialise(path, _SCHEMA)

    def submit(self, record: dict[str, Any]) -> Submission:
        """Keep ``record`` (JSON-ready, with a ``reference``) unless its reference is known.

        A repeat with the same fields counts one more receipt; a repeat with different fields
        changes nothing and reports the differences.
        """
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with sqlite.transaction(self.path, immediate=True) as db:
            row = db.execute("SELECT * FROM reports WHERE reference = ?", (record["reference"],)).fetchone()
            if row is None:
                cursor = db.execute(
                    "INSERT INTO reports (reference, record, received_count, first_received_at,"
                    " last_received_at) VALUES (?, ?, 1, ?, ?)",
                    (record["reference"], json.dumps(record, ensure_ascii=False), now, now),
                )
                report_id = f"RPT-{cursor.lastrowid:08d}"
                db.execute("UPDATE reports SET report_id = ? WHERE id = ?", (report_id, cursor.lastrowid))
                return Submission(Outcome.created, StoredReport(report_id, record, 1, now, now))
            stored = _report(row)
            conflicts = {
                name: {"reported": stored.record.get(name), "received": record.get(name)}
                for name in sorted(set(stored.record) | set(record))
                if stored.record.get(name) != record.get(name)
            }
            if conflicts:
                return Submission(Outcome.conflict, stored, conflicts)
            db.execute(
                "UPDATE reports SET received_count = received_count + 1, last_received_at = ? WHERE id = ?",
                (now, row["id"]),
            )
            return Submission(
                Outcome.repeated,
                StoredReport(
                    stored.report_id, stored.record, stored.received_count + 1, stored.first_received_at, now
                ),
            )

    def get(self, reference: str) -> StoredReport | None:
        """The report kept for ``reference``, if any."""
        with sqlite.transaction(self.path) as db:
            row = db.execute("SELECT * FROM reports WHERE reference = ?", (reference,)).fetchone()
        return _report(row) if row is not None else None

    def all(self) -> list[StoredReport]:
        """Every report, in the order received."""
        with sqlite.transaction(self.path) as db:
            rows = db.execute("SELECT * FROM reports ORDER BY id").fetchall()
        return [_report(row) for row in rows]


def _report(row: sqlite.Row) -> StoredReport:
    return StoredReport(
        report_id=row["report_id"],
        record=json.loads(row["record"]),
        received_count=row["received_count"],
        first_received_at=row["first_received_at"],
        last_received_at=row["last_received_at"],
    )
