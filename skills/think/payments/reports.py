"""Normalized models of what is not a credit transfer: status reports, statements, clearing results.

``ParsedMessage`` is the union of every top-level model a reader returns, discriminated by ``kind``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from skills.think.payments.model import (
    Account,
    Agent,
    Amount,
    MessageFormat,
    ModelBase,
    Party,
    PaymentMessage,
    References,
)


class StatusReason(ModelBase):
    """Why a status was given (StsRsnInf)."""

    code: str | None = Field(None, description="ISO external status reason code, e.g. AC04, AM04, RR04.")
    proprietary: str | None = Field(None, description="Rsn/Prtry.")
    additional_information: list[str] = Field(default_factory=list, description="AddtlInf lines.")


class TransactionStatus(ModelBase):
    """The status of one original transaction (TxInfAndSts)."""

    status: str | None = Field(None, description="TxSts: ACTC, ACCP, ACSP, ACSC, ACCC, PDNG, RJCT...")
    reasons: list[StatusReason] = Field(default_factory=list, description="StsRsnInf.")
    original_instruction_id: str | None = Field(None, description="OrgnlInstrId.")
    original_end_to_end_id: str | None = Field(None, description="OrgnlEndToEndId.")
    original_transaction_id: str | None = Field(None, description="OrgnlTxId.")
    original_uetr: str | None = Field(None, description="OrgnlUETR.")
    original_message_id: str | None = Field(None, description="OrgnlGrpInf/OrgnlMsgId.")
    original_message_type: str | None = Field(None, description="OrgnlGrpInf/OrgnlMsgNmId.")
    instructing_agent: Agent | None = Field(None, description="InstgAgt.")
    instructed_agent: Agent | None = Field(None, description="InstdAgt.")
    position: str = Field("", description="XPath and line of the TxInfAndSts element.")


class StatusReport(ModelBase):
    """A payment status report (pacs.002)."""

    kind: Literal["status_report"] = Field("status_report", description="Discriminator.")
    format: MessageFormat = Field(MessageFormat.iso20022, description="Format family.")
    message_type: str = Field(description="e.g. pacs.002.001.10.")
    message_id: str | None = Field(None, description="GrpHdr/MsgId.")
    creation_time: datetime | None = Field(None, description="GrpHdr/CreDtTm.")
    original_message_id: str | None = Field(None, description="OrgnlGrpInfAndSts/OrgnlMsgId.")
    original_message_type: str | None = Field(None, description="OrgnlGrpInfAndSts/OrgnlMsgNmId.")
    group_status: str | None = Field(None, description="OrgnlGrpInfAndSts/GrpSts.")
    group_reasons: list[StatusReason] = Field(default_factory=list, description="Group-level StsRsnInf.")
    transactions: list[TransactionStatus] = Field(default_factory=list, description="TxInfAndSts.")
    schema_validated: bool = Field(False, description="True when an XSD for this exact version validated it.")


class Balance(ModelBase):
    """A statement balance (Bal)."""

    type: str = Field(description="Tp/CdOrPrtry Cd or Prtry: OPBD, CLBD, CLAV, ITBD, PRCD...")
    amount: Amount = Field(description="Amt.")
    credit_debit: Literal["CRDT", "DBIT"] = Field(description="CdtDbtInd.")
    balance_date: date | None = Field(None, description="Dt/Dt (or the date part of Dt/DtTm).")


class EntryTransaction(ModelBase):
    """One transaction inside an entry (NtryDtls/TxDtls)."""

    references: References = Field(default_factory=References, description="Refs.")
    amount: Amount | None = Field(None, description="Amt or AmtDtls/TxAmt.")
    credit_debit: Literal["CRDT", "DBIT"] | None = Field(None, description="CdtDbtInd.")
    debtor: Party | None = Field(None, description="RltdPties/Dbtr.")
    creditor: Party | None = Field(None, description="RltdPties/Cdtr.")
    debtor_agent: Agent | None = Field(None, description="RltdAgts/DbtrAgt.")
    creditor_agent: Agent | None = Field(None, description="RltdAgts/CdtrAgt.")
    remittance_information: list[str] = Field(
        default_factory=list, description="RmtInf/Ustrd (and Strd refs)."
    )
    additional_information: str | None = Field(None, description="AddtlTxInf.")
    return_reason: str | None = Field(None, description="RtrInf/Rsn/Cd.")


class Entry(ModelBase):
    """One booked or pending entry of a statement or notification (Ntry)."""

    reference: str | None = Field(None, description="NtryRef.")
    amount: Amount = Field(description="Amt.")
    credit_debit: Literal["CRDT", "DBIT"] = Field(description="CdtDbtInd.")
    reversal: bool = Field(False, description="RvslInd.")
    status: str | None = Field(None, description="Sts (Cd): BOOK, PDNG, INFO.")
    booking_date: date | None = Field(None, description="BookgDt.")
    value_date: date | None = Field(None, description="ValDt.")
    account_servicer_reference: str | None = Field(None, description="AcctSvcrRef.")
    bank_transaction_code: str | None = Field(
        None, description="BkTxCd as DOMAIN/FAMILY/SUBFAMILY (e.g. PMNT/RCDT/XBCT) or the proprietary code."
    )
    additional_information: str | None = Field(None, description="AddtlNtryInf.")
    transactions: list[EntryTransaction] = Field(default_factory=list, description="NtryDtls/TxDtls.")
    position: str = Field("", description="XPath and line of the Ntry element.")


class Statement(ModelBase):
    """One account statement (camt.053 Stmt), report (camt.052 Rpt) or notification (camt.054 Ntfctn)."""

    id: str | None = Field(None, description="Id.")
    sequence_number: str | None = Field(None, description="ElctrncSeqNb.")
    creation_time: datetime | None = Field(None, description="CreDtTm.")
    from_time: datetime | None = Field(None, description="FrToDt/FrDtTm.")
    to_time: datetime | None = Field(None, description="FrToDt/ToDtTm.")
    account: Account | None = Field(None, description="Acct/Id.")
    account_owner: str | None = Field(None, description="Acct/Ownr/Nm.")
    account_servicer_bic: str | None = Field(None, description="Acct/Svcr BIC.")
    balances: list[Balance] = Field(default_factory=list, description="Bal.")
    entries: list[Entry] = Field(default_factory=list, description="Ntry, in document order.")


class StatementMessage(ModelBase):
    """A bank-to-customer statement (camt.053) or debit/credit notification (camt.054)."""

    kind: Literal["statement", "notification"] = Field(
        description="statement (camt.053/052) or notification."
    )
    format: MessageFormat = Field(MessageFormat.iso20022, description="Format family.")
    message_type: str = Field(description="e.g. camt.053.001.08.")
    message_id: str | None = Field(None, description="GrpHdr/MsgId.")
    creation_time: datetime | None = Field(None, description="GrpHdr/CreDtTm.")
    statements: list[Statement] = Field(default_factory=list, description="Stmt / Ntfctn blocks.")
    schema_validated: bool = Field(False, description="True when an XSD for this exact version validated it.")

    @property
    def entries(self) -> list[Entry]:
        """All entries of all statements, in document order."""
        return [entry for statement in self.statements for entry in statement.entries]


class ClearingEntry(ModelBase):
    """One line of a CNAPS clearing result file (see docs/payments.md, 'Clearing result file')."""

    clearing_date: date = Field(description="Date the NPC cleared (or rejected) the transfer.")
    system: Literal["HVPS", "BEPS"] = Field(description="HVPS (大额) or BEPS (小额).")
    message_type: str = Field(description="Original message type, e.g. hvps.111.001.01.")
    message_id: str = Field(description="Original MsgId (报文标识号).")
    transaction_id: str = Field(description="Original TxId (交易标识号).")
    end_to_end_id: str | None = Field(None, description="Original EndToEndId, when known.")
    direction: Literal["sent", "received"] = Field(description="sent (往账) or received (来账).")
    business_type: str | None = Field(None, description="业务类型 (CtgyPurp/Prtry), e.g. A100.")
    business_kind: str | None = Field(None, description="业务种类 (Purp/Prtry), e.g. 02102.")
    debtor_bank: str = Field(description="Debtor's bank code (付款行行号).")
    debtor_account: str = Field(description="Debtor account (付款人账号).")
    debtor_name: str = Field(description="Debtor name (付款人名称).")
    creditor_bank: str = Field(description="Creditor's bank code (收款行行号).")
    creditor_account: str = Field(description="Creditor account (收款人账号).")
    creditor_name: str = Field(description="Creditor name (收款人名称).")
    amount: Amount = Field(description="Amount cleared.")
    status: str = Field(description="NPC processing status: PR02, PR03, PR04, PR05, PR09...")
    outcome: Literal["settled", "rejected", "pending"] = Field(
        description="What the status means for the bot."
    )
    reason_code: str | None = Field(None, description="Reject reason code, when rejected.")
    reason_text: str | None = Field(None, description="Reject reason text (拒绝原因).")
    netting_round: str | None = Field(None, description="BEPS netting round (轧差场次).")
    settlement_date: date | None = Field(None, description="Settlement date, when settled.")
    line: int = Field(description="Line of the file this entry was read from (1-based).")


class ClearingResult(ModelBase):
    """A CNAPS clearing result file: every transfer the NPC cleared or rejected, with control totals."""

    kind: Literal["clearing_result"] = Field("clearing_result", description="Discriminator.")
    format: MessageFormat = Field(MessageFormat.clearing_csv, description="Format family.")
    message_type: str = Field("cnaps.clearing-result.v1", description="Layout name and version.")
    entries: list[ClearingEntry] = Field(default_factory=list, description="Detail lines, in file order.")
    count: int = Field(description="Number of detail lines (checked against the TOTAL line).")
    total: Decimal = Field(description="Sum of all amounts (checked against the TOTAL line).")


ParsedMessage = Annotated[
    PaymentMessage | StatusReport | StatementMessage | ClearingResult, Field(discriminator="kind")
]
"""Whatever ``parse_message`` returns, discriminated by ``kind``."""
