"""Read pacs.008 (FIToFICstmrCdtTrf) and pacs.009 (FICdtTrf) into ``Payment``s.

Any version is read by element names (``.02`` to ``.12`` share the skeleton; ``BIC`` became
``BICFI`` in ``.05``). Group-level defaults (settlement date, agents, payment type of old
versions) apply to every transaction that does not set its own. For pacs.009 the debtor and
creditor are institutions (``debtor_institution`` / ``creditor_institution``) and a COV
variant's ``UndrlygCstmrCdtTrf`` becomes ``underlying``.
"""

from __future__ import annotations

import re

from skills.think.payments.iso.parties import read_agent, read_party
from skills.think.payments.iso.xmlnav import Node
from skills.think.payments.model import (
    Agent,
    Charges,
    InstructionCode,
    MessageFormat,
    Payment,
    Purpose,
    References,
    RegulatoryReport,
    SourceRef,
    UnderlyingCustomerTransfer,
)
from skills.think.payments.safe_xml import element_path

CHARGE_BEARERS = frozenset({"DEBT", "CRED", "SHAR", "SLEV"})


class Positions(dict[str, str]):
    """Model field -> ``XPath (line N)`` of the element it was read from."""

    def mark(self, key: str, node: Node | None) -> Node | None:
        """Remember where ``key`` came from; return ``node`` unchanged."""
        if node is not None:
            self[key] = node.where
        return node

    def need(self, key: str, node: Node) -> Node:
        """Like ``mark`` for an element that is known to be present."""
        self[key] = node.where
        return node


def read_transactions(
    body: Node, message_type: str, header_agents: tuple[str | None, str | None]
) -> list[Payment]:
    """Every ``CdtTrfTxInf`` of a pacs.008/pacs.009 body (``FIToFICstmrCdtTrf`` or ``FICdtTrf``)."""
    group = body.required("GrpHdr")
    transactions = body.children("CdtTrfTxInf")
    if not transactions:
        raise body.fail("the message holds no CdtTrfTxInf transaction")
    declared = group.text("NbOfTxs")
    if declared is not None and re.fullmatch(r"[0-9]{1,15}", declared) and int(declared) != len(transactions):
        raise group.required("NbOfTxs").fail(
            f"NbOfTxs says {declared} but the message holds {len(transactions)} transactions"
        )
    institution_transfer = body.name in ("FICdtTrf", "FinInstnCdtTrf")
    return [_transaction(tx, group, message_type, institution_transfer, header_agents) for tx in transactions]


def _transaction(
    tx: Node,
    group: Node,
    message_type: str,
    institution_transfer: bool,
    header_agents: tuple[str | None, str | None],
) -> Payment:
    at = Positions()
    settlement = at.need("settlement_amount", tx.required("IntrBkSttlmAmt")).amount()
    assert settlement is not None  # a present amount element always yields an amount or raises
    date_node = at.mark("value_date", tx.child("IntrBkSttlmDt") or group.child("IntrBkSttlmDt"))
    instructed = at.mark("instructed_amount", tx.child("InstdAmt"))
    payment = Payment(
        format=MessageFormat.iso20022,
        message_type=message_type,
        references=References(
            message_id=group.text("MsgId"),
            instruction_id=tx.text("PmtId/InstrId"),
            end_to_end_id=tx.text("PmtId/EndToEndId"),
            transaction_id=tx.text("PmtId/TxId"),
            uetr=tx.text("PmtId/UETR"),
            clearing_reference=tx.text("PmtId/ClrSysRef"),
        ),
        creation_time=group.datetime("CreDtTm"),
        value_date=date_node.date() if date_node else None,
        settlement_amount=settlement,
        instructed_amount=instructed.amount() if instructed else None,
        exchange_rate=tx.decimal("XchgRate"),
        settlement_method=group.text("SttlmInf/SttlmMtd"),
        priority=tx.text("SttlmPrty") or tx.text("PmtTpInf/InstrPrty") or group.text("PmtTpInf/InstrPrty"),
    )
    code, proprietary = group.code_or_proprietary("SttlmInf/ClrSys")
    payment.clearing_system = code or proprietary
    _payment_type(payment, tx.child("PmtTpInf") or group.child("PmtTpInf"))
    _charges(payment, tx)
    _agents(payment, tx, group, header_agents, at)
    if institution_transfer:
        payment.debtor_institution = read_agent(
            at.mark("debtor_institution", tx.child("Dbtr")), tx.child("DbtrAcct")
        )
        payment.creditor_institution = read_agent(
            at.mark("creditor_institution", tx.child("Cdtr")), tx.child("CdtrAcct")
        )
        payment.underlying = _underlying(tx.child("UndrlygCstmrCdtTrf"))
    else:
        payment.debtor = read_party(at.mark("debtor", tx.child("Dbtr")), tx.child("DbtrAcct"))
        payment.creditor = read_party(at.mark("creditor", tx.child("Cdtr")), tx.child("CdtrAcct"))
        payment.ultimate_debtor = read_party(tx.child("UltmtDbtr"))
        payment.ultimate_creditor = read_party(tx.child("UltmtCdtr"))
        payment.initiating_party = read_party(tx.child("InitgPty"))
    payment.instruction_codes = [
        InstructionCode(code=node.text("Cd") or "", text=node.text("InstrInf"))
        for node in tx.children("InstrForCdtrAgt")
        if node.text("Cd")
    ]
    payment.sender_to_receiver_information = [
        text for node in tx.children("InstrForNxtAgt") if (text := node.text("InstrInf") or node.text("Cd"))
    ]
    purpose_code, purpose_prtry = tx.code_or_proprietary("Purp")
    if purpose_code or purpose_prtry:
        payment.purpose = Purpose(code=purpose_code, proprietary=purpose_prtry)
    payment.regulatory_reporting = [
        RegulatoryReport(
            code=d.text("Cd"), country=d.text("Ctry"), information=d.texts("Inf"), type=d.text("Tp")
        )
        for d in tx.children("RgltryRptg/Dtls")
    ]
    payment.remittance_information = remittance_lines(tx.child("RmtInf"))
    if payment.remittance_information:
        at.mark("remittance_information", tx.child("RmtInf"))
    payment.source = SourceRef(locator=element_path(tx.element), positions=dict(at))
    return payment


