"""think.parse_payment, think.build_pacs008, think.build_pacs002, think.read_reconciliation.

Thin wrappers over ``skills.think.payments``: pydantic models at the edge, plain code inside.
File paths are resolved inside ``root`` (default: the run's work folder) by
``skills.think.payments.paths``; malformed input raises ``MessageFormatError`` (a business
error, code ``malformed_message``) with the line/tag or XPath of the problem.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from skills import BusinessError, SkillContext, skill
from skills.paths import confine
from skills.think.payments import (
    MessageFormat,
    OriginalReference,
    Payment,
    PaymentMessage,
    StatusReasonInput,
    build_pacs002,
    build_pacs008,
    parse_message,
    read_clearing_file,
)
from skills.think.payments.iso.write_pacs002 import resolve_status
from skills.think.payments.model import Agent
from skills.think.payments.paths import read_bytes_within, write_text_within
from skills.think.payments.reports import ClearingEntry


def _root(ctx: SkillContext, root: str | None) -> str:
    # ``root`` narrows where paths may point; it never widens it: a root set from data (or a
    # careless ``root: /``) must itself lie inside the work folder or a configured file root.
    return str(confine(ctx, root)) if root else str(ctx.work_dir)


def _source(ctx: SkillContext, path: str | None, text: str | None, root: str | None) -> bytes | str:
    if path is not None:
        return read_bytes_within(path, _root(ctx, root))
    assert text is not None  # the params validator guarantees one of the two
    return text


# --- think.parse_payment --------------------------------------------------------------------------


class ParsePaymentParams(BaseModel):
    path: str | None = Field(
        None, description="File holding the message, relative to root (or absolute inside it)."
    )
    text: str | None = Field(None, description="The message itself, instead of a file.")
    root: str | None = Field(
        None, description="Folder the path must stay inside (default: the run's work folder)."
    )
    expected_format: Literal["swift_mt", "iso20022", "cnaps", "clearing_csv"] | None = Field(
        None, description="Refuse the message unless it is of this format family."
    )
    validate_schema: bool = Field(True, description="Check ISO 20022 documents against their bundled XSD.")

    @model_validator(mode="after")
    def _path_or_text(self) -> ParsePaymentParams:
        if (self.path is None) == (self.text is None):
            raise ValueError("give exactly one of path and text")
        return self


class ParsePaymentResult(BaseModel):
    format: str = Field(description="Detected format family: swift_mt, iso20022, cnaps or clearing_csv.")
    message_type: str = Field(description="MT103, MT202COV, pacs.008.001.08, beps.121.001.01, RJE...")
    kind: str = Field(
        description="credit_transfer, status_report, statement, notification or clearing_result."
    )
    payment_count: int = Field(description="Number of credit transfers read (0 for other kinds).")
    rejected_count: int = Field(
        description="Messages of a batch file that could not be read (see message.rejected)."
    )
    message: dict[str, Any] = Field(description="The normalized model, JSON-ready (amounts as strings).")


@skill("think.parse_payment", effect="none", timeout="60s")
def parse_payment(ctx: SkillContext, params: ParsePaymentParams) -> ParsePaymentResult:
    """Read a SWIFT MT, ISO 20022 or CNAPS message (format detected) into the normalized payment model."""
    data = _source(ctx, params.path, params.text, params.root)
    expected = MessageFormat(params.expected_format) if params.expected_format else None
    message = parse_message(data, expected=expected, validate_schema=params.validate_schema)
    payments = message.payments if isinstance(message, PaymentMessage) else []
    rejected = message.rejected if isinstance(message, PaymentMessage) else []
    return ParsePaymentResult(
        format=message.format.value,
        message_type=message.message_type,
        kind=message.kind,
        payment_count=len(payments),
        rejected_count=len(rejected),
        message=message.model_dump(mode="json"),
    )


# --- think.build_pacs008 --------------------------------------------------------------------------


class BuildPacs008Params(BaseModel):
    payment: Payment = Field(
        description="The transfer in the normalized model (e.g. one of parse_payment's payments)."
    )
    output_path: str = Field(description="Where to write the XML, relative to root (or absolute inside it).")
    root: str | None = Field(
        None, description="Folder the output must stay inside (default: the run's work folder)."
    )
    message_id: str | None = Field(
        None, description="GrpHdr/MsgId (default: the payment's message or instruction id)."
    )
    creation_time: datetime | None = Field(
        None, description="GrpHdr/CreDtTm (default: the payment's, else now, UTC)."
    )
    cips: bool = Field(
        False, description="Settle through CIPS: SttlmMtd CLRG, ClrSys/Cd CIP (agents use CNCIP ids)."
    )


class WrittenMessage(BaseModel):
    path: str = Field(description="Absolute path of the written file.")
    message_type: str = Field(description="Message type written, e.g. pacs.008.001.08.")
    message_id: str = Field(description="GrpHdr/MsgId of the written message.")
    sha256: str = Field(description="SHA-256 of the file's bytes.")
    size: int = Field(description="Size of the file in bytes.")


def _written(path: str, text: str, message_type: str, message_id: str) -> WrittenMessage:
    data = text.encode("utf-8")
    return WrittenMessage(
        path=path,
        message_type=message_type,
        message_id=message_id,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


@skill("think.build_pacs008", effect="idempotent", timeout="60s")
def build_pacs008_file(ctx: SkillContext, params: BuildPacs008Params) -> WrittenMessage:
    """Write a payment as an ISO 20022 pacs.008.001.08 (XSD-validated) to a file."""
    text = build_pacs008(
        params.payment, message_id=params.message_id, creation_time=params.creation_time, cips=params.cips
    )
    target = write_text_within(params.output_path, _root(ctx, params.root), text)
    refs = params.payment.references
    message_id = params.message_id or refs.message_id or refs.instruction_id or ""
    return _written(str(target), text, "pacs.008.001.08", message_id)


# --- think.build_pacs002 --------------------------------------------------------------------------


class OriginalFields(BaseModel):
    message_id: str = Field(description="Original message id (MT: field 20).")
    message_type: str = Field(description="Original message type, e.g. pacs.008.001.08 or MT103.")
    instruction_id: str | None = Field(None, description="Original InstrId.")
    end_to_end_id: str | None = Field(None, description="Original EndToEndId.")
    transaction_id: str | None = Field(None, description="Original TxId.")
    uetr: str | None = Field(None, description="Original UETR.")
    instructing_agent_bic: str | None = Field(
        None, description="BIC of who sent the original (receives this report)."
    )
    instructed_agent_bic: str | None = Field(
        None, description="BIC of who received the original (sends this report)."
    )


class BuildPacs002Params(BaseModel):
    original_path: str | None = Field(
        None, description="File of the original message (its first transfer is answered)."
    )
    original_text: str | None = Field(None, description="The original message itself.")
    original: OriginalFields | None = Field(
        None, description="The original's references, when the message is not at hand."
    )
    transaction_index: int = Field(
        0, ge=0, description="Which transfer of the original message to answer (0 = first)."
    )
    status: str = Field(
        description="accepted, rejected, pending, settled, credited, or an ISO status code (ACSP, RJCT...)."
    )
    reason_codes: list[str] = Field(
        default_factory=list, description="ISO status reason codes (AC04, AM04...); needed to reject."
    )
    additional_information: list[str] = Field(
        default_factory=list,
        description="Free-text lines (105 characters each) attached to the first reason.",
    )
    message_id: str = Field(description="GrpHdr/MsgId of the status report.")
    output_path: str = Field(description="Where to write the XML, relative to root (or absolute inside it).")
    root: str | None = Field(
        None, description="Folder paths must stay inside (default: the run's work folder)."
    )
    creation_time: datetime | None = Field(None, description="GrpHdr/CreDtTm (default: now, UTC).")

    @model_validator(mode="after")
    def _one_original(self) -> BuildPacs002Params:
        given = [x for x in (self.original_path, self.original_text, self.original) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of original_path, original_text and original")
        return self


class BuildPacs002Result(WrittenMessage):
    status: str = Field(description="The ISO transaction status written (ACSP, RJCT...).")
    reason_codes: list[str] = Field(description="The reason codes written.")
    original_message_id: str = Field(description="OrgnlMsgId answered.")
    original_end_to_end_id: str | None = Field(description="OrgnlEndToEndId answered.")
    original_uetr: str | None = Field(description="OrgnlUETR answered.")


def _original(ctx: SkillContext, params: BuildPacs002Params) -> OriginalReference:
    if params.original is not None:
        fields = params.original
        return OriginalReference(
            message_id=fields.message_id,
            message_type=fields.message_type,
            instruction_id=fields.instruction_id,
            end_to_end_id=fields.end_to_end_id,
            transaction_id=fields.transaction_id,
            uetr=fields.uetr,
            instructing_agent=Agent(bic=fields.instructing_agent_bic)
            if fields.instructing_agent_bic
            else None,
            instructed_agent=Agent(bic=fields.instructed_agent_bic) if fields.instructed_agent_bic else None,
        )
    message = parse_message(_source(ctx, params.original_path, params.original_text, params.root))
    if not isinstance(message, PaymentMessage):
        raise BusinessError(f"the original is a {message.kind}, not a payment message", code="not_a_payment")
    if params.transaction_index >= len(message.payments):
        raise BusinessError(
            f"the original holds {len(message.payments)} transfer(s); index {params.transaction_index} does not exist",
            code="no_such_transaction",
        )
    return OriginalReference.of(message.payments[params.transaction_index])


@skill("think.build_pacs002", effect="idempotent", timeout="60s")
def build_pacs002_file(ctx: SkillContext, params: BuildPacs002Params) -> BuildPacs002Result:
    """Write a pacs.002 status report (accepted / rejected with reason codes) for an original payment."""
    original = _original(ctx, params)
    reasons = [StatusReasonInput(code=code) for code in params.reason_codes]
    if reasons and params.additional_information:
        reasons[0].additional_information = list(params.additional_information)
    text = build_pacs002(
        original, params.status, reasons, message_id=params.message_id, creation_time=params.creation_time
    )
    target = write_text_within(params.output_path, _root(ctx, params.root), text)
    written = _written(str(target), text, "pacs.002.001.10", params.message_id)
    return BuildPacs002Result(
        **written.model_dump(),
        status=resolve_status(params.status),
        reason_codes=list(params.reason_codes),
        original_message_id=original.message_id,
        original_end_to_end_id=original.end_to_end_id,
        original_uetr=original.uetr,
    )


# --- think.read_reconciliation --------------------------------------------------------------------


class ReadReconciliationParams(BaseModel):
    path: str = Field(
        description="The clearing result file (CSV layout cnaps.clearing-result.v1, docs/payments.md)."
    )
    root: str | None = Field(
        None, description="Folder the path must stay inside (default: the run's work folder)."
    )


class ReadReconciliationResult(BaseModel):
    count: int = Field(description="Number of transfers in the file (checked against its TOTAL line).")
    total: Decimal = Field(description="Sum of all amounts, CNY (checked against its TOTAL line).")
    settled_count: int = Field(description="Transfers the NPC settled (PR02, PR04, PR05).")
    rejected_count: int = Field(description="Transfers the NPC rejected (PR09).")
    pending_count: int = Field(description="Transfers neither settled nor rejected yet.")
    entries: list[ClearingEntry] = Field(description="Every transfer, in file order, with its line number.")


@skill("think.read_reconciliation", effect="none", timeout="60s")
def read_reconciliation(ctx: SkillContext, params: ReadReconciliationParams) -> ReadReconciliationResult:
    """Read a CNAPS clearing result file into entries to reconcile against (with control totals checked)."""
    result = read_clearing_file(read_bytes_within(params.path, _root(ctx, params.root)))
    outcomes = [entry.outcome for entry in result.entries]
    return ReadReconciliationResult(
        count=result.count,
        total=result.total,
        settled_count=outcomes.count("settled"),
        rejected_count=outcomes.count("rejected"),
        pending_count=outcomes.count("pending"),
        entries=result.entries,
    )
