"""The normalized payment model every reader produces and every writer consumes.

One ``Payment`` is one credit transfer, whichever format carried it: SWIFT MT103/MT202/MT202COV,
ISO 20022 pacs.008/pacs.009 or CNAPS hvps.111/beps.121. Field names follow ISO 20022 meaning;
each field's description says where it comes from in MT and CNAPS. A message holding several
transfers (a pacs.008 batch, a BEPS package, an RJE file) reads to a ``PaymentMessage`` with a
list of payments; status reports, statements/notifications and clearing-result files have their
own top-level models. ``ParsedMessage`` is the union of them, discriminated by ``kind``.

Amounts are ``Decimal`` with an ISO 4217 currency; account numbers, bank codes and references are
strings (a leading zero is data). Codes keep their standard spelling (``DEBT``, ``ACSC``, ``A100``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field


class MessageFormat(StrEnum):
    """The family a message belongs to."""

    swift_mt = "swift_mt"
    iso20022 = "iso20022"
    cnaps = "cnaps"
    clearing_csv = "clearing_csv"


class ModelBase(BaseModel):
    """Base of every normalized model: unknown keys are ignored, so dumps read back."""

    model_config = ConfigDict(extra="ignore", frozen=False)


class Amount(ModelBase):
    """A sum of money: a Decimal value and its ISO 4217 currency."""

    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code, e.g. CNY.")
    value: Decimal = Field(description="The amount, exact (never a float).")


class Account(ModelBase):
    """An account as a payment message identifies it."""

    id: str = Field(description="Account number or IBAN, as written (MT: the /34x party identifier line).")
    scheme: Literal["iban", "other"] = Field(
        "other", description="'iban' when the message carried it as an IBAN (ISO Id/IBAN), else 'other'."
    )
    issuer: str | None = Field(
        None,
        description="Othr/Issr; in CNAPS the 12-digit bank code of the account-holding bank (开户行行号).",
    )
    currency: str | None = Field(None, description="Ccy of the account, when given.")


class PartyIdentifier(ModelBase):
    """An identifier of a party other than its account or BIC (LEI, customer number, national id...)."""

    value: str = Field(description="The identifier itself.")
    scheme: str | None = Field(
        None,
        description="What kind of identifier: an ISO code (LEI, CUST, NIDN, TXID, ARNU...), a proprietary "
        "scheme name, or a clearing system code (CNAPS, USABA...) for financial-institution parties.",
    )
    issuer: str | None = Field(None, description="Who issued it (a country code or an authority).")


class Party(ModelBase):
    """A customer (debtor, creditor, ultimate parties) or, in bank-to-bank transfers, an institution party."""

    name: str | None = Field(
        None, description="Name (MT 50a/59a first line or 1/ lines; ISO Nm; CNAPS 名称)."
    )
    address_lines: list[str] = Field(default_factory=list, description="Unstructured address lines.")
    street_name: str | None = Field(None, description="PstlAdr/StrtNm.")
    building_number: str | None = Field(None, description="PstlAdr/BldgNb.")
    postal_code: str | None = Field(None, description="PstlAdr/PstCd.")
    town: str | None = Field(None, description="PstlAdr/TwnNm (MT 50F/59F line 3/CC/town).")
    country: str | None = Field(None, description="ISO 3166 country code (PstlAdr/Ctry; MT 50F/59F 3/CC).")
    account: Account | None = Field(
        None, description="The party's account (DbtrAcct/CdtrAcct; MT /34x line)."
    )
    bic: str | None = Field(None, description="BIC of the party (MT 50A/59A/58A; ISO AnyBIC or BICFI).")
    identifiers: list[PartyIdentifier] = Field(
        default_factory=list,
        description="Other identifiers (ISO Id/OrgId|PrvtId; MT 50F party identifier, 6/ 7/).",
    )
    date_of_birth: date | None = Field(None, description="PrvtId/DtAndPlcOfBirth/BirthDt (MT 50F 4/).")
    place_of_birth: str | None = Field(
        None, description="'CC/city' (MT 50F 5/; ISO DtAndPlcOfBirth CtryOfBirth/CityOfBirth)."
    )


class Agent(ModelBase):
    """A financial institution in the chain: debtor/creditor agent, intermediary, correspondent."""

    bic: str | None = Field(None, description="BIC (MT option A; ISO FinInstnId/BICFI or BIC).")
    clearing_system: str | None = Field(
        None,
        description="Clearing system of member_id: ISO code (CNAPS, CNCIP, USABA, GBDSC...) from "
        "ClrSysMmbId/ClrSysId, or from the MT '//CN' style code of the party identifier line.",
    )
    member_id: str | None = Field(
        None, description="Clearing system member id; for CNAPS the 12-digit bank code (行号)."
    )
    branch_id: str | None = Field(None, description="BrnchId/Id; in CNAPS the 12-digit branch bank code.")
    name: str | None = Field(None, description="Name (MT option D first line; ISO FinInstnId/Nm).")
    address_lines: list[str] = Field(default_factory=list, description="Address lines (MT option D).")
    country: str | None = Field(None, description="PstlAdr/Ctry, when given.")
    location: str | None = Field(None, description="MT option B location line.")
    account: str | None = Field(
        None, description="Account of/at this agent (MT /34x party identifier; ISO IntrmyAgt1Acct etc.)."
    )
    account_mark: Literal["C", "D"] | None = Field(
        None, description="MT party identifier debit/credit mark (/C/ or /D/) before the account."
    )

    @computed_field(
        description="The bank's CNAPS code (行号) when the agent is identified in CNAPS: its branch id, "
        "else its clearing member id; None otherwise."
    )
    @property
    def cnaps_code(self) -> str | None:
        """The 12-digit CNAPS bank code of this agent, when ``clearing_system`` is CNAPS."""
        if self.clearing_system != "CNAPS":
            return None
        return self.branch_id or self.member_id


class References(ModelBase):
    """Every reference a payment carries, by their ISO 20022 meaning."""

    message_id: str | None = Field(None, description="GrpHdr/MsgId (CNAPS 报文标识号). MT: none.")
    instruction_id: str | None = Field(
        None,
        description="PmtId/InstrId. MT field 20, the sender's transaction reference (TRN): CBPR+ maps "
        "field 20 and InstrId onto each other.",
    )
    end_to_end_id: str | None = Field(
        None, description="PmtId/EndToEndId. MT103: the /ROC/ code of field 70; MT202: field 21."
    )
    transaction_id: str | None = Field(None, description="PmtId/TxId (CNAPS 交易标识号). MT: none.")
    uetr: str | None = Field(None, description="UETR (MT block 3 {121:}; ISO PmtId/UETR).")
    related_reference: str | None = Field(None, description="MT202 field 21, related reference.")
    user_reference: str | None = Field(None, description="MT block 3 {108:} message user reference (MUR).")
    clearing_reference: str | None = Field(None, description="PmtId/ClrSysRef.")


class Purpose(ModelBase):
    """A purpose or category-purpose: an ISO external code or a proprietary one (CNAPS 业务类型/种类)."""

    code: str | None = Field(None, description="ISO external code (Cd), e.g. GDDS, SUPP, SALA.")
    proprietary: str | None = Field(
        None, description="Prtry, e.g. CNAPS A100 (业务类型) or 02102 (业务种类)."
    )


class InstructionCode(ModelBase):
    """An instruction for the creditor agent (MT 23E; ISO InstrForCdtrAgt)."""

    code: str = Field(description="Instruction code, e.g. SDVA, INTC, CHQB, PHOB.")
    text: str | None = Field(None, description="Additional text (MT 23E '/30x'; ISO InstrInf).")


class Charges(ModelBase):
    """Who pays the charges and which charges were taken."""

    bearer: Literal["DEBT", "CRED", "SHAR", "SLEV"] | None = Field(
        None, description="ISO ChrgBr. MT 71A: OUR=DEBT, BEN=CRED, SHA=SHAR."
    )
    sender_charges: list[Amount] = Field(
        default_factory=list,
        description="Charges deducted on the way (MT 71F; ISO ChrgsInf/Amt unless DEBT).",
    )
    receiver_charges: Amount | None = Field(
        None, description="Charges prepaid to the receiver (MT 71G; ISO ChrgsInf/Amt when ChrgBr=DEBT)."
    )


class RegulatoryReport(ModelBase):
    """One regulatory reporting item (MT 77B; ISO RgltryRptg/Dtls), e.g. a BOP code for RMB."""

    code: str | None = Field(None, description="MT 77B code word (ORDERRES, BENEFRES) or ISO Dtls/Cd.")
    country: str | None = Field(None, description="Country the item relates to (MT /CC/; ISO Dtls/Ctry).")
    information: list[str] = Field(
        default_factory=list, description="Narrative (MT text lines; ISO Dtls/Inf)."
    )
    type: str | None = Field(None, description="ISO Dtls/Tp, when given.")


class NetworkInfo(ModelBase):
    """SWIFT FIN envelope details that matter to processing (MT only)."""

    priority: str | None = Field(None, description="Block 2 priority: N normal, U urgent, S system.")
    validation_flag: str | None = Field(None, description="Block 3 {119:}: STP, REMIT, COV, RFDD.")
    service_type_id: str | None = Field(None, description="Block 3 {111:}, e.g. 001 for SWIFT gpi.")
    banking_priority: str | None = Field(None, description="Block 3 {113:}.")
    screening_result: str | None = Field(None, description="Block 3 {433:} sanctions screening result.")
    acknowledgement: Literal["ACK", "NAK"] | None = Field(
        None, description="From a {1:F21...}{4:{451:}} wrapper: ACK (451:0) or NAK (451:1)."
    )
    nak_code: str | None = Field(None, description="NAK error code ({405:}).")


class UnderlyingCustomerTransfer(ModelBase):
    """The customer transfer a cover payment covers (MT202COV sequence B; pacs.009 UndrlygCstmrCdtTrf)."""

    debtor: Party | None = Field(None, description="Ordering customer (50a / Dbtr).")
    debtor_agent: Agent | None = Field(None, description="Ordering institution (52a / DbtrAgt).")
    intermediaries: list[Agent] = Field(
        default_factory=list, description="Intermediaries (56a / IntrmyAgt1..)."
    )
    creditor_agent: Agent | None = Field(None, description="Account-with institution (57a / CdtrAgt).")
    creditor: Party | None = Field(None, description="Beneficiary customer (59a / Cdtr).")
    remittance_information: list[str] = Field(default_factory=list, description="70 / RmtInf/Ustrd.")
    sender_to_receiver_information: list[str] = Field(
        default_factory=list, description="72 / InstrForNxtAgt."
    )
    instructed_amount: Amount | None = Field(None, description="33B / InstdAmt.")


class SourceRef(ModelBase):
    """Where a payment came from: the raw text and the position of each field, for error messages."""

    locator: str = Field("", description="Where the payment sits in its file: 'message 2', an XPath...")
    raw: str | None = Field(None, description="The payment's own text: the MT message, or the XML element.")
    positions: dict[str, str] = Field(
        default_factory=dict,
        description="Model field path -> source position ('line 7, tag 32A' or an XPath with its line).",
    )


class Payment(ModelBase):
    """One credit transfer, normalized. See the module docstring."""

    format: MessageFormat = Field(description="Format family it was read from.")
    message_type: str = Field(description="MT103, MT202, MT202COV, pacs.008.001.08, hvps.111.001.01...")
    references: References = Field(default_factory=References, description="All references.")
    creation_time: datetime | None = Field(None, description="GrpHdr/CreDtTm (CNAPS 报文发送时间).")
    value_date: date | None = Field(None, description="Interbank settlement date (MT 32A; IntrBkSttlmDt).")
    settlement_amount: Amount = Field(
        description="Interbank settled amount (MT 32A; IntrBkSttlmAmt; CNAPS Amt)."
    )
    instructed_amount: Amount | None = Field(None, description="Instructed amount (MT 33B; InstdAmt).")
    exchange_rate: Decimal | None = Field(None, description="Exchange rate (MT 36; XchgRate).")
    settlement_method: str | None = Field(None, description="SttlmInf/SttlmMtd: INDA, INGA, COVE, CLRG.")
    clearing_system: str | None = Field(
        None, description="SttlmInf/ClrSys code or proprietary (CIP for CIPS); HVPS/BEPS for CNAPS."
    )
    priority: str | None = Field(
        None, description="InstrPrty/SttlmPrty: HIGH, NORM, URGT (CNAPS 业务优先级)."
    )
    bank_operation_code: str | None = Field(None, description="MT 23B: CRED, CRTS, SPAY, SPRI, SSTD.")
    instruction_codes: list[InstructionCode] = Field(
        default_factory=list, description="MT 23E; InstrForCdtrAgt."
    )
    transaction_type_code: str | None = Field(None, description="MT 26T.")
    time_indications: list[str] = Field(
        default_factory=list, description="MT 13C values, e.g. /CLSTIME/0915+0100."
    )
    service_levels: list[str] = Field(default_factory=list, description="PmtTpInf/SvcLvl/Cd, e.g. G001.")
    local_instrument: str | None = Field(None, description="PmtTpInf/LclInstrm Cd or Prtry.")
    category_purpose: Purpose | None = Field(
        None, description="PmtTpInf/CtgyPurp (CNAPS 业务类型, e.g. A100)."
    )
    purpose: Purpose | None = Field(None, description="Purp (CNAPS 业务种类, e.g. 02102).")
    debtor: Party | None = Field(
        None, description="Ordering customer (MT103 50a; pacs.008 Dbtr; CNAPS 付款人)."
    )
    creditor: Party | None = Field(
        None, description="Beneficiary customer (MT103 59a; pacs.008 Cdtr; CNAPS 收款人)."
    )
    debtor_institution: Agent | None = Field(
        None,
        description="Bank-to-bank transfers only: the debtor institution (MT202 52a; pacs.009 Dbtr + DbtrAcct).",
    )
    creditor_institution: Agent | None = Field(
        None,
        description="Bank-to-bank transfers only: the beneficiary institution (MT202 58a; pacs.009 Cdtr + CdtrAcct).",
    )
    ultimate_debtor: Party | None = Field(None, description="UltmtDbtr.")
    ultimate_creditor: Party | None = Field(None, description="UltmtCdtr.")
    initiating_party: Party | None = Field(None, description="InitgPty.")
    debtor_agent: Agent | None = Field(None, description="Ordering institution (MT103 52a; DbtrAgt).")
    creditor_agent: Agent | None = Field(None, description="Account-with institution (57a; CdtrAgt).")
    instructing_agent: Agent | None = Field(
        None, description="Sender of this hop (MT header sender; InstgAgt)."
    )
    instructed_agent: Agent | None = Field(
        None, description="Receiver of this hop (MT header receiver; InstdAgt)."
    )
    sending_institution: Agent | None = Field(None, description="MT 51A.")
    senders_correspondent: Agent | None = Field(None, description="MT 53a; InstgRmbrsmntAgt.")
    receivers_correspondent: Agent | None = Field(None, description="MT 54a; InstdRmbrsmntAgt.")
    third_reimbursement_institution: Agent | None = Field(None, description="MT 55a; ThrdRmbrsmntAgt.")
    intermediaries: list[Agent] = Field(default_factory=list, description="MT 56a; IntrmyAgt1..3.")
    charges: Charges = Field(default_factory=Charges, description="Charges (MT 71A/F/G; ChrgBr, ChrgsInf).")
    remittance_information: list[str] = Field(
        default_factory=list, description="MT 70 lines; RmtInf/Ustrd; CNAPS 附言 (RmtInf/Ustrd or AddtlInf)."
    )
    regulatory_reporting: list[RegulatoryReport] = Field(
        default_factory=list, description="MT 77B; RgltryRptg."
    )
    sender_to_receiver_information: list[str] = Field(
        default_factory=list, description="MT 72 lines; InstrForNxtAgt/InstrInf."
    )
    network: NetworkInfo | None = Field(None, description="SWIFT envelope details (MT only).")
    underlying: UnderlyingCustomerTransfer | None = Field(
        None, description="The covered customer transfer (MT202COV sequence B; pacs.009 COV)."
    )
    source: SourceRef = Field(default_factory=SourceRef, description="Raw text and field positions.")

    def business_content(self) -> dict[str, object]:
        """Everything but ``source``: what must survive a write and a re-read unchanged."""
        return self.model_dump(exclude={"source"})


class CnapsTransportHeader(ModelBase):
    """The CNAPS2 ``{H:...}`` transport header that precedes the XML (spec digest §3.2)."""

    version: str = Field(description="Header version: 01 (12-char codes) or 02 (14-char codes).")
    sender: str = Field(description="OrigSender: sending participant's bank code.")
    sender_system: str = Field(description="OrigSenderSID: HVPS, BEPS, IBPS...")
    receiver: str = Field(description="OrigReceiver: receiving participant's bank code.")
    receiver_system: str = Field(description="OrigReceiverSID.")
    send_time: datetime = Field(description="OrigSendDate + OrigSendTime.")
    structure: str = Field("XML", description="StructType, XML.")
    message_type: str = Field(description="MesgType, e.g. hvps.111.001.01.")
    message_id: str = Field(description="MesgID.")
    message_ref_id: str = Field(description="MesgRefID.")
    priority: str = Field(description="MesgPriority, one character.")
    direction: Literal["U", "D"] = Field(description="MesgDirection: U to the NPC, D from the NPC.")
    reserve: str = Field("", description="Reserve (9 characters, kept as written, right-stripped).")
    signature: str | None = Field(None, description="The {S:...} digital signature block, base64, if any.")


class NpcProcessing(ModelBase):
    """NPC processing information of a CNAPS package (NPCPrcInf), filled on the way down."""

    status: str = Field(description="PrcSts, e.g. PR03 netted, PR04 cleared, PR09 rejected.")
    process_code: str = Field(description="PrcCd, e.g. NEZI0000.")
    reject_information: str | None = Field(None, description="RjctInf.")
    netting_date: date | None = Field(None, description="NetgDt.")
    netting_round: str | None = Field(None, description="NetgRnd.")
    settlement_date: date | None = Field(None, description="SttlmDt.")
    receive_time: datetime | None = Field(None, description="RcvTm.")
    transmit_time: datetime | None = Field(None, description="TrnsmtTm.")


class RejectedMessage(ModelBase):
    """A message of a batch file (RJE) that could not be read; the others still are."""

    index: int = Field(description="1-based position of the message in the file.")
    line: int | None = Field(None, description="Line of the problem in the file.")
    location: str = Field(description="Where the problem is (message, line, tag).")
    reason: str = Field(description="What is wrong, in words an operator can act on.")


class PaymentMessage(ModelBase):
    """A message (or batch file) of credit transfers."""

    kind: Literal["credit_transfer"] = Field("credit_transfer", description="Discriminator.")
    format: MessageFormat = Field(description="Format family.")
    message_type: str = Field(description="Message type; 'RJE' for a batch of several MT messages.")
    message_id: str | None = Field(None, description="GrpHdr/MsgId or PKGGrpHdr/MsgId.")
    creation_time: datetime | None = Field(None, description="GrpHdr/CreDtTm.")
    sender: str | None = Field(None, description="BIC or bank code of the sender (AppHdr Fr, {H:} sender).")
    receiver: str | None = Field(None, description="BIC or bank code of the receiver.")
    business_service: str | None = Field(None, description="AppHdr/BizSvc, e.g. swift.cbprplus.02.")
    number_of_transactions: int | None = Field(None, description="GrpHdr/NbOfTxs.")
    control_sum: Decimal | None = Field(None, description="GrpHdr/CtrlSum or PKGGrpHdr/CtrlSum.")
    transport_header: CnapsTransportHeader | None = Field(None, description="CNAPS {H:} header.")
    npc_processing: NpcProcessing | None = Field(None, description="CNAPS NPCPrcInf.")
    schema_validated: bool = Field(False, description="True when an XSD for this exact version validated it.")
    payments: list[Payment] = Field(description="The credit transfers, in message order.")
    rejected: list[RejectedMessage] = Field(
        default_factory=list,
        description="Batch files only: messages that could not be read, with the reason.",
    )
