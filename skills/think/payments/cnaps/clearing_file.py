"""The CNAPS clearing result file the interbank bot reconciles against (layout ``cnaps.clearing-result.v1``).

The NPC reports cleared and rejected transfers through hvps.71x / beps.72x messages; the bank's
clearing front-end exports them as this UTF-8 CSV, one line per transfer (documented in
docs/payments.md, "Clearing result file")::

    clearing_date,system,message_type,message_id,transaction_id,end_to_end_id,direction,
    business_type,business_kind,debtor_bank,debtor_account,debtor_name,creditor_bank,
    creditor_account,creditor_name,currency,amount,status,reason_code,reason_text,
    netting_round,settlement_date
    2025-03-10,HVPS,hvps.111.001.01,2025031000000001,2025031000000001,E2E...,sent,A100,02102,...
    TOTAL,2,50012345.60

The header line is exactly the column names above; the last line is ``TOTAL,<count>,<sum>``,
checked against the detail lines. Dates are ``YYYY-MM-DD``; amounts are plain decimals with at
most two places (CNY). ``status`` is the NPC processing status; ``outcome`` is derived from it:
PR02/PR04/PR05 settled, PR09 rejected (a reason code or text is then mandatory), others pending.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from skills.think.payments.errors import MessageBuildError, MessageFormatError, SourceLocation
from skills.think.payments.model import Amount
from skills.think.payments.reports import ClearingEntry, ClearingResult

COLUMNS = (
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
SETTLED = frozenset({"PR02", "PR04", "PR05"})
REJECTED = frozenset({"PR09"})
_BANK = re.compile(r"^\d{12,14}$", re.ASCII)
_STATUS = re.compile(r"^PR\d{2}$", re.ASCII)
_AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,2})?$", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COUNT = re.compile(r"^\d{1,9}$", re.ASCII)
_LIMITS = {
    "message_id": 35,
    "transaction_id": 35,
    "end_to_end_id": 35,
    "debtor_account": 32,
    "creditor_account": 32,
    "debtor_name": 60,
    "creditor_name": 60,
    "reason_text": 256,
    "business_type": 4,
    "business_kind": 5,
    "reason_code": 8,
}


def outcome_of(status: str) -> str:
    """settled / rejected / pending for an NPC processing status."""
    if status in SETTLED:
        return "settled"
    if status in REJECTED:
        return "rejected"
    return "pending"


def read_clearing_file(text: str | bytes) -> ClearingResult:
    """Read a clearing result file.

    Raises:
        MessageFormatError: wrong header, a bad value (line and column named) or totals that do not add up.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MessageFormatError(
                f"the clearing file is not UTF-8 (byte {exc.start})", SourceLocation(line=1)
            ) from exc
    try:
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    except csv.Error as exc:  # e.g. a NUL character, or an unclosed quote at the end of the file
        raise MessageFormatError(
            f"the clearing file is not valid CSV: {exc}", SourceLocation(line=1)
        ) from exc
    if not rows or tuple(cell.strip() for cell in rows[0]) != COLUMNS:
        found = ",".join(rows[0])[:80] if rows else "an empty file"
        raise MessageFormatError(
            f"the first line must be the header {','.join(COLUMNS[:3])},... ({len(COLUMNS)} columns); found {found!r}",
            SourceLocation(line=1),
        )
    entries: list[ClearingEntry] = []
    total_row: tuple[int, list[str]] | None = None
    for number, row in enumerate(rows[1:], start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if total_row is not None:
            raise MessageFormatError("no line may follow the TOTAL line", SourceLocation(line=number))
        if row[0] == "TOTAL":
            total_row = (number, row)
            continue
        entries.append(_entry(number, row))
    if total_row is None:
        raise MessageFormatError(
            "the file must end with a line TOTAL,<count>,<sum>", SourceLocation(line=len(rows) + 1)
        )
    total = sum((e.amount.value for e in entries), Decimal(0))
    _check_total(total_row, len(entries), total)
    return ClearingResult(entries=entries, count=len(entries), total=total)


def _check_total(row: tuple[int, list[str]], count: int, total: Decimal) -> None:
    line, cells = row
    where = SourceLocation(line=line, tag="TOTAL")
    if len(cells) != 3 or not _COUNT.match(cells[1]) or not _AMOUNT.match(cells[2]):
        raise MessageFormatError(
            f"the TOTAL line must be TOTAL,<count>,<sum>, found {','.join(cells)!r}", where
        )
    if int(cells[1]) != count:
        raise MessageFormatError(f"TOTAL says {cells[1]} lines but the file has {count}", where)
    if Decimal(cells[2]) != total:
        raise MessageFormatError(f"TOTAL says {cells[2]} but the amounts add up to {total}", where)


def _entry(line: int, row: list[str]) -> ClearingEntry:
    if len(row) != len(COLUMNS):
        raise MessageFormatError(
            f"expected {len(COLUMNS)} columns, found {len(row)}", SourceLocation(line=line)
        )
    cells = {name: value.strip() for name, value in zip(COLUMNS, row, strict=True)}

    def fail(column: str, reason: str) -> MessageFormatError:
        return MessageFormatError(
            f"{column} {cells[column]!r}: {reason}", SourceLocation(line=line, tag=column)
        )

    for column, value in cells.items():
        if _CONTROL.search(value):
            raise fail(column, "contains a control character")
    for column, limit in _LIMITS.items():
        if len(cells[column]) > limit:
            raise fail(column, f"at most {limit} characters")
    for column in (
        "message_id",
        "transaction_id",
        "debtor_account",
        "debtor_name",
        "creditor_account",
        "creditor_name",
    ):
        if not cells[column]:
            raise MessageFormatError(f"{column} is mandatory", SourceLocation(line=line, tag=column))
    if cells["system"] not in ("HVPS", "BEPS"):
        raise fail("system", "must be HVPS or BEPS")
    if cells["direction"] not in ("sent", "received"):
        raise fail("direction", "must be sent or received")
    for column in ("debtor_bank", "creditor_bank"):
        if not _BANK.match(cells[column]):
            raise fail(column, "must be a 12-digit CNAPS bank code")
    if cells["currency"] != "CNY":
        raise fail("currency", "CNAPS clears CNY only")
    if not _AMOUNT.match(cells["amount"]):
        raise fail("amount", "must be a decimal with at most 2 places, e.g. 1234.50")
    if not _STATUS.match(cells["status"]):
        raise fail("status", "must be an NPC processing status PRnn")
    outcome = outcome_of(cells["status"])
    if outcome == "rejected" and not (cells["reason_code"] or cells["reason_text"]):
        raise fail("status", "a rejected transfer needs reason_code or reason_text")
    try:
        amount = Decimal(cells["amount"]).quantize(Decimal("0.01"))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only decimals
        raise fail("amount", "is not a number") from exc
    return ClearingEntry(
        clearing_date=_date(cells, "clearing_date", fail, required=True),  # type: ignore[arg-type]
        system=cells["system"],  # type: ignore[arg-type]
        message_type=cells["message_type"],
        message_id=cells["message_id"],
        transaction_id=cells["transaction_id"],
        end_to_end_id=cells["end_to_end_id"] or None,
        direction=cells["direction"],  # type: ignore[arg-type]
        business_type=cells["business_type"] or None,
        business_kind=cells["business_kind"] or None,
        debtor_bank=cells["debtor_bank"],
        debtor_account=cells["debtor_account"],
        debtor_name=cells["debtor_name"],
        creditor_bank=cells["creditor_bank"],
        creditor_account=cells["creditor_account"],
        creditor_name=cells["creditor_name"],
        amount=Amount(currency="CNY", value=amount),
        status=cells["status"],
        outcome=outcome,  # type: ignore[arg-type]
        reason_code=cells["reason_code"] or None,
        reason_text=cells["reason_text"] or None,
        netting_round=cells["netting_round"] or None,
        settlement_date=_date(cells, "settlement_date", fail, required=False),
        line=line,
    )


def _date(
    cells: dict[str, str], column: str, fail: Callable[[str, str], MessageFormatError], *, required: bool
) -> date | None:
    value = cells[column]
    if not value and not required:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise fail(column, "must be a date YYYY-MM-DD") from exc


def write_clearing_file(entries: list[ClearingEntry]) -> str:
    """The CSV text of ``entries`` with its header and TOTAL line (CRLF line ends)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        if entry.amount.currency != "CNY":
            raise MessageBuildError(
                f"CNAPS clears CNY only, line for {entry.transaction_id} is in {entry.amount.currency}"
            )
        values = entry.model_dump(mode="json")
        values["currency"] = "CNY"
        values["amount"] = format(entry.amount.value.quantize(Decimal("0.01")), "f")
        writer.writerow(["" if values.get(c) is None else values[c] for c in COLUMNS])
    total = sum((e.amount.value for e in entries), Decimal(0)).quantize(Decimal("0.01"))
    writer.writerow(["TOTAL", str(len(entries)), format(total, "f")])
    text = buffer.getvalue()
    try:
        read_clearing_file(text)
    except MessageFormatError as error:
        raise MessageBuildError(
            f"cannot write the clearing file: {error.reason} ({error.location})"
        ) from error
    return text
