"""Read pacs.002 (FIToFIPmtStsRpt) payment status reports into ``StatusReport``."""

from __future__ import annotations

from skills.think.payments.iso.parties import read_agent
from skills.think.payments.iso.xmlnav import Node
from skills.think.payments.reports import StatusReason, StatusReport, TransactionStatus


def _reasons(node: Node) -> list[StatusReason]:
    reasons = []
    for item in node.children("StsRsnInf"):
        code, proprietary = item.code_or_proprietary("Rsn")
        reasons.append(
            StatusReason(code=code, proprietary=proprietary, additional_information=item.texts("AddtlInf"))
        )
    return reasons


def read_status_report(body: Node, message_type: str) -> StatusReport:
    """A ``FIToFIPmtStsRpt`` body (any version: ``.03`` to ``.14``)."""
    group = body.required("GrpHdr")
    report = StatusReport(
        message_type=message_type,
        message_id=group.required_text("MsgId"),
        creation_time=group.datetime("CreDtTm"),
    )
    original = body.child("OrgnlGrpInfAndSts")
    if original is not None:
        report.original_message_id = original.text("OrgnlMsgId")
        report.original_message_type = original.text("OrgnlMsgNmId")
        report.group_status = original.text("GrpSts")
        report.group_reasons = _reasons(original)
    for tx in body.children("TxInfAndSts") + body.children("OrgnlGrpInfAndSts/TxInfAndSts"):
        report.transactions.append(
            TransactionStatus(
                status=tx.text("TxSts"),
                reasons=_reasons(tx),
                original_instruction_id=tx.text("OrgnlInstrId"),
                original_end_to_end_id=tx.text("OrgnlEndToEndId"),
                original_transaction_id=tx.text("OrgnlTxId"),
                original_uetr=tx.text("OrgnlUETR"),
                original_message_id=tx.text("OrgnlGrpInf/OrgnlMsgId"),
                original_message_type=tx.text("OrgnlGrpInf/OrgnlMsgNmId"),
                instructing_agent=read_agent(tx.child("InstgAgt")),
                instructed_agent=read_agent(tx.child("InstdAgt")),
                position=tx.where,
            )
        )
    return report
