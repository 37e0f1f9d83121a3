"""HVPS hvps.111.001.01 (客户发起汇兑业务报文, customer credit transfer): read and write.

The message is pacs.008.001.02-shaped (``FIToFICstmrCdtTrf``, one transaction) with CNAPS
usage: agents carry the clearing bank code in ``ClrSysMmbId/MmbId`` (no ``ClrSysId``) and the
branch bank code in ``BrnchId/Id``; accounts carry the account-holding bank in ``Othr/Issr``;
``CtgyPurp/Prtry`` is the 业务类型 (e.g. A100) and ``Purp/Prtry`` the 业务种类 (e.g. 02102).
"""

from __future__ import annotations

from lxml import etree

from skills.think.payments.cnaps import rules
from skills.think.payments.errors import MessageBuildError
from skills.think.payments.iso.credit_transfer import read_transactions
from skills.think.payments.iso.parties import sub
from skills.think.payments.iso.xmlnav import Node
from skills.think.payments.model import Agent, MessageFormat, Party, Payment, PaymentMessage

HVPS111 = "hvps.111.001.01"
NAMESPACE = f"urn:cnaps:std:hvps:2010:tech:xsd:{HVPS111}"


def cnaps_agent(agent: Agent | None) -> Agent | None:
    """Mark an agent identified by bank codes as a CNAPS one (so ``cnaps_code`` is set)."""
    if agent is not None and (agent.member_id or agent.branch_id) and agent.clearing_system is None:
        agent.clearing_system = "CNAPS"
    return agent


def read_hvps111(body: Node) -> PaymentMessage:
    """A ``FIToFICstmrCdtTrf`` body of an hvps.111 message, checked against the field rules."""
    group = body.required("GrpHdr")
    rules.check(group, rules.HVPS111_GROUP)
    transactions = body.children("CdtTrfTxInf")
    if len(transactions) != 1:
        raise body.fail(f"an hvps.111 carries exactly one CdtTrfTxInf, found {len(transactions)}")
    rules.check(transactions[0], rules.HVPS111_TRANSACTION)
    payments = read_transactions(body, HVPS111, (None, None))
    for payment in payments:
        if payment.settlement_amount.currency != "CNY":
            raise (
                transactions[0]
                .required("IntrBkSttlmAmt")
                .fail(f"HVPS settles in CNY, found {payment.settlement_amount.currency}")
            )
        payment.format = MessageFormat.cnaps
        payment.clearing_system = "HVPS"
        for name in ("debtor_agent", "creditor_agent", "instructing_agent", "instructed_agent"):
            cnaps_agent(getattr(payment, name))
        for agent in payment.intermediaries:
            cnaps_agent(agent)
    return PaymentMessage(
        format=MessageFormat.cnaps,
        message_type=HVPS111,
        message_id=group.text("MsgId"),
        creation_time=group.datetime("CreDtTm"),
        number_of_transactions=1,
        payments=payments,
    )


def _agent(parent: etree._Element, tag: str, agent: Agent | None, what: str) -> None:
    if agent is None or not (agent.member_id and agent.branch_id):
        raise MessageBuildError(f"hvps.111 needs the {what}'s clearing bank code and branch bank code (行号)")
    node = sub(parent, tag)
    member = sub(sub(node, "FinInstnId"), "ClrSysMmbId")
    sub(member, "MmbId", agent.member_id)
    sub(sub(node, "BrnchId"), "Id", agent.branch_id)


def _party(parent: etree._Element, party: Party | None, party_tag: str, what: str) -> None:
    if party is None or not party.name or party.account is None or not party.account.issuer:
        raise MessageBuildError(
            f"hvps.111 needs the {what}'s name, account and account bank code (开户行行号)"
        )
    node = sub(parent, party_tag)
    sub(node, "Nm", party.name)
    if party.address_lines:
        sub(sub(node, "PstlAdr"), "AdrLine", party.address_lines[0])
    other = sub(sub(sub(parent, f"{party_tag}Acct"), "Id"), "Othr")
    sub(other, "Id", party.account.id)
    sub(other, "Issr", party.account.issuer)


def write_hvps111(payment: Payment, *, message_id: str | None = None) -> etree._Element:
    """The ``Document`` element of ``payment`` as an hvps.111 (checked by re-reading it)."""
    refs = payment.references
    document = etree.Element(f"{{{NAMESPACE}}}Document", nsmap={None: NAMESPACE})
    body = sub(document, "FIToFICstmrCdtTrf")
    group = sub(body, "GrpHdr")
    sub(group, "MsgId", message_id or refs.message_id or "")
    sub(
        group, "CreDtTm", payment.creation_time.strftime("%Y-%m-%dT%H:%M:%S") if payment.creation_time else ""
    )
    sub(group, "NbOfTxs", "1")
    sub(sub(group, "SttlmInf"), "SttlmMtd", "CLRG")
    tx = sub(body, "CdtTrfTxInf")
    ident = sub(tx, "PmtId")
    sub(ident, "EndToEndId", refs.end_to_end_id or "")
    sub(ident, "TxId", refs.transaction_id or "")
    category = payment.category_purpose.proprietary if payment.category_purpose else None
    sub(sub(sub(tx, "PmtTpInf"), "CtgyPurp"), "Prtry", category or "")
    amount = payment.settlement_amount
    sub(tx, "IntrBkSttlmAmt", format(amount.value, "f"), Ccy=amount.currency)
    if payment.value_date:
        sub(tx, "IntrBkSttlmDt", payment.value_date.isoformat())
    sub(tx, "SttlmPrty", payment.priority or "NORM")
    if payment.charges.bearer:
        sub(tx, "ChrgBr", payment.charges.bearer)
    _party(tx, payment.debtor, "Dbtr", "debtor")
    _agent(tx, "DbtrAgt", payment.debtor_agent, "debtor agent")
    _agent(tx, "CdtrAgt", payment.creditor_agent, "creditor agent")
    _party(tx, payment.creditor, "Cdtr", "creditor")
    kind = payment.purpose.proprietary if payment.purpose else None
    sub(sub(tx, "Purp"), "Prtry", kind or "")
    if payment.remittance_information:
        remittance = sub(tx, "RmtInf")
        for line in payment.remittance_information:
            sub(remittance, "Ustrd", line)
    return document
