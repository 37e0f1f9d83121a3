"""Read an ISO 20022 document (bare, in a SWIFT ``Envelope`` or with a business application header).

``read_iso(data)`` parses safely (``safe_xml``), finds the ``Document``, checks it against the
bundled XSD of its exact version when there is one (``schema_validated`` says whether that
happened) and hands its body to the reader of the message: pacs.008/pacs.009 ->
``PaymentMessage``, pacs.002 -> ``StatusReport``, camt.052/053/054 -> ``StatementMessage``.
"""

from __future__ import annotations

import re

from lxml import etree

from skills.think.payments.errors import MessageFormatError, SourceLocation
from skills.think.payments.iso import schemas
from skills.think.payments.iso.credit_transfer import read_transactions
from skills.think.payments.iso.statements import BODIES, read_statements
from skills.think.payments.iso.status import read_status_report
from skills.think.payments.iso.xmlnav import Node
from skills.think.payments.model import MessageFormat, PaymentMessage
from skills.think.payments.reports import StatementMessage, StatusReport
from skills.think.payments.safe_xml import local_name, located, namespace_of, parse_xml

_MESSAGE_ID = re.compile(r"([a-z]{4}\.\d{3}\.\d{3}\.\d{2})")
CREDIT_TRANSFERS = ("FIToFICstmrCdtTrf", "FICdtTrf", "FinInstnCdtTrf")
SUPPORTED = "pacs.008, pacs.009, pacs.002, camt.052, camt.053 and camt.054"

IsoMessage = PaymentMessage | StatusReport | StatementMessage


def find_document(root: etree._Element) -> etree._Element:
    """The ``Document`` element: the root itself or the first one inside a wrapper."""
    if local_name(root) == "Document":
        return root
    for element in root.iter():
        if isinstance(element.tag, str) and local_name(element) == "Document":
            return element
    raise MessageFormatError(
        f"no ISO 20022 <Document> element found (the root element is <{local_name(root)}>)", located(root)
    )


def message_type_of(document: etree._Element) -> str:
    """``pacs.008.001.08`` etc. from the Document's namespace."""
    namespace = namespace_of(document)
    match = _MESSAGE_ID.search(namespace)
    if not match:
        raise MessageFormatError(
            f"the Document namespace {namespace!r} does not name an ISO 20022 message (e.g. "
            "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08)",
            located(document),
        )
    return match.group(1)


def _header(
    root: etree._Element, document: etree._Element, message_type: str, validate: bool
) -> tuple[Node | None, bool]:
    header = next(
        (
            e
            for e in root.iter()
            if isinstance(e.tag, str) and local_name(e) == "AppHdr" and e is not document
        ),
        None,
    )
    if header is None or "head.001" not in namespace_of(header):
        return None, True
    node = Node(header)
    definition = node.text("MsgDefIdr")
    if definition and not definition.startswith(message_type):
        raise node.required("MsgDefIdr").fail(
            f"the business application header announces {definition} but the Document is {message_type}"
        )
    checked = schemas.validate(header) if validate else False
    return node, checked


def read_iso(data: str | bytes, *, validate: bool = True) -> IsoMessage:
    """Read an ISO 20022 message.

    Args:
        data: the XML text or bytes.
        validate: check the Document (and a head.001 header) against the bundled XSD of its
            exact version, when one is bundled.

    Raises:
        MessageFormatError: not well-formed, refused (DOCTYPE), not ISO 20022, not supported, or
            invalid against its schema - located by XPath and line.
    """
    root = parse_xml(data)
    document = find_document(root)
    message_type = message_type_of(document)
    if namespace_of(document).startswith("urn:cnaps:"):
        raise MessageFormatError(
            f"{message_type} is a CNAPS message: read it with the CNAPS reader", located(document)
        )
    header, header_checked = _header(root, document, message_type, validate)
    body_elements = [e for e in document if isinstance(e.tag, str)]
    if len(body_elements) != 1:
        raise MessageFormatError("the Document must hold exactly one message element", located(document))
    body = Node(body_elements[0])
    validated = schemas.validate(document) if validate else False
    if body.name in CREDIT_TRANSFERS:
        sender = header.text("Fr/FIId/FinInstnId/BICFI") if header else None
        receiver = header.text("To/FIId/FinInstnId/BICFI") if header else None
        group = body.required("GrpHdr")
        control_sum = group.decimal("CtrlSum")
        payments = read_transactions(body, message_type, (sender, receiver))
        return PaymentMessage(
            format=MessageFormat.iso20022,
            message_type=message_type,
            message_id=group.required_text("MsgId"),
            creation_time=group.datetime("CreDtTm"),
            sender=sender,
            receiver=receiver,
            business_service=header.text("BizSvc") if header else None,
            number_of_transactions=len(payments),
            control_sum=control_sum,
            schema_validated=validated and header_checked,
            payments=payments,
        )
    if body.name == "FIToFIPmtStsRpt":
        report = read_status_report(body, message_type)
        report.schema_validated = validated and header_checked
        return report
    if body.name in BODIES:
        statements = read_statements(body, message_type)
        statements.schema_validated = validated and header_checked
        return statements
    raise MessageFormatError(
        f"ISO 20022 message {message_type} (<{body.name}>) is not supported: supported are {SUPPORTED}",
        SourceLocation(line=body.element.sourceline, xpath=f"/Document/{body.name}"),
    )
