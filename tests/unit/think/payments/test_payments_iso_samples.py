"""Every ISO 20022 XML sample of the shared data is read (supported messages) or refused with the reason.

Values read are cross-checked against an independent regex read of the XML text: settlement
amounts and currencies of credit transfers, the number of statement entries, the number of
transaction statuses.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from payments_testdata import SHARED_DATA, or_skip, shared, shared_available

from skills.think.payments import MessageFormatError, read_iso
from skills.think.payments.iso.schemas import bundled_versions

SUPPORTED = ("pacs.008", "pacs.009", "pacs.002", "camt.052", "camt.053", "camt.054")
_TYPE = re.compile(r"""<(?:\w+:)?Document[^>]*xmlns(?::\w+)?=["'][^"']*?([a-z]{4}\.\d{3}\.\d{3}\.\d{2})""")
_AMOUNT = re.compile(r'<(?:\w+:)?IntrBkSttlmAmt Ccy=["\']([A-Z]{3})["\']>([0-9.]+)<')
_ENTRY = re.compile(r"<(?:\w+:)?Ntry>")
_TX_STATUS = re.compile(r"<(?:\w+:)?TxInfAndSts>")


def _xml_files() -> list[Path]:
    if not shared_available():
        return []
    return sorted(p for p in (SHARED_DATA / "iso20022").rglob("*.xml"))


@pytest.mark.parametrize(
    "path", or_skip(_xml_files()), ids=lambda p: str(p.relative_to(SHARED_DATA / "iso20022"))
)
def test_every_xml_sample_is_read_or_refused_with_a_reason(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = _TYPE.search(text)
    if found is None:
        with pytest.raises(MessageFormatError, match="no ISO 20022 <Document> element found"):
            read_iso(text)
        return
    message_type = found.group(1)
    if "CURRENT_TIME" in text:  # ballerina placeholders: these outputs fail their own schema
        with pytest.raises(MessageFormatError) as caught:
            read_iso(text)
        assert "CURRENT_TIME" in caught.value.reason
        assert caught.value.location.xpath is not None
        assert caught.value.location.line is not None
        return
    if not message_type.startswith(SUPPORTED):
        with pytest.raises(MessageFormatError, match=rf"{re.escape(message_type)} .* is not supported"):
            read_iso(text)
        return
    message = read_iso(text)
    assert message.message_type == message_type
    assert message.schema_validated == (message_type in bundled_versions())
    if message.kind == "credit_transfer":
        expected = [(ccy, Decimal(value)) for ccy, value in _AMOUNT.findall(text)]
        assert [
            (p.settlement_amount.currency, p.settlement_amount.value) for p in message.payments
        ] == expected
        assert all(
            p.source.locator.endswith("CdtTrfTxInf") or "CdtTrfTxInf[" in p.source.locator
            for p in message.payments
        )
    elif message.kind == "status_report":
        assert len(message.transactions) == len(_TX_STATUS.findall(text))
    else:
        assert len(message.entries) == len(_ENTRY.findall(text))


def test_a_cbpr_pacs008_is_read_in_detail() -> None:
    message = read_iso(
        shared("iso20022/ballerina-swiftmt-to-iso20022/mx-xml/p_2_1_2/mt103_pacs008_B_C.xml").read_bytes()
    )
    assert message.kind == "credit_transfer"
    assert message.business_service == "swift.cbprplus.03"
    assert (message.sender, message.receiver) == ("CHASUS33XXX", "ANBTUS44XXX")  # AppHdr Fr / To
    payment = message.payments[0]
    assert payment.instructed_amount is not None
    assert payment.instructed_amount.value == Decimal("136500.00")
    assert payment.charges.bearer == "SHAR"
    assert [c.value for c in payment.charges.sender_charges] == [Decimal("10.00")]
    assert payment.debtor is not None
    assert (payment.debtor.town, payment.debtor.country) == ("Cambridge", "GB")
    assert "IntrBkSttlmAmt" in payment.source.positions["settlement_amount"]
    assert "(line " in payment.source.positions["settlement_amount"]


def test_statement_and_notification_entries() -> None:
    statement = read_iso(
        shared(
            "iso20022/moov-io-iso20022/testdata/camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml"
        ).read_bytes()
    )
    assert statement.kind == "statement"
    block = statement.statements[0]
    assert block.account is not None
    assert block.account.scheme == "iban"
    assert {b.type for b in block.balances} >= {"OPBD", "CLBD"}
    first = block.entries[0]
    assert first.credit_debit in ("CRDT", "DBIT")
    assert first.status == "BOOK"
    assert first.booking_date is not None
    notification = read_iso(
        shared("iso20022/ballerina-swiftmt-to-iso20022/mx-xml/c_54_1_1/mt910_camt_054_C_D.xml").read_bytes()
    )
    assert notification.kind == "notification"
    assert notification.schema_validated
    entry = notification.entries[0]
    assert entry.transactions[0].references.end_to_end_id == "494936/DEV"
    assert entry.amount.value == Decimal("500000.00")
    assert entry.credit_debit == "CRDT"


def test_pacs002_statuses_and_reasons() -> None:
    report = read_iso(
        shared("iso20022/ballerina-swiftmt-to-iso20022/mx-xml/p_2_2_1/mt299_pacs_002_D_C.xml").read_bytes()
    )
    assert report.kind == "status_report"
    assert report.schema_validated
    status = report.transactions[0]
    assert status.status == "RJCT"
    assert status.reasons[0].code == "AC04"
    assert status.original_uetr is not None
    group = read_iso(shared("iso20022/prowide-iso20022/pacs.002-CDATA.xml").read_bytes())
    assert group.group_status == "RJCT"
    assert group.group_reasons[0].proprietary == "118"
    assert (
        group.group_reasons[0].additional_information[0].startswith("<?xml")
    )  # CDATA kept as text, not parsed


def test_header_and_document_must_agree() -> None:
    text = shared("iso20022/ballerina-swiftmt-to-iso20022/mx-xml/c_53_5/mt103_pacs008_A_B.xml").read_text()
    with pytest.raises(
        MessageFormatError, match=r"announces pacs\.009\.001\.08 but the Document is pacs\.008\.001\.08"
    ) as caught:
        read_iso(text.replace("<head:MsgDefIdr>pacs.008.001.08", "<head:MsgDefIdr>pacs.009.001.08"))
    assert caught.value.location.xpath == "/Envelope/AppHdr/MsgDefIdr"


def test_schema_violations_are_located() -> None:
    text = shared("iso20022/ballerina-swiftmt-to-iso20022/mx-xml/c_53_5/mt103_pacs008_A_B.xml").read_text()
    with pytest.raises(MessageFormatError) as caught:
        read_iso(text.replace('Ccy="SGD">500000<', 'Ccy="SGD">5O0000<'))
    error = caught.value
    assert error.location.xpath == "/Envelope/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/IntrBkSttlmAmt"
    assert error.location.line == text[: text.index('Ccy="SGD">500000<')].count("\n") + 1
    assert "pacs.008.001.08 schema" in error.reason
    unvalidated = read_iso(text.replace("<pacs:NbOfTxs>1", "<pacs:NbOfTxs>01"), validate=False)
    assert unvalidated.schema_validated is False
    with pytest.raises(MessageFormatError, match="'12,5' is not a decimal number"):
        read_iso(text.replace('Ccy="SGD">500000<', 'Ccy="SGD">12,5<'), validate=False)


@pytest.mark.parametrize("amount", ["1E+30", "1e5", "1234567890123456789", "١٠٠"])
def test_amounts_without_a_schema_are_still_checked(amount: str) -> None:
    text = shared("iso20022/prowide-iso20022/pacs.008.001.07.xml").read_text()  # no bundled XSD for .07
    broken = re.sub(r"(<IntrBkSttlmAmt Ccy='USD'>)[^<]*", rf"\g<1>{amount}", text, count=1)
    assert broken != text
    with pytest.raises(MessageFormatError, match="is not a decimal number") as caught:
        read_iso(broken)
    assert caught.value.location.xpath is not None
    assert caught.value.location.xpath.endswith("IntrBkSttlmAmt")
