"""Read and write CNAPS2 messages: ``{H:}`` transport header, optional ``{S:}`` signature, XML body.

Supported: hvps.111.001.01 (HVPS customer credit transfer) and beps.121.001.01 (BEPS bulk
customer credit transfer). The header's MesgType must agree with the XML's namespace.
"""

from __future__ import annotations

import re

from lxml import etree

from skills.think.payments.cnaps.beps import BEPS121, read_beps121, write_beps121
from skills.think.payments.cnaps.header import split_transport, write_header
from skills.think.payments.cnaps.hvps import HVPS111, read_hvps111, write_hvps111
from skills.think.payments.errors import MessageBuildError, MessageFormatError, SourceLocation
from skills.think.payments.iso.reader import find_document
from skills.think.payments.iso.xmlnav import Node
from skills.think.payments.model import PaymentMessage
from skills.think.payments.safe_xml import located, namespace_of, parse_xml

_CNAPS_TYPE = re.compile(r"((?:hvps|beps|ibps|saps|ccms|nets)\.\d{3}\.\d{3}\.\d{2})")
SUPPORTED = (HVPS111, BEPS121)


def read_cnaps(text: str | bytes) -> PaymentMessage:
    """Read a CNAPS2 message (with or without its transport header).

    Raises:
        MessageFormatError: header layout, XML, field rules or controls violated (located).
    """
    if isinstance(text, bytes):
        text = _decode(text)
    header, xml_text, first_line = split_transport(text)
    root = parse_xml(xml_text)
    document = find_document(root)
    match = _CNAPS_TYPE.search(namespace_of(document))
    message_type = match.group(1) if match else (header.message_type if header else "")
    if header is not None and header.message_type != message_type:
        raise MessageFormatError(
            f"the transport header announces {header.message_type} but the XML is {message_type or 'not CNAPS'}",
            SourceLocation(line=1, tag="{H:}"),
        )
    if message_type not in SUPPORTED:
        raise MessageFormatError(
            f"CNAPS message {message_type or namespace_of(document)!r} is not supported: supported are "
            + ", ".join(SUPPORTED),
            located(document),
        )
    body_elements = [e for e in document if isinstance(e.tag, str)]
    if len(body_elements) != 1:
        raise MessageFormatError("the Document must hold exactly one message element", located(document))
    body = Node(body_elements[0])
    try:
        message = read_hvps111(body) if message_type == HVPS111 else read_beps121(body)
    except MessageFormatError as error:
        if first_line > 1 and error.location.line is not None:  # XML lines count after the header
            raise MessageFormatError(
                error.reason,
                SourceLocation(line=error.location.line + first_line - 1, xpath=error.location.xpath),
            ) from error
        raise
    message.transport_header = header
    if header is not None:
        message.sender = message.sender or header.sender
        message.receiver = message.receiver or header.receiver
    return message


def _decode(data: bytes) -> str:
    """UTF-8 (the CNAPS2 standard); GB18030 from legacy front-ends is accepted as a fallback."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise MessageFormatError("the message is neither UTF-8 nor GB18030 text", SourceLocation(line=1))


def write_cnaps(message: PaymentMessage) -> str:
    """The text of ``message`` (header first when it has one); re-read before it is returned.

    Raises:
        MessageBuildError: a mandatory CNAPS field is missing or too long, or the type is unsupported.
    """
    if message.message_type == HVPS111:
        if len(message.payments) != 1:
            raise MessageBuildError(f"an hvps.111 carries exactly one transfer, got {len(message.payments)}")
        document = write_hvps111(message.payments[0], message_id=message.message_id)
    elif message.message_type == BEPS121:
        document = write_beps121(message)
    else:
        raise MessageBuildError(
            f"cannot write {message.message_type} as CNAPS: supported are {', '.join(SUPPORTED)}"
        )
    xml = etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")
    text = (write_header(message.transport_header) if message.transport_header else "") + xml
    try:
        read_cnaps(text)
    except MessageFormatError as error:
        raise MessageBuildError(
            f"cannot write {message.message_type}: {error.reason} ({error.location})"
        ) from error
    return text
