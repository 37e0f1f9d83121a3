"""The portal's record of posted credits: one SQLite row per submission, duplicates included."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from examples.platforms.common import sqlite
from examples.platforms.common.money import format_amount

_SCHEMA = """
CREATE TABLE IF NOT EXISTS credits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    txn_no TEXT UNIQUE,
    reference TEXT NOT NULL,
    account_number TEXT NOT NULL,
    beneficiary_name TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    purpose_code TEXT NOT NULL,
    posted_by TEXT NOT NULL,
    posted_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS credits_reference ON credits (reference);
"""


@dataclass(frozen=True)
class CreditInput:
    """A validated "Post inbound credit" form."""

    account_number: str
    beneficiary_name: str
    amount: Decimal
    currency: str
    reference: str
    purpose_code: str


@dataclass(frozen=True)
class Credit:
    """A posted credit as the portal recorded it."""

    txn_no: str
    reference: str
    account_number: str
    beneficiary_name: str
    amount: Decimal
    currency: str
    purpose_code: str
    posted_by: str
    posted_at: str

    def to_json(self) -> dict[str, str]:
        """The credit as JSON-ready strings (the amount with two decimals)."""
        return {**asdict(self), "amount": format_amount(self.amount)}


class CreditStore:
    """Posted credits in ``portal.sqlite3``; safe to read from another process while the portal runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        sqlite.initialise(path, _SCHEMA)

    def post(self, credit: CreditInput, *, posted_by: str) -> Credit:
        """Record ``credit`` and return it with its new transaction number (``TXN-`` + 8 digits)."""
        posted_at = datetime.now(UTC).isoformat(timespec="seconds")
        with sqlite.transaction(self.path) as db:
            cursor = db.execute(
                "INSERT INTO credits (reference, account_number, beneficiary_name, amount, currency,"
                " purpose_code, posted_by, posted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    credit.reference,
                    credit.account_number,
                    credit.beneficiary_name,
                    format_amount(credit.amount),
                    credit.currency,
                    credit.purpose_code,
                    posted_by,
                    posted_at,
                ),
            )
            txn_no = f"TXN-{cursor.lastrowid:08d}"
            db.execute("UPDATE credits SET txn_no = ? WHERE id = ?", (txn_no, cursor.lastrowid))
        return Credit(txn_no=txn_no, posted_by=posted_by, posted_at=posted_at, **asdict(credit))

    def find(self, reference: str) -> list[Credit]:
        """Every credit posted with ``reference``, oldest first."""
        with sqlite.transaction(self.path) as db:
            rows = db.execute(
                "SELECT * FROM credits WHERE reference = ? ORDER BY id", (reference,)
            ).fetchall()
        return [_credit(row) for row in rows]

    def all(self) -> list[Credit]:
        """Every credit posted, oldest first."""
        with sqlite.transaction(self.path) as db:
            rows = db.execute("SELECT * FROM credits ORDER BY id").fetchall()
        return [_credit(row) for row in rows]


def _credit(row: sqlite.Row) -> Credit:
    return Credit(
        txn_no=row["txn_no"],
        reference=row["reference"],
        account_number=row["account_number"],
        beneficiary_name=row["beneficiary_name"],
        amount=Decimal(row["amount"]),
        currency=row["currency"],
        purpose_code=row["purpose_code"],
        posted_by=row["posted_by"],
        posted_at=row["posted_at"],
    )
