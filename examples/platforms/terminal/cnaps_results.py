"""The end-of-day clearing result file in the bank's layout ``cnaps.clearing-result.v1``.

What a clearing front-end exports from the NPC's hvps.71x / beps.72x results, and what the
interbank bot's ``think.read_reconciliation`` reads (docs/payments.md, "Clearing result file").
Written here on its own, never with the bots' code, so a mistake cannot cancel itself out::

    clearing_date,system,message_type,message_id,transaction_id,end_to_end_id,direction,
    business_type,business_kind,debtor_bank,debtor_account,debtor_name,creditor_bank,
    creditor_account,creditor_name,currency,amount,status,reason_code,reason_text,
    netting_round,settlement_date
    2026-05-11,HVPS,hvps.111.001.01,2026051100000001,CT00000001,HV20260511-001,sent,A100,02102,...
    TOTAL,1,1234.50

How a terminal submission maps onto a line:

* ``clearing_date`` and ``settlement_date``: the UTC date of the submission (no settlement date
  when rejected);
* ``system``: HVPS (大额) above 50,000.00 yuan, BEPS (小额, whose ordinary credit limit that is)
  up to it; ``message_type`` hvps.111.001.01 or beps.121.001.01;
* ``message_id``: the date and the serial's digits; ``transaction_id``: the serial number
  (流水号); ``end_to_end_id``: the business reference (业务参考号) the bot keyed;
* ``debtor_bank``: the bank running the terminal (``sender_bank``); the terminal does not key
  the payer's bank;
* ``business_type`` A100 (普通汇兑), ``business_kind`` 02102;
* ``status``: PR04 (已清算) when settled, PR09 (已拒绝) with a reason text when rejected.

The last line is ``TOTAL,<count>,<sum of the amounts written>``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from examples.platforms.common.money import format_amount
from examples.platforms.terminal.results import ResultChanges
from examples.platforms.terminal.store import Payment

LAYOUT = "cnaps.clearing-result.v1"
CNAPS_COLUMNS = (
    "clearing_date",
    "system",
    "message_type",
    "message_id",
    "transaction_id",
    "end_to_end_id",
    "direction",
    "business_type",
    "business_kind",
    "debtor_bank",
    "debtor_account",
    "debtor_name",
    "creditor_bank",
    "creditor_account",
    "creditor_name",
    "currency",
    "amount",
    "status",
    "reason_code",
    "reason_text",
    "netting_round",
    "settlement_date",
)
BEPS_LIMIT = Decimal("50000.00")
DEFAULT_SENDER_BANK = "102100099996"
SETTLED_STATUS = "PR04"
REJECTED_STATUS = "PR09"
REJECTED_TEXT = "清算中心拒绝"


def cnaps_rows(
    payments: Iterable[Payment], changes: ResultChanges | None = None, sender_bank: str = DEFAULT_SENDER_BANK
) -> list[dict[str, str]]:
    """The file's detail lines for ``payments``, with ``changes`` applied (dropped, altered, rejected)."""
    changes = changes or ResultChanges()
    alter = changes.alter_amounts or {}
    rows = []
    for payment in payments:
        if payment.reference in changes.drop:
            continue
        amount = alter.get(payment.reference, payment.amount)
        day = payment.submitted_at[:10]
        rejected = payment.reference in changes.reject
        large = amount > BEPS_LIMIT
        rows.append(
            {
                "clearing_date": day,
                "system": "HVPS" if large else "BEPS",
                "message_type": "hvps.111.001.01" if large else "beps.121.001.01",
                "message_id": day.replace("-", "") + payment.serial_no[2:],
                "transaction_id": payment.serial_no,
                "end_to_end_id": payment.reference,
                "direction": "sent",
                "business_type": "A100",
                "business_kind": "02102",
                "debtor_bank": sender_bank,
                "debtor_account": payment.payer_account,
                "debtor_name": payment.payer_name,
                "creditor_bank": payment.payee_bank_code,
                "creditor_account": payment.payee_account,
                "creditor_name": payment.payee_name,
                "currency": payment.currency,
                "amount": format_amount(amount),
                "status": REJECTED_STATUS if rejected else SETTLED_STATUS,
                "reason_code": "",
                "reason_text": REJECTED_TEXT if rejected else "",
                "netting_round": "",
                "settlement_date": "" if rejected else day,
            }
        )
    return rows


def write_cnaps_file(path: Path, rows: list[dict[str, str]]) -> int:
    """Write the header, ``rows`` and the TOTAL line to ``path``; return the number of detail lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    total = sum((Decimal(row["amount"]) for row in rows), Decimal("0.00"))
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(CNAPS_COLUMNS)
        for row in rows:
            writer.writerow([row[column] for column in CNAPS_COLUMNS])
        writer.writerow(["TOTAL", str(len(rows)), format_amount(total)])
    return len(rows)
