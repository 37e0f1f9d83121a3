"""BEPS beps.121.001.01 (客户发起普通贷记业务报文, bulk customer credit transfer): read and write.

A package (``CstmrCdtTrf``) has a header ``PKGGrpHdr`` (direct participants, count ``NbOfTxs``,
control sum ``CtrlSum``, ``SysCd`` BEPS), optional NPC processing information ``NPCPrcInf`` (filled
by the NPC on the way down) and one ``CstmrCdtTrfInf`` per transfer. Reading checks the field
rules and the controls ``NbOfTxs == count`` and ``CtrlSum == sum of Amt``.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from skills.think.payments.cnaps import rules
from skills.think.payments.errors import MessageBuildError
from skills.think.payments.iso.parties import read_account, sub
from skills.think.payments.iso.xmlnav import Node
from skills.think.payments.model import (
    Agent,
    MessageFormat,
    NpcProcessing,
    Party,
    Payment,
    PaymentMessage,
    Purpose,
    References,
    SourceRef,
)
from skills.think.payments.safe_xml import element_path

BEPS121 = "beps.121.001.01"
NAMESPACE = f"urn:cnaps:std:beps:2010:tech:xsd:{BEPS121}"


def _party(node: Node, name: str) -> Party:
    return Party(
        name=node.text(f"{name}/Nm"),
        address_lines=node.texts(f"{name}/PstlAdr/AdrLine"),
        account=read_account(node.child(f"{name}Acct")),
    )


def read_beps121(body: Node) -> PaymentMessage:
    """A ``CstmrCdtTrf`` body of a beps.121 package."""
    group = body.required("PKGGrpHdr")
    rules.check(group, rules.BEPS121_GROUP)
    processing = body.child("NPCPrcInf")
    if processing is not None:
        rules.check(processing, rules.BEPS121_PROCESSING)
    items = body.children("CstmrCdtTrfInf")
    if not items:
        raise body.fail("a beps.121 package holds no CstmrCdtTrfInf")
    declared = int(group.required_text("NbOfTxs"))
    if declared != len(items):
        raise group.required("NbOfTxs").fail(
            f"NbOfTxs says {declared} but the package holds {len(items)} transfers"
        )
    sender = group.required_text("InstgPty/InstgDrctPty")
    receiver = group.required_text("InstdPty/InstdDrctPty")
    payments = [_transfer(item, group, sender, receiver) for item in items]
    control = group.amount("CtrlSum")
    assert control is not None
    total = sum((p.settlement_amount.value for p in payments), Decimal(0))
    if control.value != total:
        raise group.required("CtrlSum").fail(
            f"CtrlSum says {control.value} but the transfers add up to {total}"
        )
    return PaymentMessage(
        format=MessageFormat.cnaps,
        message_type=BEPS121,
        message_id=group.text("MsgId"),
        creation_time=group.datetime("CreDtTm"),
        sender=sender,
        receiver=receiver,
        number_of_transactions=declared,
        control_sum=control.value,
        npc_processing=_processing(processing),
        payments=payments,
    )


def _processing(node: Node | None) -> NpcProcessing | None:
    if node is None:
        return None
    return NpcProcessing(
        status=node.required_text("PrcSts"),
        process_code=node.required_text("PrcCd"),
        reject_information=node.text("RjctInf"),
        netting_date=node.date("NetgDt"),
        netting_round=node.text("NetgRnd"),
        settlement_date=node.date("SttlmDt"),
        receive_time=node.datetime("RcvTm"),
        transmit_time=node.datetime("TrnsmtTm"),
    )


def _transfer(item: Node, group: Node, sender: str, receiver: str) -> Payment:
    rules.check(item, rules.BEPS121_TRANSACTION)
    amount_node = item.required("Amt")
    amount = amount_node.amount()
    assert amount is not None
    if amount.currency != "CNY":
        raise amount_node.fail(f"BEPS settles in CNY, found {amount.currency}")
    remark = item.text("AddtlInf")
    return Payment(
        format=MessageFormat.cnaps,
        message_type=BEPS121,
        references=References(message_id=group.text("MsgId"), transaction_id=item.text("TxId")),
        creation_time=group.datetime("CreDtTm"),
        settlement_amount=amount,
        clearing_system="BEPS",
        category_purpose=Purpose(proprietary=item.text("PmtTpInf/CtgyPurp/Prtry")),
        purpose=Purpose(proprietary=item.text("Purp/Prtry")),
        debtor=_party(item, "Dbtr"),
        creditor=_party(item, "Cdtr"),
        debtor_agent=Agent(clearing_system="CNAPS", branch_id=item.text("DbtrAgt/BrnchId/Id")),
        creditor_agent=Agent(clearing_system="CNAPS", branch_id=item.text("CdtrAgt/BrnchId/Id")),
        instructing_agent=Agent(clearing_system="CNAPS", member_id=sender),
        instructed_agent=Agent(clearing_system="CNAPS", member_id=receiver),
        remittance_information=[remark] if remark else [],
        source=SourceRef(
            locator=element_path(item.element),
            positions={
                "settlement_amount": amount_node.where,
                "references.transaction_id": item.required("TxId").where,
            },
        ),
    )


def write_beps121(message: PaymentMessage) -> etree._Element:
    """The ``Document`` element of a beps.121 package of ``message.payments``."""
    if not message.payments:
        raise MessageBuildError("a beps.121 package needs at least one transfer")
    document = etree.Element(f"{{{NAMESPACE}}}Document", nsmap={None: NAMESPACE})
    body = sub(document, "CstmrCdtTrf")
    group = sub(body, "PKGGrpHdr")
    sub(group, "MsgId", message.message_id or "")
    sub(
        group, "CreDtTm", message.creation_time.strftime("%Y-%m-%dT%H:%M:%S") if message.creation_time else ""
    )
    sub(sub(group, "InstgPty"), "InstgDrctPty", message.sender or "")
    sub(sub(group, "InstdPty"), "InstdDrctPty", message.receiver or "")
    sub(group, "NbOfTxs", str(len(message.payments)))
    total = sum((p.settlement_amount.value for p in message.payments), Decimal(0))
    sub(group, "CtrlSum", format(total, "f"), Ccy="CNY")
    sub(group, "SysCd", "BEPS")
    processing = message.npc_processing
    if processing is not None:
        node = sub(body, "NPCPrcInf")
        for tag, value in (
            ("PrcSts", processing.status),
            ("PrcCd", processing.process_code),
            ("RjctInf", processing.reject_information),
            ("NetgDt", processing.netting_date.isoformat() if processing.netting_date else None),
            ("NetgRnd", processing.netting_round),
            ("SttlmDt", processing.settlement_date.isoformat() if processing.settlement_date else None),
            (
                "RcvTm",
                processing.receive_time.strftime("%Y-%m-%dT%H:%M:%S") if processing.receive_time else None,
            ),
            (
                "TrnsmtTm",
                processing.transmit_time.strftime("%Y-%m-%dT%H:%M:%S") if processing.transmit_time else None,
            ),
        ):
            if value:
                sub(node, tag, value)
    for payment in message.payments:
        _write_transfer(body, payment)
    return document


def _write_party(parent: etree._Element, tag: str, party: Party | None) -> None:
    if party is None or party.account is None:
        raise MessageBuildError(f"a beps.121 transfer needs the {tag} name, account and account bank code")
    node = sub(parent, tag)
    sub(node, "Nm", party.name or "")
    if party.address_lines:
        sub(sub(node, "PstlAdr"), "AdrLine", party.address_lines[0])
    other = sub(sub(sub(parent, f"{tag}Acct"), "Id"), "Othr")
    sub(other, "Id", party.account.id)
    sub(other, "Issr", party.account.issuer or "")


def _write_transfer(body: etree._Element, payment: Payment) -> None:
    item = sub(body, "CstmrCdtTrfInf")
    sub(item, "TxId", payment.references.transaction_id or "")
    _write_party(item, "Dbtr", payment.debtor)
    for tag, agent in (("DbtrAgt", payment.debtor_agent), ("CdtrAgt", payment.creditor_agent)):
        code = (agent.branch_id or agent.member_id) if agent else None
        sub(sub(sub(item, tag), "BrnchId"), "Id", code or "")
    _write_party(item, "Cdtr", payment.creditor)
    amount = payment.settlement_amount
    sub(item, "Amt", format(amount.value, "f"), Ccy=amount.currency)
    category = payment.category_purpose.proprietary if payment.category_purpose else None
    sub(sub(sub(item, "PmtTpInf"), "CtgyPurp"), "Prtry", category or "")
    kind = payment.purpose.proprietary if payment.purpose else None
    sub(sub(item, "Purp"), "Prtry", kind or "")
    if payment.remittance_information:
        sub(item, "AddtlInf", " ".join(payment.remittance_information))
