"""Write a ``Payment`` as an ISO 20022 pacs.008.001.08 (FIToFICstmrCdtTrf) with one transaction.

The output is validated against the bundled pacs.008.001.08 XSD before it is returned; a
payment that does not fit raises ``MessageBuildError`` with the schema's reason and XPath.

CIPS: ``cips=True`` settles through the clearing system (``SttlmMtd`` ``CLRG``) of CIPS. The
settlement-level ``SttlmInf/ClrSys/Cd`` is an ExternalCashClearingSystem1Code of at most three
characters, where CIPS is ``CIP``; the five-letter ``CNCIP`` is the ExternalClearingSystem-
Identification1Code that identifies CIPS participants in ``ClrSysMmbId/ClrSysId/Cd`` of each agent
(``Agent(clearing_system="CNCIP", member_id=...)``). Both code lists are in
``/work/shared/data/iso20022/external-code-sets``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from skills.think.payments.errors import MessageBuildError, MessageFormatError
from skills.think.payments.iso import schemas
from skills.think.payments.iso.parties import sub, write_account, write_agent, write_party
from skills.think.payments.model import Account, Agent, Amount, Payment
from skills.think.payments.safe_xml import parse_xml

PACS008 = "pacs.008.001.08"
NAMESPACE = schemas.ISO_PREFIX + PACS008
CIPS_CASH_CLEARING_CODE = "CIP"
CIPS_MEMBER_CLEARING_CODE = "CNCIP"
_CREDITOR_AGENT_CODES = {"CHQB", "HOLD", "PHOB", "TELB"}


def _amount(parent: etree._Element, tag: str, amount: Amount) -> None:
    sub(parent, tag, format(amount.value, "f"), Ccy=amount.currency)


def _need(value: object, what: str) -> object:
    if value in (None, ""):
        raise MessageBuildError(f"cannot build {PACS008}: {what} is missing")
    return value


def build_pacs008(
    payment: Payment,
    *,
    message_id: str | None = None,
    creation_time: datetime | None = None,
    cips: bool = False,
) -> str:
    """The XML text (UTF-8 declaration included) of ``payment`` as a single-transaction pacs.008.001.08.

    Args:
        payment: the transfer; debtor, creditor, both agents, amount and value date are mandatory.
        message_id: GrpHdr/MsgId (default: the payment's message id, else its instruction id).
        creation_time: GrpHdr/CreDtTm (default: the payment's, else now in UTC).
        cips: settle through CIPS (see the module docstring).

    Raises:
        MessageBuildError: a mandatory part is missing or the result violates the XSD.
    """
    refs = payment.references
    document = etree.Element(f"{{{NAMESPACE}}}Document", nsmap={None: NAMESPACE})
    body = sub(document, "FIToFICstmrCdtTrf")
    group = sub(body, "GrpHdr")
    sub(group, "MsgId", str(_need(message_id or refs.message_id or refs.instruction_id, "the message id")))
    stamp = creation_time or payment.creation_time or datetime.now(UTC).replace(microsecond=0)
    sub(group, "CreDtTm", stamp.isoformat())
    sub(group, "NbOfTxs", "1")
    settlement = sub(group, "SttlmInf")
    sub(settlement, "SttlmMtd", "CLRG" if cips else (payment.settlement_method or "INDA"))
    clearing = CIPS_CASH_CLEARING_CODE if cips else payment.clearing_system
    if clearing:
        system = sub(settlement, "ClrSys")
        sub(system, "Cd" if len(clearing) <= 3 else "Prtry", clearing)
    for tag, agent in (
        ("InstgRmbrsmntAgt", payment.senders_correspondent),
        ("InstdRmbrsmntAgt", payment.receivers_correspondent),
        ("ThrdRmbrsmntAgt", payment.third_reimbursement_institution),
    ):
        if agent is not None:
            write_agent(settlement, tag, agent)
    tx = sub(body, "CdtTrfTxInf")
    _payment_id(tx, payment)
    _payment_type(tx, payment)
    _amount(tx, "IntrBkSttlmAmt", payment.settlement_amount)
    sub(tx, "IntrBkSttlmDt", _need(payment.value_date, "the interbank settlement date").isoformat())  # type: ignore[attr-defined]
    if payment.priority == "URGT":
        sub(tx, "SttlmPrty", "URGT")
    if payment.instructed_amount:
        _amount(tx, "InstdAmt", payment.instructed_amount)
    if payment.exchange_rate is not None:
        sub(tx, "XchgRate", format(payment.exchange_rate, "f"))
    sub(tx, "ChrgBr", str(_need(payment.charges.bearer, "the charge bearer (ChrgBr)")))
    charges = [(a, payment.instructing_agent) for a in payment.charges.sender_charges]
    if payment.charges.receiver_charges:
        charges.append((payment.charges.receiver_charges, payment.instructed_agent))
    for amount, agent in charges:
        item = sub(tx, "ChrgsInf")
        _amount(item, "Amt", amount)
        write_agent(item, "Agt", agent or Agent(name="NOTPROVIDED"))
    write_agent(tx, "InstgAgt", payment.instructing_agent)
    write_agent(tx, "InstdAgt", payment.instructed_agent)
    if len(payment.intermediaries) > 3:
        raise MessageBuildError(
            f"pacs.008 has room for 3 intermediary agents, the payment has {len(payment.intermediaries)}"
        )
    for number, agent in enumerate(payment.intermediaries, start=1):
        write_agent(tx, f"IntrmyAgt{number}", agent)
        if agent.account:
            write_account(tx, f"IntrmyAgt{number}Acct", _account_of(agent))
    write_party(tx, "UltmtDbtr", payment.ultimate_debtor)
    write_party(tx, "InitgPty", payment.initiating_party)
    write_party(tx, "Dbtr", _need(payment.debtor, "the debtor"))  # type: ignore[arg-type]
    write_account(tx, "DbtrAcct", payment.debtor.account if payment.debtor else None)
    write_agent(tx, "DbtrAgt", _need(payment.debtor_agent, "the debtor agent"))  # type: ignore[arg-type]
    write_agent(tx, "CdtrAgt", _need(payment.creditor_agent, "the creditor agent"))  # type: ignore[arg-type]
    write_party(tx, "Cdtr", _need(payment.creditor, "the creditor"))  # type: ignore[arg-type]
    write_account(tx, "CdtrAcct", payment.creditor.account if payment.creditor else None)
    write_party(tx, "UltmtCdtr", payment.ultimate_creditor)
    _instructions(tx, payment)
    if payment.purpose:
        purpose = sub(tx, "Purp")
        sub(
            purpose,
            "Cd" if payment.purpose.code else "Prtry",
            payment.purpose.code or payment.purpose.proprietary,
        )
    for report in payment.regulatory_reporting[:10]:
        details = sub(sub(tx, "RgltryRptg"), "Dtls")
        for tag, value in (("Tp", report.type), ("Ctry", report.country), ("Cd", report.code)):
            if value:
                sub(details, tag, value)
        for line in report.information:
            sub(details, "Inf", line)
    if payment.remittance_information:
        remittance = sub(tx, "RmtInf")
        for line in payment.remittance_information:
            sub(remittance, "Ustrd", line)
    return _checked(document)


def _account_of(agent: Agent) -> Account:
    return Account(id=agent.account or "")


def _payment_id(tx: etree._Element, payment: Payment) -> None:
    refs = payment.references
    ident = sub(tx, "PmtId")
    if refs.instruction_id:
        sub(ident, "InstrId", refs.instruction_id)
    sub(ident, "EndToEndId", refs.end_to_end_id or "NOTPROVIDED")
    if refs.transaction_id:
        sub(ident, "TxId", refs.transaction_id)
    if refs.uetr:
        sub(ident, "UETR", refs.uetr)
    if refs.clearing_reference:
        sub(ident, "ClrSysRef", refs.clearing_reference)


def _payment_type(tx: etree._Element, payment: Payment) -> None:
    levels = list(payment.service_levels)
    category = payment.category_purpose
    if any(c.code == "SDVA" for c in payment.instruction_codes) and "SDVA" not in levels:
        levels.append("SDVA")  # CBPR+: MT 23E SDVA travels as service level SDVA
    priority = payment.priority if payment.priority in ("HIGH", "NORM") else None
    if not (levels or payment.local_instrument or category or priority):
        return
    kind = sub(tx, "PmtTpInf")
    if priority:
        sub(kind, "InstrPrty", priority)
    for level in levels:
        sub(sub(kind, "SvcLvl"), "Cd" if len(level) <= 4 else "Prtry", level)
    if payment.local_instrument:
        instrument = sub(kind, "LclInstrm")
        sub(instrument, "Cd" if len(payment.local_instrument) <= 4 else "Prtry", payment.local_instrument)
    if category:
        node = sub(kind, "CtgyPurp")
        sub(node, "Cd" if category.code else "Prtry", category.code or category.proprietary)


def _instructions(tx: etree._Element, payment: Payment) -> None:
    for code in payment.instruction_codes:
        if code.code in _CREDITOR_AGENT_CODES:
            node = sub(tx, "InstrForCdtrAgt")
            sub(node, "Cd", code.code)
            if code.text:
                sub(node, "InstrInf", code.text)
    for line in payment.sender_to_receiver_information:
        sub(sub(tx, "InstrForNxtAgt"), "InstrInf", line)


def _checked(document: etree._Element) -> str:
    text = etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")
    try:  # validate the re-parsed text, so that errors carry line numbers
        schemas.validate(parse_xml(text))
    except MessageFormatError as error:
        raise MessageBuildError(
            f"the built {PACS008} is not valid: {error.reason} ({error.location})"
        ) from error
    return text
