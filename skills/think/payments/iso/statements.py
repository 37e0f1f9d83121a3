"""Read camt.053 statements, camt.052 reports and camt.054 notifications into ``StatementMessage``."""

from __future__ import annotations

from skills.think.payments.iso.credit_transfer import remittance_lines
from skills.think.payments.iso.parties import read_account, read_agent, read_party
from skills.think.payments.iso.xmlnav import Node
from skills.think.payments.model import References
from skills.think.payments.reports import Balance, Entry, EntryTransaction, Statement, StatementMessage

BODIES = {"BkToCstmrStmt": "Stmt", "BkToCstmrAcctRpt": "Rpt", "BkToCstmrDbtCdtNtfctn": "Ntfctn"}
"""Body element -> repeated statement element."""


def _credit_debit(node: Node, path: str = "CdtDbtInd") -> str:
    value = node.required_text(path)
    if value not in ("CRDT", "DBIT"):
        raise node.required(path).fail(f"CdtDbtInd must be CRDT or DBIT, found {value!r}")
    return value


def read_statements(body: Node, message_type: str) -> StatementMessage:
    """A ``BkToCstmrStmt`` / ``BkToCstmrAcctRpt`` / ``BkToCstmrDbtCdtNtfctn`` body."""
    group = body.required("GrpHdr")
    message = StatementMessage(
        kind="notification" if body.name == "BkToCstmrDbtCdtNtfctn" else "statement",
        message_type=message_type,
        message_id=group.required_text("MsgId"),
        creation_time=group.datetime("CreDtTm"),
    )
    blocks = body.children(BODIES[body.name])
    if not blocks:
        raise body.fail(f"the message holds no {BODIES[body.name]} block")
    message.statements = [_statement(block) for block in blocks]
    return message


def _statement(block: Node) -> Statement:
    account = block.child("Acct")
    statement = Statement(
        id=block.text("Id"),
        sequence_number=block.text("ElctrncSeqNb"),
        creation_time=block.datetime("CreDtTm"),
        from_time=block.datetime("FrToDt/FrDtTm"),
        to_time=block.datetime("FrToDt/ToDtTm"),
        account=read_account(account),
        account_owner=account.text("Ownr/Nm") if account else None,
        account_servicer_bic=(account.text("Svcr/FinInstnId/BICFI") or account.text("Svcr/FinInstnId/BIC"))
        if account
        else None,
    )
    for balance in block.children("Bal"):
        code, proprietary = balance.code_or_proprietary("Tp/CdOrPrtry")
        amount = balance.amount("Amt")
        if amount is None:
            raise balance.fail("a balance needs Amt")
        statement.balances.append(
            Balance(
                type=code or proprietary or "",
                amount=amount,
                credit_debit=_credit_debit(balance),  # type: ignore[arg-type]
                balance_date=balance.date_or_datetime("Dt"),
            )
        )
    statement.entries = [_entry(entry) for entry in block.children("Ntry")]
    return statement


def _entry(node: Node) -> Entry:
    amount = node.required("Amt").amount()
    assert amount is not None
    status = node.text("Sts/Cd") or node.text("Sts/Prtry") or node.text("Sts")
    domain = node.child("BkTxCd/Domn")
    if domain is not None:
        code = "/".join(
            v for v in (domain.text("Cd"), domain.text("Fmly/Cd"), domain.text("Fmly/SubFmlyCd")) if v
        )
    else:
        code = node.text("BkTxCd/Prtry/Cd")
    return Entry(
        reference=node.text("NtryRef"),
        amount=amount,
        credit_debit=_credit_debit(node),  # type: ignore[arg-type]
        reversal=(node.text("RvslInd") or "false").lower() == "true",
        status=status,
        booking_date=node.date_or_datetime("BookgDt"),
        value_date=node.date_or_datetime("ValDt"),
        account_servicer_reference=node.text("AcctSvcrRef"),
        bank_transaction_code=code or None,
        additional_information=node.text("AddtlNtryInf"),
        transactions=[_transaction(tx) for tx in node.children("NtryDtls/TxDtls")],
        position=node.where,
    )


def _transaction(tx: Node) -> EntryTransaction:
    refs = tx.child("Refs")
    amount_node = tx.child("Amt") or tx.child("AmtDtls/TxAmt/Amt") or tx.child("AmtDtls/InstdAmt/Amt")
    indicator = tx.text("CdtDbtInd")
    if indicator is not None and indicator not in ("CRDT", "DBIT"):
        raise tx.required("CdtDbtInd").fail(f"CdtDbtInd must be CRDT or DBIT, found {indicator!r}")
    parties = tx.child("RltdPties")
    agents = tx.child("RltdAgts")
    return EntryTransaction(
        references=References(
            message_id=refs.text("MsgId"),
            instruction_id=refs.text("InstrId"),
            end_to_end_id=refs.text("EndToEndId"),
            transaction_id=refs.text("TxId"),
            uetr=refs.text("UETR"),
            clearing_reference=refs.text("ClrSysRef"),
        )
        if refs
        else References(),
        amount=amount_node.amount() if amount_node else None,
        credit_debit=indicator,  # type: ignore[arg-type]
        debtor=read_party(parties.child("Dbtr"), parties.child("DbtrAcct")) if parties else None,
        creditor=read_party(parties.child("Cdtr"), parties.child("CdtrAcct")) if parties else None,
        debtor_agent=read_agent(agents.child("DbtrAgt")) if agents else None,
        creditor_agent=read_agent(agents.child("CdtrAgt")) if agents else None,
        remittance_information=remittance_lines(tx.child("RmtInf")),
        additional_information=tx.text("AddtlTxInf"),
        return_reason=tx.text("RtrInf/Rsn/Cd"),
    )
