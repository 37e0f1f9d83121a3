"""Write a pacs.002.001.10 (FIToFIPmtStsRpt) status report answering one original payment.

Status and reason codes are checked against the ISO external code sets (``iso.codes``); a
rejection needs at least one reason. The output is validated against the bundled XSD.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from skills.think.payments.errors import MessageBuildError, MessageFormatError
from skills.think.payments.iso import schemas
from skills.think.payments.iso.codes import status_reason_codes, transaction_status_codes
from skills.think.payments.iso.parties import sub, write_agent
from skills.think.payments.model import Agent, Payment
from skills.think.payments.safe_xml import parse_xml

PACS002 = "pacs.002.001.10"
NAMESPACE = schemas.ISO_PREFIX + PACS002
STATUS_WORDS = {
    "accepted": "ACSP",
    "rejected": "RJCT",
    "pending": "PDNG",
    "settled": "ACSC",
    "credited": "ACCC",
}
"""Plain words a workflow may use, and the ISO status each one means."""


@dataclass
class StatusReasonInput:
    """One reason for the status: an ISO code and up to a few lines of text (105 characters each)."""

    code: str
    additional_information: list[str] = field(default_factory=list)


@dataclass
class OriginalReference:
    """What the status report answers: the original message's ids (from a read ``Payment``)."""

    message_id: str
    message_type: str
    instruction_id: str | None = None
    end_to_end_id: str | None = None
    transaction_id: str | None = None
    uetr: str | None = None
    creation_time: datetime | None = None
    instructing_agent: Agent | None = None
    instructed_agent: Agent | None = None

    @classmethod
    def of(cls, payment: Payment) -> OriginalReference:
        """The references of a payment read by any reader (MT: field 20 stands for the message id)."""
        refs = payment.references
        message_id = refs.message_id or refs.instruction_id
        if not message_id:
            raise MessageBuildError("the original payment has neither a message id nor a sender's reference")
        return cls(
            message_id=message_id,
            message_type=payment.message_type,
            instruction_id=refs.instruction_id,
            end_to_end_id=refs.end_to_end_id,
            transaction_id=refs.transaction_id,
            uetr=refs.uetr,
            creation_time=payment.creation_time,
            instructing_agent=payment.instructing_agent,
            instructed_agent=payment.instructed_agent,
        )


def resolve_status(status: str) -> str:
    """An ISO transaction status code from a code or a word (accepted, rejected...)."""
    code = STATUS_WORDS.get(status.lower(), status.upper())
    if code not in transaction_status_codes():
        known = (
            ", ".join(sorted(STATUS_WORDS))
            + " or an ISO code such as "
            + ", ".join(sorted(transaction_status_codes())[:6])
        )
        raise MessageBuildError(f"unknown payment status {status!r}: use {known}...")
    return code


def build_pacs002(
    original: OriginalReference,
    status: str,
    reasons: list[StatusReasonInput] | None = None,
    *,
    message_id: str,
    creation_time: datetime | None = None,
) -> str:
    """The XML text of a pacs.002.001.10 reporting ``status`` for ``original``.

    Raises:
        MessageBuildError: unknown status or reason code, a rejection without reason, or an XSD violation.
    """
    code = resolve_status(status)
    reasons = list(reasons or [])
    if code == "RJCT" and not reasons:
        raise MessageBuildError("a rejection (RJCT) needs at least one status reason code, e.g. AC04 or AM04")
    known = status_reason_codes()
    for reason in reasons:
        if reason.code not in known:
            raise MessageBuildError(
                f"{reason.code!r} is not an ISO external status reason code (e.g. AC01, AC04, AM04, BE01, RR04)"
            )
        for line in reason.additional_information:
            if len(line) > 105:
                raise MessageBuildError(
                    f"additional information lines are at most 105 characters, found {len(line)}"
                )
    document = etree.Element(f"{{{NAMESPACE}}}Document", nsmap={None: NAMESPACE})
    body = sub(document, "FIToFIPmtStsRpt")
    group = sub(body, "GrpHdr")
    sub(group, "MsgId", message_id)
    sub(group, "CreDtTm", (creation_time or datetime.now(UTC).replace(microsecond=0)).isoformat())
    tx = sub(body, "TxInfAndSts")
    info = sub(tx, "OrgnlGrpInf")
    sub(info, "OrgnlMsgId", original.message_id)
    sub(info, "OrgnlMsgNmId", original.message_type)
    if original.creation_time:
        sub(info, "OrgnlCreDtTm", original.creation_time.isoformat())
    for tag, value in (
        ("OrgnlInstrId", original.instruction_id),
        ("OrgnlEndToEndId", original.end_to_end_id),
        ("OrgnlTxId", original.transaction_id),
        ("OrgnlUETR", original.uetr),
    ):
        if value:
            sub(tx, tag, value)
    sub(tx, "TxSts", code)
    for reason in reasons:
        item = sub(tx, "StsRsnInf")
        sub(sub(item, "Rsn"), "Cd", reason.code)
        for line in reason.additional_information:
            sub(item, "AddtlInf", line)
    # The report travels back: its sender is the original's receiver and vice versa.
    write_agent(tx, "InstgAgt", original.instructed_agent)
    write_agent(tx, "InstdAgt", original.instructing_agent)
    text = etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")
    try:
        schemas.validate(parse_xml(text))
    except MessageFormatError as error:
        raise MessageBuildError(
            f"the built {PACS002} is not valid: {error.reason} ({error.location})"
        ) from error
    return text