def remittance_lines(node: Node | None) -> list[str]:
    """``Ustrd`` lines, then one line per structured creditor reference (``Strd/CdtrRefInf/Ref``)."""
    if node is None:
        return []
    lines = node.texts("Ustrd")
    lines += [f"/RFB/{ref}" for ref in node.texts("Strd/CdtrRefInf/Ref")]
    return lines


def _payment_type(payment: Payment, node: Node | None) -> None:
    if node is None:
        return
    payment.service_levels = [v for n in node.children("SvcLvl") if (v := n.text("Cd") or n.text("Prtry"))]
    code, proprietary = node.code_or_proprietary("LclInstrm")
    payment.local_instrument = code or proprietary
    code, proprietary = node.code_or_proprietary("CtgyPurp")
    if code or proprietary:
        payment.category_purpose = Purpose(code=code, proprietary=proprietary)


def _charges(payment: Payment, tx: Node) -> None:
    bearer = tx.text("ChrgBr")
    if bearer is not None and bearer not in CHARGE_BEARERS:
        raise tx.required("ChrgBr").fail(f"ChrgBr must be DEBT, CRED, SHAR or SLEV, found {bearer!r}")
    charges = Charges(bearer=bearer)  # type: ignore[arg-type]
    amounts = [a for node in tx.children("ChrgsInf") if (a := node.amount("Amt"))]
    if bearer == "DEBT" and amounts:
        charges.receiver_charges = amounts[0]  # CBPR+: ChrgBr DEBT + ChrgsInf is MT 71G
    else:
        charges.sender_charges = amounts
    payment.charges = charges


def _agents(
    payment: Payment, tx: Node, group: Node, header: tuple[str | None, str | None], at: Positions
) -> None:
    record = at.mark
    payment.instructing_agent = read_agent(
        record("instructing_agent", tx.child("InstgAgt") or group.child("InstgAgt"))
    )
    payment.instructed_agent = read_agent(
        record("instructed_agent", tx.child("InstdAgt") or group.child("InstdAgt"))
    )
    if payment.instructing_agent is None and header[0]:
        payment.instructing_agent = Agent(bic=header[0])
    if payment.instructed_agent is None and header[1]:
        payment.instructed_agent = Agent(bic=header[1])
    settlement = group.child("SttlmInf")
    if settlement is not None:
        payment.senders_correspondent = read_agent(
            settlement.child("InstgRmbrsmntAgt"), settlement.child("InstgRmbrsmntAgtAcct")
        )
        payment.receivers_correspondent = read_agent(
            settlement.child("InstdRmbrsmntAgt"), settlement.child("InstdRmbrsmntAgtAcct")
        )
        payment.third_reimbursement_institution = read_agent(
            settlement.child("ThrdRmbrsmntAgt"), settlement.child("ThrdRmbrsmntAgtAcct")
        )
    payment.intermediaries = [
        agent
        for n in (1, 2, 3)
        if (
            agent := read_agent(
                record(f"intermediaries[{n - 1}]", tx.child(f"IntrmyAgt{n}")), tx.child(f"IntrmyAgt{n}Acct")
            )
        )
    ]
    payment.debtor_agent = read_agent(record("debtor_agent", tx.child("DbtrAgt")), tx.child("DbtrAgtAcct"))
    payment.creditor_agent = read_agent(
        record("creditor_agent", tx.child("CdtrAgt")), tx.child("CdtrAgtAcct")
    )


def _underlying(node: Node | None) -> UnderlyingCustomerTransfer | None:
    if node is None:
        return None
    amount = node.child("InstdAmt")
    return UnderlyingCustomerTransfer(
        debtor=read_party(node.child("Dbtr"), node.child("DbtrAcct")),
        debtor_agent=read_agent(node.child("DbtrAgt"), node.child("DbtrAgtAcct")),
        intermediaries=[
            a
            for n in (1, 2, 3)
            if (a := read_agent(node.child(f"IntrmyAgt{n}"), node.child(f"IntrmyAgt{n}Acct")))
        ],
        creditor_agent=read_agent(node.child("CdtrAgt"), node.child("CdtrAgtAcct")),
        creditor=read_party(node.child("Cdtr"), node.child("CdtrAcct")),
        remittance_information=remittance_lines(node.child("RmtInf")),
        sender_to_receiver_information=[
            t for n in node.children("InstrForNxtAgt") if (t := n.text("InstrInf"))
        ],
        instructed_amount=amount.amount() if amount else None,
    )
