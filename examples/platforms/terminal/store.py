"""The terminal's record of submitted payments: one SQLite row per submission, duplicates included."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from examples.platforms.common import sqlite
from examples.platforms.common.money import format_amount
from examples.platforms.terminal.rules import PaymentInput

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    serial_no TEXT UNIQUE,
    reference TEXT NOT NULL,
    payer_account TEXT NOT NULL,
    payer_name TEXT NOT NULL,
    payee_account TEXT NOT NULL,
    payee_name TEXT NOT NULL,
    payee_bank_code TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    purpose TEXT NOT NULL,
    operator TEXT NOT NULL,
    submitted_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_reference ON payments (reference);
"""


@dataclass(frozen=True)
class Payment:
    """A submitted payment as the terminal recorded it."""

    serial_no: str
    reference: str
    payer_account: str
    payer_name: str
    payee_account: str
    payee_name: str
    payee_bank_code: str
    amount: Decimal
    currency: str
    purpose: str
    operator: str
    submitted_at: str

    def to_json(self) -> dict[str, str]:
        """The payment as JSON-ready strings (the amount with two decimals)."""
        return {**asdict(self), "amount": format_amount(self.amount)}


class TerminalStore:
    """Payments in ``terminal.sqlite3``; safe to read from another process while the terminal runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        sqlite.initialise(path, _SCHEMA)

    def submit(self, payment: PaymentInput, *, operator: str) -> Payment:
        """Record ``payment`` and return it with its serial number (``CT`` + 8 digits)."""
        submitted_at = datetime.now(UTC).isoformat(timespec="seconds")
        with sqlite.transaction(self.path) as db:
            cursor = db.execute(
                "INSERT INTO payments (reference, payer_account, payer_name, payee_account, payee_name,"
                " payee_bank_code, amount, currency, purpose, operator, submitted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'CNY', ?, ?, ?)",
                (
                    payment.reference,
                    payment.payer_account,
                    payment.payer_name,
                    payment.payee_account,
                    payment.payee_name,
                    payment.payee_bank_code,
                    format_amount(payment.amount),
                    payment.purpose,
                    operator,
                    submitted_at,
                ),
            )
            serial_no = f"CT{cursor.lastrowid:08d}"
            db.execute("UPDATE payments SET serial_no = ? WHERE id = ?", (serial_no, cursor.lastrowid))
        return Payment(
            serial_no=serial_no,
            currency="CNY",
            operator=operator,
            submitted_at=submitted_at,
            **asdict(payment),
        )

    def find(self, reference: str) -> list[Payment]:
        """Every payment submitted with ``reference``, oldest first."""
        with sqlite.transaction(self.path) as db:
            rows = db.execute(
                "SELECT * FROM payments WHERE reference = ? ORDER BY id", (reference,)
            ).fetchall()
        return [_payment(row) for row in rows]

    def all(self) -> list[Payment]:
        """Every payment submitted, oldest first."""
        with sqlite.transaction(self.path) as db:
            rows = db.execute("SELECT * FROM payments ORDER BY id").fetchall()
        return [_payment(row) for row in rows]


def _payment(row: sqlite.Row) -> Payment:
    fields = {name: row[name] for name in Payment.__dataclass_fields__}
    return Payment(**{**fields, "amount": Decimal(row["amount"])})
