"""One entry point for any payment message: detect the format from the content, then read it.

``detect_format`` looks only at how the text starts: ``{1:`` is SWIFT FIN (MT), ``{H:`` a CNAPS2
transport header, ``<`` XML (CNAPS when its namespace is ``urn:cnaps:``, else ISO 20022), and the
clearing-result CSV header a clearing file. ``parse_message`` reads with the matching reader.
"""

from __future__ import annotations

from skills.think.payments.cnaps.clearing_file import COLUMNS, read_clearing_file
from skills.think.payments.cnaps.reader import read_cnaps
from skills.think.payments.errors import MessageFormatError, SourceLocation
from skills.think.payments.iso.reader import read_iso
from skills.think.payments.model import MessageFormat
from skills.think.payments.mt.reader import read_mt
from skills.think.payments.reports import ParsedMessage

_CSV_HEADER = ",".join(COLUMNS[:3])


def _head(data: str | bytes) -> str:
    if isinstance(data, bytes):
        return data[:4096].decode("utf-8", errors="replace")
    return data[:4096]


def detect_format(data: str | bytes) -> MessageFormat:
    """The format family of a message, from its first characters.

    Raises:
        MessageFormatError: the content matches none of the supported formats.
    """
    head = _head(data).lstrip("\ufeff \t\r\n$")
    if head.startswith("{1:"):
        return MessageFormat.swift_mt
    if head.startswith("{H:"):
        return MessageFormat.cnaps
    if head.startswith("<"):
        return MessageFormat.cnaps if "urn:cnaps:" in head else MessageFormat.iso20022
    if head.startswith(_CSV_HEADER):
        return MessageFormat.clearing_csv
    found = head[:20].split("\n")[0]
    raise MessageFormatError(
        "unrecognised message: expected a SWIFT FIN message starting with '{1:', an XML document "
        f"starting with '<', a CNAPS '{{H:' transport header or a clearing result CSV; found {found!r}",
        SourceLocation(line=1),
    )


def _text(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MessageFormatError(
            f"the message is not UTF-8 text: byte {exc.start} cannot be decoded", SourceLocation(line=line)
        ) from exc


def parse_message(
    data: str | bytes, *, expected: MessageFormat | None = None, validate_schema: bool = True
) -> ParsedMessage:
    """Detect the format of ``data`` and read it into the normalized model.

    Args:
        data: the message text or bytes.
        expected: refuse the message unless it is of this format family.
        validate_schema: check ISO 20022 documents against their bundled XSD.

    Raises:
        MessageFormatError: unrecognised, of another format than ``expected``, or malformed.
    """
    found = detect_format(data)
    if expected is not None and found != expected:
        raise MessageFormatError(
            f"expected a {expected.value} message, found {found.value}", SourceLocation(line=1)
        )
    if found is MessageFormat.swift_mt:
        return read_mt(_text(data))
    if found is MessageFormat.cnaps:
        return read_cnaps(data)
    if found is MessageFormat.clearing_csv:
        return read_clearing_file(data)
    return read_iso(data, validate=validate_schema)
