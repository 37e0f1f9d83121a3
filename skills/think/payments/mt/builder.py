"""Turn the placed fields of one MT103/MT202/MT202COV into a ``Payment`` (field and network rules).

``mt.reader`` checks the envelope and the field sequence; this module reads each field's value
and applies the network rules of the spec digest §1.1: 33B/36 (C1), 56a -> 57a, 23B/23E, 71A
with 71F/71G, the STP option set, the 72 code-word structure and the /ROC/ end-to-end reference.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from skills.think.payments.errors import MessageFormatError
from skills.think.payments.model import (
    Agent,
    Amount,
    Charges,
    InstructionCode,
    MessageFormat,
    NetworkInfo,
    Payment,
    References,
    RegulatoryReport,
    SourceRef,
    UnderlyingCustomerTransfer,
)
from skills.think.payments.mt import fields as f
from skills.think.payments.mt.envelope import Envelope, MtField
from skills.think.payments.mt.parties import read_agent, read_customer

if TYPE_CHECKING:
    from skills.think.payments.mt.reader import Slot

STP_TAGS = frozenset({"50A", "50F", "50K", "52A", "53A", "53B", "54A", "56A", "57A", "59", "59A", "59F"})
_13C = re.compile(r"^/[A-Z0-9]{1,8}/([0-9]{2})([0-9]{2})[+-]([0-9]{2})([0-9]{2})$")
_72_FIRST = re.compile(r"^/[A-Z0-9]{1,8}/")
_72_NEXT = re.compile(r"^(//|/[A-Z0-9]{1,8}/)")
_77B = re.compile(r"^/([A-Z0-9]{1,8})/([A-Z]{2})?//(.*)$")
_ROC = re.compile(r"/ROC/(.+?)(?=/[A-Z]{3,4}/|$)")


def _bic11(address: str) -> str:
    return address[:8] + address[9:]


class PaymentBuilder:
    """Turns placed fields into a ``Payment``, applying field and network rules on the way."""

    def __init__(self, envelope: Envelope, message_type: str, placed: list[tuple[Slot, MtField]]) -> None:
        self.envelope = envelope
        self.message_type = message_type
        self.by_tag_a = {}
        self.by_tag_b = {}
        self.repeated: dict[str, list[MtField]] = {}
        for slot, field in placed:
            target = self.by_tag_a if slot.sequence == "A" else self.by_tag_b
            target[slot.name] = field
            self.repeated.setdefault(slot.name, []).append(field)
        self.positions: dict[str, str] = {}

    def _get(self, name: str, key: str, seq: str = "A") -> MtField | None:
        field = (self.by_tag_a if seq == "A" else self.by_tag_b).get(name)
        if field is not None:
            self.positions[key] = str(field.where())
        return field

    def _single(self, field: MtField) -> str:
        _, body = f.check_field(field, f.FORMATS[field.tag])
        return body[0]

    def build(self) -> Payment:
        env = self.envelope
        header = env.user_header
        references = References(uetr=header.get("121"), user_reference=header.get("108"))
        field20 = self._get("20", "references.instruction_id")
        assert field20 is not None
        references.instruction_id = self._reference(field20)
        payment = Payment(
            format=MessageFormat.swift_mt,
            message_type=self.message_type,
            references=references,
            settlement_amount=Amount(currency="XXX", value=0),
            instructing_agent=Agent(bic=_bic11(env.sender_address)),
            instructed_agent=Agent(bic=_bic11(env.receiver_address)),
            network=NetworkInfo(
                priority=env.priority,
                validation_flag=header.get("119"),
                service_type_id=header.get("111"),
                banking_priority=header.get("113"),
                screening_result=header.get("433"),
                acknowledgement=None
                if env.acknowledgement is None
                else ("ACK" if env.acknowledgement.accepted else "NAK"),
                nak_code=env.acknowledgement.error_code if env.acknowledgement else None,
            ),
        )
        self._amounts(payment)
        self._codes(payment)
        if self.message_type == "MT103":
            self._customer_transfer(payment)
        else:
            self._bank_transfer(payment)
        self._narratives(payment)
        payment.source = SourceRef(locator=f"message {env.index}", raw=env.raw, positions=self.positions)
        return payment

    def _reference(self, field: MtField) -> str:
        value = self._single(field)
        if value.startswith("/") or value.endswith("/") or "//" in value:
            raise f.fail(field, f"reference {value!r} must not start or end with '/' nor contain '//'")
        return value

    def _amounts(self, payment: Payment) -> None:
        field32 = self._get("32A", "settlement_amount")
        assert field32 is not None
        text = self._single(field32)
        payment.value_date = f.parse_date(field32, text[:6])
        payment.settlement_amount = Amount(
            currency=text[6:9], value=f.parse_amount(field32, text[6:9], text[9:])
        )
        self.positions["value_date"] = str(field32.where())
        if field33 := self._get("33B", "instructed_amount"):
            currency, value = f.parse_currency_amount(field33, self._single(field33))
            payment.instructed_amount = Amount(currency=currency, value=value)
        field36 = self._get("36", "exchange_rate")
        if field36:
            payment.exchange_rate = f.parse_rate(field36, self._single(field36))
        if self.message_type != "MT103":
            return
        differs = (
            payment.instructed_amount is not None
            and payment.instructed_amount.currency != payment.settlement_amount.currency
        )
        if differs and field36 is None:
            raise MessageFormatError(
                "field 36 (Exchange Rate) is mandatory when the 33B currency differs from the 32A currency",
                self.envelope.where("4"),
            )
        if field36 is not None and not differs:
            raise f.fail(
                field36, "field 36 is allowed only when 33B is present with a currency other than 32A's"
            )

    def _codes(self, payment: Payment) -> None:
        for field in self.repeated.get("13C", []):
            value = self._single(field)
            match = _13C.match(value)
            if (
                not match
                or int(match.group(1)) > 23
                or int(match.group(2)) > 59
                or int(match.group(3)) > 13
                or int(match.group(4)) > 59
            ):
                raise f.fail(
                    field,
                    f"time indication {value!r} must be /CODE/HHMM+HHMM (or -HHMM) with a valid time and offset",
                )
            payment.time_indications.append(value)
        if field := self._get("23B", "bank_operation_code"):
            payment.bank_operation_code = self._single(field)
            if payment.bank_operation_code not in f.BANK_OPERATION_CODES:
                raise f.fail(
                    field,
                    f"bank operation code {payment.bank_operation_code!r} must be one of {', '.join(sorted(f.BANK_OPERATION_CODES))}",
                )
        for field in self.repeated.get("23E", []):
            code, _, text = self._single(field).partition("/")
            if code not in f.INSTRUCTION_CODES:
                raise f.fail(
                    field,
                    f"instruction code {code!r} must be one of {', '.join(sorted(f.INSTRUCTION_CODES))}",
                )
            allowed = {"SPRI": {"SDVA", "TELB", "PHOB", "INTC"}, "SSTD": set(), "SPAY": set()}.get(
                payment.bank_operation_code or ""
            )
            if allowed is not None and code not in allowed:
                raise f.fail(field, f"23E {code} is not allowed with 23B {payment.bank_operation_code}")
            payment.instruction_codes.append(InstructionCode(code=code, text=text or None))
        if field := self._get("26T", "transaction_type_code"):
            payment.transaction_type_code = self._single(field)

    def _customer_transfer(self, payment: Payment) -> None:
        stp = self.envelope.user_header.get("119") == "STP"
        if stp:
            for field in self.envelope.fields:
                if (
                    field.tag[:2] in ("50", "51", "52", "53", "54", "56", "57", "59")
                    and field.tag not in STP_TAGS
                ):
                    raise f.fail(field, f"field {field.tag} is not allowed in an MT103 STP ({{119:STP}})")
        payment.debtor = read_customer(self._required("50", "debtor"))
        payment.creditor = read_customer(self._required("59", "creditor"))
        self._agents(payment, "A")
        self._charges(payment)

    def _required(self, name: str, key: str, seq: str = "A") -> MtField:
        field = self._get(name, key, seq)
        assert field is not None  # mandatory fields were checked by _place_fields
        return field

    def _agents(self, payment: Payment, seq: str) -> None:
        for name, key in (
            ("51", "sending_institution"),
            ("52", "debtor_agent"),
            ("53", "senders_correspondent"),
            ("54", "receivers_correspondent"),
            ("55", "third_reimbursement_institution"),
            ("57", "creditor_agent"),
        ):
            if self.message_type != "MT103" and name == "52":
                continue
            if field := self._get(name, key, seq):
                setattr(payment, key, read_agent(field))
        if field := self._get("56", "intermediaries", seq):
            payment.intermediaries = [read_agent(field)]
            if payment.creditor_agent is None:
                raise f.fail(field, "field 57a is mandatory when 56a (Intermediary) is present")

    def _bank_transfer(self, payment: Payment) -> None:
        field21 = self._required("21", "references.related_reference")
        payment.references.related_reference = self._reference(field21)
        payment.references.end_to_end_id = payment.references.related_reference
        if field := self._get("52", "debtor_institution"):
            payment.debtor_institution = read_agent(field)
        payment.creditor_institution = read_agent(self._required("58", "creditor_institution"))
        self._agents(payment, "A")
        if self.by_tag_b:
            payment.underlying = self._underlying()

    def _underlying(self) -> UnderlyingCustomerTransfer:
        cover = UnderlyingCustomerTransfer(
            debtor=read_customer(self._required("50", "underlying.debtor", "B")),
            creditor=read_customer(self._required("59", "underlying.creditor", "B")),
        )
        if field := self._get("52", "underlying.debtor_agent", "B"):
            cover.debtor_agent = read_agent(field)
        if field := self._get("57", "underlying.creditor_agent", "B"):
            cover.creditor_agent = read_agent(field)
        if field := self._get("56", "underlying.intermediaries", "B"):
            cover.intermediaries = [read_agent(field)]
            if cover.creditor_agent is None:
                raise f.fail(field, "field 57a is mandatory in sequence B when 56a is present")
        if field := self._get("70", "underlying.remittance_information", "B"):
            cover.remittance_information = f.check_field(field, f.FORMATS["70"])[1]
        if field := self._get("72", "underlying.sender_to_receiver_information", "B"):
            cover.sender_to_receiver_information = self._field72(field)
        if field := self._get("33B", "underlying.instructed_amount", "B"):
            currency, value = f.parse_currency_amount(field, self._single(field))
            cover.instructed_amount = Amount(currency=currency, value=value)
        return cover

    def _charges(self, payment: Payment) -> None:
        field71a = self._required("71A", "charges.bearer")
        code = self._single(field71a)
        if code not in f.CHARGE_CODES:
            raise f.fail(field71a, f"details of charges must be OUR, SHA or BEN, found {code!r}")
        sender = self.repeated.get("71F", [])
        receiver = self._get("71G", "charges.receiver_charges")
        if code == "BEN" and not sender:
            raise f.fail(field71a, "71A is BEN, so at least one 71F (Sender's Charges) is mandatory")
        if code == "OUR" and sender:
            raise f.fail(sender[0], "71F is not allowed when 71A is OUR")
        if receiver is not None and code != "OUR":
            raise f.fail(receiver, "71G is allowed only when 71A is OUR")
        charges = Charges(bearer=f.CHARGE_CODES[code])  # type: ignore[arg-type]
        for field in sender:
            currency, value = f.parse_currency_amount(field, self._single(field))
            charges.sender_charges.append(Amount(currency=currency, value=value))
        if sender:
            self.positions["charges.sender_charges"] = str(sender[0].where())
        if receiver is not None:
            currency, value = f.parse_currency_amount(receiver, self._single(receiver))
            charges.receiver_charges = Amount(currency=currency, value=value)
        payment.charges = charges

    def _field72(self, field: MtField) -> list[str]:
        lines = f.check_field(field, f.FORMATS["72"])[1]
        for offset, line in enumerate(lines):
            if not (_72_FIRST if offset == 0 else _72_NEXT).match(line):
                expected = (
                    "/CODE/ (up to 8 letters or digits)" if offset == 0 else "/CODE/ or // (continuation)"
                )
                raise f.fail(field, f"72 line must start with {expected}, found {line[:20]!r}", offset)
        return lines

    def _narratives(self, payment: Payment) -> None:
        if field := self._get("70", "remittance_information"):
            payment.remittance_information = f.check_field(field, f.FORMATS["70"])[1]
            for line in payment.remittance_information:
                if self.message_type == "MT103" and (match := _ROC.search(line)):
                    payment.references.end_to_end_id = match.group(1)
                    self.positions["references.end_to_end_id"] = str(field.where())
                    break
        if field := self._get("72", "sender_to_receiver_information"):
            payment.sender_to_receiver_information = self._field72(field)
        if field := self._get("77B", "regulatory_reporting"):
            payment.regulatory_reporting = [read_regulatory(f.check_field(field, f.FORMATS["77B"])[1])]


def read_regulatory(lines: list[str]) -> RegulatoryReport:
    """77B lines: '/CODE/CC//text' then raw continuation lines, or free lines."""
    match = _77B.match(lines[0])
    if not match:
        return RegulatoryReport(information=list(lines))
    return RegulatoryReport(
        code=match.group(1), country=match.group(2), information=[match.group(3), *lines[1:]]
    )
