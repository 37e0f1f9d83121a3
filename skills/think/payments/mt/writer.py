"""Write a ``Payment`` as a SWIFT MT103, MT202 or MT202COV input message.

The writer lays out blocks 1-4 (no block 5: checksums and MACs are the network interface's job),
choosing field options from the content (see ``mt.parties``). Every message it produces is read
back with ``mt.reader`` before it is returned, so what leaves here passes every check the reader
makes; a payment that cannot be expressed raises ``MessageBuildError`` naming the field.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal

from skills.think.payments.errors import MessageBuildError, MessageFormatError
from skills.think.payments.model import Agent, Amount, Party, Payment, RegulatoryReport
from skills.think.payments.mt.fields import format_amount, format_date
from skills.think.payments.mt.parties import write_agent, write_customer
from skills.think.payments.mt.reader import read_mt

_BEARER_TO_MT = {"DEBT": "OUR", "SHAR": "SHA", "CRED": "BEN", "SLEV": "SHA"}


def write_mt(payment: Payment, message_type: str | None = None) -> str:
    """The MT text (CRLF line ends) of ``payment``; ``message_type`` defaults to the payment's own.

    Raises:
        MessageBuildError: the payment lacks a mandatory part or a value does not fit its field.
    """
    kind = (message_type or payment.message_type).upper()
    if kind not in ("MT103", "MT202", "MT202COV"):
        raise MessageBuildError(f"cannot write {kind} as SWIFT MT: supported are MT103, MT202 and MT202COV")
    fields = _customer_fields(payment) if kind == "MT103" else _bank_fields(payment, kind == "MT202COV")
    text = (
        _envelope(payment, kind)
        + "{4:\r\n"
        + "".join(f":{tag}:" + "\r\n".join(lines) + "\r\n" for tag, lines in fields)
        + "-}"
    )
    try:
        read_mt(text)
    except MessageFormatError as error:
        raise MessageBuildError(f"cannot write {kind}: {error.reason} ({error.location})") from error
    return text


def _address(agent: Agent | None, role: str, terminal: str) -> str:
    if agent is None or not agent.bic:
        raise MessageBuildError(f"cannot write the FIN header: the {role} has no BIC")
    bic = agent.bic if len(agent.bic) == 11 else agent.bic + "XXX"
    return bic[:8] + terminal + bic[8:]


def _envelope(payment: Payment, kind: str) -> str:
    network = payment.network
    sender = _address(payment.instructing_agent, "instructing agent (sender)", "A")
    receiver = _address(payment.instructed_agent, "instructed agent (receiver)", "X")
    priority = network.priority if network and network.priority else "N"
    header = [
        ("113", network.banking_priority if network else None),
        ("108", payment.references.user_reference),
        ("119", "COV" if kind == "MT202COV" else (network.validation_flag if network else None)),
        ("111", network.service_type_id if network else None),
        ("121", payment.references.uetr),
        ("433", network.screening_result if network else None),
    ]
    user = "".join(f"{{{tag}:{value}}}" for tag, value in header if value)
    return f"{{1:F01{sender}0000000000}}{{2:I{kind[2:5]}{receiver}{priority}}}" + (
        f"{{3:{user}}}" if user else ""
    )


def _required(value: object, what: str) -> object:
    if value in (None, "", []):
        raise MessageBuildError(f"cannot write the message: {what} is missing")
    return value


def _amount(value: Amount) -> str:
    return value.currency + format_amount(value.value)


def _wrap(lines: list[str], width: int = 35) -> list[str]:
    return [
        chunk for line in lines for chunk in (textwrap.wrap(line, width, drop_whitespace=False) or [line])
    ]


def _agent_field(base: str, agent: Agent | None, options: str) -> list[tuple[str, list[str]]]:
    return [write_agent(base, agent, options)] if agent is not None else []


def _common_head(payment: Payment) -> list[tuple[str, list[str]]]:
    return [("13C", [value]) for value in payment.time_indications]


def _value_field(payment: Payment) -> tuple[str, list[str]]:
    value_date = _required(payment.value_date, "the value date (32A)")
    return "32A", [format_date(value_date) + _amount(payment.settlement_amount)]  # type: ignore[arg-type]


def _customer_fields(payment: Payment) -> list[tuple[str, list[str]]]:
    refs = payment.references
    fields: list[tuple[str, list[str]]] = [
        ("20", [str(_required(refs.instruction_id, "the sender's reference (20)"))])
    ]
    fields += _common_head(payment)
    fields.append(("23B", [payment.bank_operation_code or "CRED"]))
    fields += [("23E", [f"{c.code}/{c.text}" if c.text else c.code]) for c in payment.instruction_codes]
    if payment.transaction_type_code:
        fields.append(("26T", [payment.transaction_type_code]))
    fields.append(_value_field(payment))
    if payment.instructed_amount:
        fields.append(("33B", [_amount(payment.instructed_amount)]))
    if payment.exchange_rate is not None:
        fields.append(("36", [format_amount(Decimal(payment.exchange_rate))]))
    fields.append(write_customer("50", _required(payment.debtor, "the ordering customer (50a)"), "AFK"))  # type: ignore[arg-type]
    if payment.sending_institution and payment.sending_institution.bic:
        fields.append(("51A", [payment.sending_institution.bic]))
    fields += _agent_field("52", payment.debtor_agent, "AD")
    fields += _agent_field("53", payment.senders_correspondent, "ABD")
    fields += _agent_field("54", payment.receivers_correspondent, "ABD")
    fields += _agent_field("55", payment.third_reimbursement_institution, "ABD")
    fields += _intermediary(payment.intermediaries, "ACD")
    fields += _agent_field("57", payment.creditor_agent, "ABCD")
    fields.append(write_customer("59", _required(payment.creditor, "the beneficiary customer (59a)"), "AF"))  # type: ignore[arg-type]
    remittance = list(payment.remittance_information)
    e2e = refs.end_to_end_id
    if e2e and e2e != "NOTPROVIDED" and not any("/ROC/" in line for line in remittance):
        remittance.insert(0, f"/ROC/{e2e}")
    if remittance:
        fields.append(("70", _wrap(remittance)))
    bearer = _required(payment.charges.bearer, "the charge bearer (71A)")
    fields.append(("71A", [_BEARER_TO_MT[str(bearer)]]))
    fields += [("71F", [_amount(charge)]) for charge in payment.charges.sender_charges]
    if payment.charges.receiver_charges:
        fields.append(("71G", [_amount(payment.charges.receiver_charges)]))
    if payment.sender_to_receiver_information:
        fields.append(("72", list(payment.sender_to_receiver_information)))
    if payment.regulatory_reporting:
        fields.append(("77B", _regulatory_lines(payment.regulatory_reporting)))
    return fields


def _intermediary(agents: list[Agent], options: str) -> list[tuple[str, list[str]]]:
    if len(agents) > 1:
        raise MessageBuildError(f"MT has room for one intermediary (56a); the payment has {len(agents)}")
    return _agent_field("56", agents[0], options) if agents else []


def _regulatory_lines(reports: list[RegulatoryReport]) -> list[str]:
    lines: list[str] = []
    for report in reports:
        if report.code:
            first, *rest = report.information or [""]
            lines += [f"/{report.code}/{report.country or ''}//{first}", *rest]
        else:
            lines += report.information
    return lines


def _bank_fields(payment: Payment, cover: bool) -> list[tuple[str, list[str]]]:
    refs = payment.references
    related = refs.related_reference or refs.end_to_end_id
    fields: list[tuple[str, list[str]]] = [
        ("20", [str(_required(refs.instruction_id, "the transaction reference (20)"))]),
        ("21", [str(_required(related, "the related reference (21)"))]),
    ]
    fields += _common_head(payment)
    fields.append(_value_field(payment))
    fields += _agent_field("52", payment.debtor_institution, "AD")
    fields += _agent_field("53", payment.senders_correspondent, "ABD")
    fields += _agent_field("54", payment.receivers_correspondent, "ABD")
    fields += _intermediary(payment.intermediaries, "AD")
    fields += _agent_field("57", payment.creditor_agent, "ABD")
    creditor = _required(payment.creditor_institution, "the beneficiary institution (58a)")
    fields.append(write_agent("58", creditor, "AD"))  # type: ignore[arg-type]
    if payment.sender_to_receiver_information:
        fields.append(("72", list(payment.sender_to_receiver_information)))
    if not cover:
        return fields
    underlying = payment.underlying
    if underlying is None:
        raise MessageBuildError("an MT202COV needs the underlying customer transfer (sequence B)")
    fields.append(write_customer("50", _required(underlying.debtor, "sequence B 50a"), "AFK"))  # type: ignore[arg-type]
    fields += _agent_field("52", underlying.debtor_agent, "AD")
    fields += _intermediary(underlying.intermediaries, "ACD")
    fields += _agent_field("57", underlying.creditor_agent, "ABCD")
    beneficiary: Party = _required(underlying.creditor, "sequence B 59a")  # type: ignore[assignment]
    fields.append(write_customer("59", beneficiary, "AF"))
    if underlying.remittance_information:
        fields.append(("70", _wrap(underlying.remittance_information)))
    if underlying.sender_to_receiver_information:
        fields.append(("72", list(underlying.sender_to_receiver_information)))
    if underlying.instructed_amount:
        fields.append(("33B", [_amount(underlying.instructed_amount)]))
    return fields
