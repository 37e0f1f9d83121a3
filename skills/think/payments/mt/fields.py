"""Field formats of MT103 / MT202 / MT202COV and the checks every field goes through.

Each tag (with its option letter) has a ``FieldFormat``: an optional party-identifier line
(``/34x`` or ``[/1!a][/34x]``) and 0..n body lines in one notation. ``check_field`` applies the
line-count, length, SWIFT X character-set and notation rules of the spec digest §1.1 and names
the line and column of the first problem. Value parsers (date, amount, rate) live here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from skills.think.payments.currency import decimals_problem, to_minor_units
from skills.think.payments.errors import MessageFormatError
from skills.think.payments.mt.envelope import MtField
from skills.think.payments.mt.notation import first_invalid_x_char, matches

BIC = "4!c2!a2!c[3!c]"
"""BIC as ISO 9362:2014 allows it (institution code alphanumeric); field option A carries it."""
PARTY_ID = "[/1!a][/34x]"
ACCOUNT = "/34x"


@dataclass(frozen=True)
class FieldFormat:
    """The line structure of one field: optional party-identifier line, then body lines."""

    name: str
    body: str | None
    body_min: int = 1
    body_max: int = 1
    party_line: str | None = None
    party_line_required: bool = False


def _agent(name: str, option: str) -> FieldFormat:
    if option == "A":
        return FieldFormat(name, BIC, 1, 1, PARTY_ID)
    if option == "B":
        return FieldFormat(name, "35x", 0, 1, PARTY_ID)
    if option == "C":
        return FieldFormat(name, None, 0, 0, ACCOUNT, party_line_required=True)
    return FieldFormat(name, "35x", 1, 4, PARTY_ID)  # D


_AGENT_NAMES = {
    "51": "Sending Institution",
    "52": "Ordering Institution",
    "53": "Sender's Correspondent",
    "54": "Receiver's Correspondent",
    "55": "Third Reimbursement Institution",
    "56": "Intermediary Institution",
    "57": "Account With Institution",
    "58": "Beneficiary Institution",
}

FORMATS: dict[str, FieldFormat] = {
    "20": FieldFormat("Sender's Reference", "16x"),
    "21": FieldFormat("Related Reference", "16x"),
    "13C": FieldFormat("Time Indication", "/8c/4!n1!x4!n"),
    "23B": FieldFormat("Bank Operation Code", "4!c"),
    "23E": FieldFormat("Instruction Code", "4!c[/30x]"),
    "26T": FieldFormat("Transaction Type Code", "3!c"),
    "32A": FieldFormat("Value Date/Currency/Interbank Settled Amount", "6!n3!a15d"),
    "33B": FieldFormat("Currency/Instructed Amount", "3!a15d"),
    "36": FieldFormat("Exchange Rate", "12d"),
    "50A": FieldFormat("Ordering Customer", BIC, 1, 1, ACCOUNT),
    "50F": FieldFormat("Ordering Customer", "1!n/33x", 1, 4, "/34x", party_line_required=True),
    "50K": FieldFormat("Ordering Customer", "35x", 1, 4, ACCOUNT),
    "59": FieldFormat("Beneficiary Customer", "35x", 1, 4, ACCOUNT),
    "59A": FieldFormat("Beneficiary Customer", BIC, 1, 1, ACCOUNT),
    "59F": FieldFormat("Beneficiary Customer", "1!n/33x", 1, 4, ACCOUNT),
    "70": FieldFormat("Remittance Information", "35x", 1, 4),
    "71A": FieldFormat("Details of Charges", "3!a"),
    "71F": FieldFormat("Sender's Charges", "3!a15d"),
    "71G": FieldFormat("Receiver's Charges", "3!a15d"),
    "72": FieldFormat("Sender to Receiver Information", "35x", 1, 6),
    "77B": FieldFormat("Regulatory Reporting", "35x", 1, 3),
}
for _base, _name in _AGENT_NAMES.items():
    for _option in "ABCD":
        FORMATS[f"{_base}{_option}"] = _agent(_name, _option)

BANK_OPERATION_CODES = frozenset({"CRED", "CRTS", "SPAY", "SPRI", "SSTD"})
INSTRUCTION_CODES = frozenset(
    {"SDVA", "INTC", "REPA", "CORT", "HOLD", "CHQB", "PHOB", "TELB", "PHON", "TELE", "PHOI", "TELI"}
)
CHARGE_CODES = {"OUR": "DEBT", "SHA": "SHAR", "BEN": "CRED"}
_50F_IDENTIFIER = re.compile(r"^[A-Z]{4}/[A-Z]{2}/[A-Za-z0-9/\-?:().,'+ ]{1,27}$")
_AMOUNT = re.compile(r"^(\d+),(\d*)$")


def fail(field: MtField, reason: str, offset: int = 0) -> MessageFormatError:
    """A ``MessageFormatError`` located at ``field`` (line ``offset`` of it)."""
    return MessageFormatError(reason, field.where(offset))


def split_party_line(field: MtField, fmt: FieldFormat) -> tuple[str | None, list[str]]:
    """Split a field into its party-identifier line (or ``None``) and its body lines."""
    lines = field.lines
    if fmt.party_line is None:
        return None, lines
    if fmt.party_line_required or (lines and lines[0].startswith("/")):
        return lines[0], lines[1:]
    return None, lines


def check_field(field: MtField, fmt: FieldFormat) -> tuple[str | None, list[str]]:
    """Check line count, length, character set and notation; return (party line, body lines)."""
    for offset, line in enumerate(field.lines):
        if line == "":
            raise fail(field, f"field {field.tag} has an empty line", offset)
        invalid = first_invalid_x_char(line)
        if invalid:
            column, char = invalid
            raise fail(
                field,
                f"character {char!r} (column {column}) is not in the SWIFT X character set "
                "(letters, digits, space and / - ? : ( ) . , ' +)",
                offset,
            )
    party, body = split_party_line(field, fmt)
    if party is not None:
        if field.tag == "50F":
            if not (matches("/34x", party) or _50F_IDENTIFIER.match(party)):
                raise fail(
                    field,
                    f"50F party identifier must be '/account' (/34x) or 'CODE/CC/identifier', found {party!r}",
                )
        elif not matches(fmt.party_line or "", party):
            raise fail(
                field, f"party identifier {party!r} does not match {fmt.party_line} (at most 34 characters)"
            )
    elif fmt.party_line_required:
        raise fail(field, f"field {field.tag} needs a party identifier line {fmt.party_line}")
    body_offset = 1 if party is not None else 0
    if not fmt.body_min <= len(body) <= fmt.body_max:
        expected = f"{fmt.body_min}" if fmt.body_min == fmt.body_max else f"{fmt.body_min} to {fmt.body_max}"
        raise fail(
            field,
            f"field {field.tag} ({fmt.name}) must have {expected} line(s) of {fmt.body}, found {len(body)}",
        )
    for index, line in enumerate(body):
        if fmt.body and not matches(fmt.body, line):
            if fmt.body in _AMOUNT_PREFIX:
                _explain_amount_line(field, line, _AMOUNT_PREFIX[fmt.body], body_offset + index)
            raise fail(
                field, f"{line!r} does not match the {fmt.name} format {fmt.body}", body_offset + index
            )
    return party, body


_AMOUNT_PREFIX = {"6!n3!a15d": "6!n3!a", "3!a15d": "3!a"}
_AMOUNT_MESSAGE = "must be digits with one decimal comma (e.g. 1000, or 1000,50), at most 15 characters"


def _explain_amount_line(field: MtField, line: str, prefix: str, offset: int) -> None:
    """Say which part of a date/currency/amount line is wrong (raises when it can tell)."""
    size = 9 if prefix == "6!n3!a" else 3
    if not matches(prefix, line[:size]):
        what = "a date YYMMDD and a 3-letter currency code" if size == 9 else "a 3-letter currency code"
        raise fail(field, f"{line[:size]!r} must be {what}", offset)
    raise fail(field, f"amount {line[size:]!r} {_AMOUNT_MESSAGE}", offset)


def parse_date(field: MtField, text: str) -> date:
    """A SWIFT ``YYMMDD`` date (years 80-99 are 19xx, 00-79 are 20xx)."""
    try:
        year, month, day = int(text[0:2]), int(text[2:4]), int(text[4:6])
        return date(1900 + year if year >= 80 else 2000 + year, month, day)
    except ValueError as exc:
        raise fail(field, f"{text!r} is not a valid date YYMMDD") from exc


def parse_amount(field: MtField, currency: str, text: str, max_length: int = 15) -> Decimal:
    """A SWIFT decimal amount: digits, one mandatory comma, at most the currency's minor units."""
    match = _AMOUNT.match(text)
    if not match or len(text) > max_length:
        raise fail(field, f"amount {text!r} {_AMOUNT_MESSAGE}")
    value = Decimal(f"{match.group(1)}.{match.group(2) or '0'}")
    problem = decimals_problem(currency, value)
    if problem:
        raise fail(field, problem)
    return to_minor_units(currency, value)


def parse_currency_amount(field: MtField, text: str) -> tuple[str, Decimal]:
    """``3!a15d``: currency then amount (33B, 71F, 71G)."""
    return text[:3], parse_amount(field, text[:3], text[3:])


def parse_rate(field: MtField, text: str) -> Decimal:
    """``12d``: an exchange rate with a decimal comma."""
    match = _AMOUNT.match(text)
    if not match:
        raise fail(field, f"exchange rate {text!r} must be digits with one decimal comma, e.g. 6,8512")
    try:
        value = Decimal(f"{match.group(1)}.{match.group(2) or '0'}")
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
        raise fail(field, f"exchange rate {text!r} is not a number") from exc
    if value == 0:
        raise fail(field, "exchange rate must not be zero")
    return value


def format_amount(value: Decimal) -> str:
    """A Decimal written the SWIFT way: ``1234,5`` / ``1000,`` (comma always present)."""
    text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    integer, _, fraction = text.partition(".")
    return f"{integer},{fraction.rstrip('0')}"


def format_date(value: date) -> str:
    """``YYMMDD``."""
    return value.strftime("%y%m%d")
