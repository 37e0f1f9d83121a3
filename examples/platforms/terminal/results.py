"""The end-of-day clearing result file, written from the terminal's store.

Layout (``terminal-clearing-result.v1``; UTF-8, comma separated, one header line, LF line ends)::

    serial_no,reference,payer_account,payee_account,payee_bank_code,amount,currency,status,settled_at
    CT00000001,REF-001,6222020200112233,6217000010001234,102100099996,1234.50,CNY,SETTLED,2026-05-09T08:00:00+00:00

One line per submission (a reference submitted twice gives two lines with two serial numbers).
``status`` is ``SETTLED`` or ``REJECTED``. Mismatches for reconciliation tests are injected on
export: drop a reference's lines, change its amount, or mark it rejected.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from examples.platforms.common.money import format_amount
from examples.platforms.terminal.store import Payment

RESULT_COLUMNS = (
    "serial_no",
    "reference",
    "payer_account",
    "payee_account",
    "payee_bank_code",
    "amount",
    "currency",
    "status",
    "settled_at",
)
SETTLED = "SETTLED"
REJECTED = "REJECTED"


@dataclass(frozen=True)
class ResultChanges:
    """Deliberate differences between the store and the file, for reconciliation tests.

    Attributes:
        drop: references whose lines are left out.
        alter_amounts: reference to the amount written instead of the submitted one.
        reject: references written with status ``REJECTED``.
    """

    drop: frozenset[str] = frozenset()
    alter_amounts: Mapping[str, Decimal] | None = None
    reject: frozenset[str] = frozenset()

    def unknown_references(self, payments: Iterable[Payment]) -> list[str]:
        """References named here that no payment has (a typo would otherwise inject nothing)."""
        known = {payment.reference for payment in payments}
        named = set(self.drop) | set(self.alter_amounts or {}) | set(self.reject)
        return sorted(named - known)


def result_rows(payments: Iterable[Payment], changes: ResultChanges | None = None) -> list[dict[str, str]]:
    """The file's lines (without header) for ``payments``, with ``changes`` applied."""
    changes = changes or ResultChanges()
    alter = changes.alter_amounts or {}
    rows = []
    for payment in payments:
        if payment.reference in changes.drop:
            continue
        rows.append(
            {
                "serial_no": payment.serial_no,
                "reference": payment.reference,
                "payer_account": payment.payer_account,
                "payee_account": payment.payee_account,
                "payee_bank_code": payment.payee_bank_code,
                "amount": format_amount(alter.get(payment.reference, payment.amount)),
                "currency": payment.currency,
                "status": REJECTED if payment.reference in changes.reject else SETTLED,
                "settled_at": payment.submitted_at,
            }
        )
    return rows


def write_result_file(path: Path, rows: Iterable[Mapping[str, str]]) -> int:
    """Write the header and ``rows`` to ``path``; return the number of lines written (without header)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=RESULT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count
