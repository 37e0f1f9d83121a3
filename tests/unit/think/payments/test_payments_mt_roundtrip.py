"""MT writer: every readable sample written and re-read gives an equal model; CNY examples; errors."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from payments_testdata import indexed_mt_files, mt_type_of, or_skip

from skills.think.payments import MessageBuildError, MessageFormatError, read_mt, write_mt
from skills.think.payments.model import (
    Account,
    Agent,
    Amount,
    Charges,
    MessageFormat,
    Party,
    Payment,
    References,
    RegulatoryReport,
)


def _readable() -> list[Path]:
    found = []
    for path in indexed_mt_files():
        if mt_type_of(path) not in ("103", "202"):
            continue
        try:
            read_mt(path.read_text(encoding="utf-8"))
        except MessageFormatError:
            continue
        found.append(path)
    return found


def _comparable(payment: Payment) -> dict[str, object]:
    content = payment.business_content()
    # An ACK/NAK wrapper is added by the network on delivery, never written by a sender.
    network = dict(content["network"] or {})  # type: ignore[arg-type]
    network.update(acknowledgement=None, nak_code=None)
    content["network"] = network
    return content


@pytest.mark.parametrize("path", or_skip(_readable()), ids=lambda p: p.name)
def test_written_message_reads_back_to_an_equal_model(path: Path) -> None:
    for payment in read_mt(path.read_text(encoding="utf-8")).payments:
        text = write_mt(payment)
        assert text.startswith("{1:F01")
        assert text.endswith("\r\n-}")
        again = read_mt(text).payments[0]
        assert _comparable(again) == _comparable(payment)


def _cny_payment() -> Payment:
    return Payment(
        format=MessageFormat.swift_mt,
        message_type="MT103",
        references=References(instruction_id="CNY2025031001", uetr="4f1c5a9e-3b7d-4c2a-9e8f-0a1b2c3d4e5f"),
        value_date=date(2025, 3, 10),
        settlement_amount=Amount(currency="CNY", value=Decimal("1250000.50")),
        instructed_amount=Amount(currency="USD", value=Decimal("172500.00")),
        exchange_rate=Decimal("7.2464"),
        bank_operation_code="CRED",
        debtor=Party(
            name="HONG KONG TRADING LIMITED",
            address_lines=["88 QUEENSWAY"],
            town="HONG KONG",
            country="HK",
            account=Account(id="012345678901"),
        ),
        debtor_agent=Agent(bic="HSBCHKHHHKH"),
        creditor_agent=Agent(bic="ICBKCNBJZJP", clearing_system="CNAPS", member_id="102331005059"),
        creditor=Party(name="ZHEJIANG LANXI MACHINERY CO LTD", account=Account(id="1203020309000123456")),
        instructing_agent=Agent(bic="HSBCHKHHXXX"),
        instructed_agent=Agent(bic="ICBKCNBJXXX"),
        charges=Charges(bearer="SHAR"),
        remittance_information=["/INV/INV-2025-0310"],
        regulatory_reporting=[RegulatoryReport(code="BENEFRES", country="CN", information=["121010 GOODS"])],
    )


def test_a_cny_mt103_with_cnaps_code_and_fx_is_written_and_read_back() -> None:
    payment = _cny_payment()
    text = write_mt(payment)
    assert ":32A:250310CNY1250000,5\r\n" in text
    assert ":33B:USD172500,\r\n:36:7,2464\r\n" in text
    assert ":57A://CN102331005059\r\nICBKCNBJZJP\r\n" in text
    assert ":50F:/012345678901\r\n1/HONG KONG TRADING LIMITED\r\n2/88 QUEENSWAY\r\n3/HK/HONG KONG\r\n" in text
    assert ":77B:/BENEFRES/CN//121010 GOODS\r\n" in text
    assert "{121:4f1c5a9e-3b7d-4c2a-9e8f-0a1b2c3d4e5f}" in text
    again = read_mt(text).payments[0]
    assert again.creditor_agent is not None
    assert again.creditor_agent.cnaps_code == "102331005059"
    assert again.settlement_amount == payment.settlement_amount
    assert again.business_content() == {
        **payment.business_content(),
        "network": again.business_content()["network"],
    }


def test_writer_refuses_what_mt_cannot_carry() -> None:
    payment = _cny_payment()
    payment.intermediaries = [Agent(bic="CITIUS33"), Agent(bic="CHASUS33")]
    with pytest.raises(MessageBuildError, match="one intermediary"):
        write_mt(payment)
    payment = _cny_payment()
    payment.creditor = Party(name="张三", account=Account(id="6222021234567890128"))
    with pytest.raises(MessageBuildError, match="SWIFT X character set") as caught:
        write_mt(payment)
    assert caught.value.code == "cannot_build_message"
    payment = _cny_payment()
    payment.charges = Charges()
    with pytest.raises(MessageBuildError, match="charge bearer"):
        write_mt(payment)
    payment = _cny_payment()
    payment.instructed_agent = None
    with pytest.raises(MessageBuildError, match="receiver"):
        write_mt(payment)
    with pytest.raises(MessageBuildError, match="supported are MT103"):
        write_mt(_cny_payment(), "MT910")


_CREDIT_TRANSFER_DOCUMENT = re.compile(r"""<(\w+:)?Document[^>]*xmlns(:\w+)?=["'][^"']*pacs\.00[89]\.001""")


def _mx_credit_transfers() -> list[Path]:
    from payments_testdata import SHARED_DATA, shared_available

    if not shared_available():
        return []
    found = []
    for path in sorted((SHARED_DATA / "iso20022").rglob("*.xml")):
        text = path.read_text(encoding="utf-8")
        if _CREDIT_TRANSFER_DOCUMENT.search(text) and "CURRENT_TIME" not in text and "<![CDATA[" not in text:
            found.append(path)  # (the prowide pacs.002 samples quote a pacs.009 inside CDATA)
    return found


@pytest.mark.parametrize("path", or_skip(_mx_credit_transfers()), ids=lambda p: p.name)
def test_mx_credit_transfers_convert_to_valid_mt(path: Path) -> None:
    from skills.think.payments import read_iso

    message = read_iso(path.read_bytes())
    for payment in message.payments:
        kind = (
            "MT103"
            if payment.message_type.startswith("pacs.008")
            else "MT202COV"
            if payment.underlying
            else "MT202"
        )
        back = read_mt(write_mt(payment, kind)).payments[0]  # write_mt re-reads: the text is valid FIN
        assert back.settlement_amount == payment.settlement_amount
        assert back.value_date == payment.value_date
        assert back.references.uetr == payment.references.uetr
        assert back.references.end_to_end_id == (
            payment.references.end_to_end_id if kind == "MT103" else back.references.related_reference
        )
        if payment.creditor_agent is not None and payment.creditor_agent.bic:
            assert back.creditor_agent is not None
            assert back.creditor_agent.bic == payment.creditor_agent.bic  # option A carries the BIC only
