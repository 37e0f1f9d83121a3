"""pacs.008 (CNY over CIPS) and pacs.002 (accepted / rejected) writers: XSD-valid, readable, strict."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import xmlschema
from lxml import etree
from payments_testdata import SHARED_DATA, shared

from skills.think.payments import (
    MessageBuildError,
    MessageFormatError,
    OriginalReference,
    StatusReasonInput,
    build_pacs002,
    build_pacs008,
    read_iso,
    read_mt,
)
from skills.think.payments.iso.codes import status_reason_codes
from skills.think.payments.iso.schemas import XSD_DIR
from skills.think.payments.model import (
    Account,
    Agent,
    Amount,
    Charges,
    MessageFormat,
    Party,
    Payment,
    Purpose,
    References,
)

XSD = XSD_DIR
NS8 = {"p": "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"}
NS2 = {"p": "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"}


def _cny_payment() -> Payment:
    return Payment(
        format=MessageFormat.iso20022,
        message_type="pacs.008.001.08",
        references=References(
            message_id="CIPS20250310000001",
            instruction_id="INSTR-0001",
            end_to_end_id="E2E-0001",
            uetr="9a6f0c1e-2b3d-4e5f-8a7b-1c2d3e4f5a6b",
        ),
        value_date=date(2025, 3, 10),
        settlement_amount=Amount(currency="CNY", value=Decimal("1250000.50")),
        debtor=Party(
            name="香港贸易有限公司 HONG KONG TRADING LTD",
            town="Hong Kong",
            country="HK",
            account=Account(id="012345678901"),
        ),
        debtor_agent=Agent(bic="HSBCHKHHHKH", clearing_system="CNCIP", member_id="CIPS0000HK01"),
        creditor_agent=Agent(bic="ICBKCNBJZJP", clearing_system="CNAPS", member_id="102331005059"),
        creditor=Party(
            name="浙江兰溪机械有限公司",
            country="CN",
            account=Account(id="1203020309000123456", issuer="102331005059"),
        ),
        instructing_agent=Agent(bic="HSBCHKHHXXX"),
        instructed_agent=Agent(bic="ICBKCNBJXXX"),
        charges=Charges(bearer="SHAR"),
        purpose=Purpose(code="GDDS"),
        remittance_information=["/INV/INV-2025-0310 机械配件货款"],
    )


def _schema(version: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD / f"{version}.xsd"))


def test_a_cny_pacs008_over_cips_validates_and_reads_back() -> None:
    payment = _cny_payment()
    text = build_pacs008(payment, cips=True, creation_time=datetime(2025, 3, 10, 9, 30, tzinfo=UTC))
    _schema("pacs.008.001.08").validate(text.encode())  # raises on any violation
    original = SHARED_DATA / "iso20022/xsd/xsd/pacs.008.001.08.xsd"
    if original.exists():  # the bundled copy is the published one
        assert original.read_bytes() == (XSD / "pacs.008.001.08.xsd").read_bytes()
    root = etree.fromstring(text.encode())
    assert root.findtext("p:FIToFICstmrCdtTrf/p:GrpHdr/p:SttlmInf/p:SttlmMtd", namespaces=NS8) == "CLRG"
    assert root.findtext("p:FIToFICstmrCdtTrf/p:GrpHdr/p:SttlmInf/p:ClrSys/p:Cd", namespaces=NS8) == "CIP"
    tx = root.find("p:FIToFICstmrCdtTrf/p:CdtTrfTxInf", namespaces=NS8)
    assert tx is not None
    amount = tx.find("p:IntrBkSttlmAmt", namespaces=NS8)
    assert amount is not None
    assert (amount.get("Ccy"), amount.text) == ("CNY", "1250000.50")
    assert tx.findtext("p:DbtrAgt/p:FinInstnId/p:ClrSysMmbId/p:ClrSysId/p:Cd", namespaces=NS8) == "CNCIP"
    assert tx.findtext("p:CdtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId", namespaces=NS8) == "102331005059"
    back = read_iso(text)
    assert back.schema_validated
    again = back.payments[0]
    assert again.clearing_system == "CIP"
    assert again.settlement_method == "CLRG"
    assert again.creditor_agent is not None
    assert again.creditor_agent.cnaps_code == "102331005059"
    expected = payment.business_content() | {
        "clearing_system": "CIP",
        "settlement_method": "CLRG",
        "creation_time": again.creation_time,
    }
    assert again.business_content() == expected


def test_mt103_samples_convert_to_valid_pacs008() -> None:
    schema = _schema("pacs.008.001.08")
    folder = shared("iso20022/ballerina-swiftmt-to-iso20022/mt-fin")
    converted = 0
    for path in sorted(folder.glob("*.fin")):
        try:
            message = read_mt(path.read_text(encoding="utf-8"))
        except MessageFormatError:  # other message types and deliberately broken samples
            continue
        if message.message_type != "MT103":
            continue
        text = build_pacs008(message.payments[0], creation_time=datetime(2025, 1, 1, tzinfo=UTC))
        assert schema.is_valid(text.encode()), path.name
        assert read_iso(text).payments[0].settlement_amount == message.payments[0].settlement_amount
        converted += 1
    assert converted >= 10


def test_pacs008_builder_names_what_is_missing_or_invalid() -> None:
    payment = _cny_payment()
    payment.debtor = None
    with pytest.raises(MessageBuildError, match="the debtor is missing"):
        build_pacs008(payment)
    payment = _cny_payment()
    payment.creditor = Party(name="X" * 141, account=Account(id="1"))
    with pytest.raises(MessageBuildError) as caught:
        build_pacs008(payment)
    assert "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/Cdtr/Nm" in caught.value.reason
    assert caught.value.code == "cannot_build_message"


def _original() -> OriginalReference:
    return OriginalReference.of(read_iso(build_pacs008(_cny_payment(), cips=True)).payments[0])


def test_accepted_and_rejected_status_reports_validate() -> None:
    schema = _schema("pacs.002.001.10")
    accepted = build_pacs002(_original(), "accepted", message_id="STS-ACC-1")
    rejected = build_pacs002(
        _original(),
        "rejected",
        [StatusReasonInput("AC04", ["收款人账户已销户 account closed"])],
        message_id="STS-RJ-1",
    )
    for text in (accepted, rejected):
        schema.validate(text.encode())
    root = etree.fromstring(rejected.encode())
    tx = root.find("p:FIToFIPmtStsRpt/p:TxInfAndSts", namespaces=NS2)
    assert tx is not None
    assert tx.findtext("p:TxSts", namespaces=NS2) == "RJCT"
    assert tx.findtext("p:StsRsnInf/p:Rsn/p:Cd", namespaces=NS2) == "AC04"
    assert tx.findtext("p:OrgnlUETR", namespaces=NS2) == "9a6f0c1e-2b3d-4e5f-8a7b-1c2d3e4f5a6b"
    assert tx.findtext("p:OrgnlGrpInf/p:OrgnlMsgId", namespaces=NS2) == "CIPS20250310000001"
    assert (
        tx.findtext("p:InstgAgt/p:FinInstnId/p:BICFI", namespaces=NS2) == "ICBKCNBJXXX"
    )  # the report goes back
    report = read_iso(accepted)
    assert report.kind == "status_report"
    assert report.transactions[0].status == "ACSP"


def test_status_report_for_an_mt103_uses_field_20() -> None:
    payment = read_mt(
        shared("iso20022/ballerina-swiftmt-to-iso20022/mt-fin/finMessage_535_A_B.fin").read_text()
    ).payments[0]
    report = read_iso(build_pacs002(OriginalReference.of(payment), "ACCC", message_id="STS-2"))
    status = report.transactions[0]
    assert (status.original_message_id, status.original_message_type) == ("pacs8bizmsgidr01", "MT103")
    assert status.original_end_to_end_id == "E2E04044506271305"
    assert status.status == "ACCC"


@pytest.mark.parametrize(
    ("status", "reasons", "fragment"),
    [
        ("rejected", [], "needs at least one status reason code"),
        ("rejected", [StatusReasonInput("ZZ99")], "'ZZ99' is not an ISO external status reason code"),
        ("maybe", [], "unknown payment status 'maybe'"),
        ("RJCT", [StatusReasonInput("AM04", ["x" * 106])], "at most 105 characters"),
    ],
)
def test_status_report_refuses_bad_codes(
    status: str, reasons: list[StatusReasonInput], fragment: str
) -> None:
    with pytest.raises(MessageBuildError, match=fragment):
        build_pacs002(_original(), status, reasons, message_id="STS-X")


def test_reason_codes_come_from_the_iso_code_set() -> None:
    codes = status_reason_codes()
    assert {"AC01", "AC04", "AC06", "AM04", "BE01", "RC01", "RR04", "FF01", "DUPL", "NARR"} <= set(codes)
    assert len(codes) > 250
