"""CNAPS2: {H:} transport header, hvps.111 and beps.121 read/write, the clearing result file."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from payments_testdata import local

from skills.think.payments import (
    MessageBuildError,
    MessageFormatError,
    parse_message,
    read_clearing_file,
    read_cnaps,
    write_clearing_file,
    write_cnaps,
)
from skills.think.payments.cnaps.header import read_header, write_header

BEPS = local("beps121_received.txt").read_text(encoding="utf-8")
HVPS = local("hvps111_sent.txt").read_text(encoding="utf-8")
CLEARING = local("clearing_result_20250310.csv").read_text(encoding="utf-8")


def test_transport_header_fields() -> None:
    message = read_cnaps(BEPS)
    header = message.transport_header
    assert header is not None
    assert (header.version, header.sender, header.sender_system) == ("02", "102100099996", "BEPS")
    assert (header.receiver, header.message_type, header.direction) == (
        "313684093748",
        "beps.121.001.01",
        "D",
    )
    assert header.send_time == datetime(2021, 3, 23, 11, 41, 39)
    assert (header.message_id, header.message_ref_id, header.priority) == (
        "BEPA6014CC2517958865",
        "60000000001561434892",
        "3",
    )
    assert header.signature is not None
    assert header.signature.endswith("0g==")
    assert "\n" not in header.signature
    assert write_header(header).startswith(
        "{H:02102100099996  BEPS313684093748  BEPS20210323114139XMLbeps.121.001.01     "
    )


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("03" + " " * 124, "version must be 01 or 02"),
        ("02" + " " * 10, "has 126 characters between"),
        (
            "02102100099996  BEPS313684093748  BEPS20211323114139XMLbeps.121.001.01     " + " " * 51,
            "is not a valid YYYYMMDDhhmmss",
        ),
    ],
)
def test_bad_transport_headers(content: str, fragment: str) -> None:
    with pytest.raises(MessageFormatError, match=fragment) as caught:
        read_header(content)
    assert str(caught.value).startswith("line 1, tag {H:}")


def test_beps121_package_is_read_with_controls() -> None:
    message = read_cnaps(BEPS)
    assert (message.message_type, message.format, message.number_of_transactions) == (
        "beps.121.001.01",
        "cnaps",
        2,
    )
    assert message.control_sum == Decimal("12445.60")
    assert message.npc_processing is not None
    assert message.npc_processing.status == "PR03"
    assert message.npc_processing.netting_round == "03"
    first, second = message.payments
    assert first.debtor is not None
    assert first.debtor.name == "某市财政局国库支付中心"
    assert first.debtor.account is not None
    assert first.debtor.account.issuer == "102100000030"
    assert first.debtor_agent is not None
    assert first.debtor_agent.cnaps_code == "102100000030"
    assert first.creditor_agent is not None
    assert first.creditor_agent.cnaps_code == "313684093748"
    assert first.category_purpose is not None
    assert first.category_purpose.proprietary == "A100"
    assert first.purpose is not None
    assert first.purpose.proprietary == "02102"
    assert first.remittance_information == ["退税款"]
    assert second.settlement_amount.value == Decimal("12345.60")
    assert second.references.transaction_id == "2021032332670372"


def test_hvps111_is_read() -> None:
    message = read_cnaps(HVPS)
    payment = message.payments[0]
    assert (message.sender, message.receiver) == ("313684093748", "102100099996")
    assert payment.clearing_system == "HVPS"
    assert payment.priority == "NORM"
    assert payment.charges.bearer == "DEBT"
    assert payment.settlement_amount.value == Decimal("50000000.00")
    assert payment.creditor_agent is not None
    assert (payment.creditor_agent.member_id, payment.creditor_agent.branch_id) == (
        "102100099996",
        "102100000030",
    )
    assert payment.creditor_agent.cnaps_code == "102100000030"
    assert payment.references.end_to_end_id == "E2E2025031000000001"


@pytest.mark.parametrize("text", [BEPS, HVPS], ids=["beps121", "hvps111"])
def test_cnaps_round_trip(text: str) -> None:
    message = read_cnaps(text)
    written = write_cnaps(message)
    again = read_cnaps(written)
    assert [p.business_content() for p in again.payments] == [p.business_content() for p in message.payments]
    assert again.model_dump(exclude={"payments"}) == message.model_dump(exclude={"payments"})


CNAPS_ERRORS = [
    (BEPS, "<NbOfTxs>2</NbOfTxs>", "<NbOfTxs>3</NbOfTxs>", "NbOfTxs says 3 but the package holds 2"),
    (
        BEPS,
        '<CtrlSum Ccy="CNY">12445.60',
        '<CtrlSum Ccy="CNY">12445.61',
        "CtrlSum says 12445.61 but the transfers add up to 12445.60",
    ),
    (BEPS, "<Nm>张三</Nm>", "<Nm></Nm>", "收款人名称 (Cdtr/Nm) is mandatory"),
    (
        BEPS,
        "<Nm>张三</Nm>",
        "<Nm>" + "张" * 61 + "</Nm>",
        "收款人名称 (Cdtr/Nm) may have at most 60 characters",
    ),
    (
        BEPS,
        "<TxId>2021032332670371</TxId>",
        "<TxId>T-1</TxId>",
        "交易标识号 (TxId) 'T-1' does not have the expected form",
    ),
    (BEPS, "<SysCd>BEPS</SysCd>", "<SysCd>HVPS</SysCd>", "系统编号 (SysCd) must be one of BEPS"),
    (
        HVPS,
        "<SttlmPrty>NORM</SttlmPrty>",
        "<SttlmPrty>FAST</SttlmPrty>",
        "业务优先级 (SttlmPrty) must be one of NORM, HIGH, URGT",
    ),
    (HVPS, 'Ccy="CNY">50000000.00', 'Ccy="USD">50000000.00', "HVPS settles in CNY, found USD"),
    (
        HVPS,
        "<Id>102100000030</Id>\n        </BrnchId>",
        "<Id>10210000003</Id>\n        </BrnchId>",
        "收款行行号 (CdtrAgt/BrnchId/Id) '10210000003'",
    ),
    (
        HVPS,
        "hvps.111.001.01     HVPS2025",
        "hvps.112.001.01     HVPS2025",
        "header announces hvps.112.001.01 but the XML is hvps.111.001.01",
    ),
]


@pytest.mark.parametrize(
    ("text", "old", "new", "fragment"), CNAPS_ERRORS, ids=[e[3][:30] for e in CNAPS_ERRORS]
)
def test_cnaps_errors_are_located(text: str, old: str, new: str, fragment: str) -> None:
    assert old in text
    with pytest.raises(MessageFormatError) as caught:
        read_cnaps(text.replace(old, new, 1))
    assert fragment in caught.value.reason
    assert caught.value.location.line is not None


def test_error_lines_count_from_the_top_of_the_file() -> None:
    broken = BEPS.replace("<Nm>张三</Nm>", "<Nm></Nm>")
    with pytest.raises(MessageFormatError) as caught:
        read_cnaps(broken)
    expected = broken[: broken.index("<Nm></Nm>")].count("\n") + 1
    assert caught.value.location.line == expected
    assert caught.value.location.xpath == "/Document/CstmrCdtTrf/CstmrCdtTrfInf[1]/Cdtr/Nm"


def test_cnaps_writer_refuses_incomplete_transfers() -> None:
    message = read_cnaps(HVPS)
    message.payments[0].creditor_agent = None
    with pytest.raises(MessageBuildError, match="creditor agent's clearing bank code"):
        write_cnaps(message)
    message = read_cnaps(BEPS)
    message.payments[0].references.transaction_id = None
    with pytest.raises(MessageBuildError, match="交易标识号"):
        write_cnaps(message)


def test_format_is_detected_by_content() -> None:
    assert parse_message(BEPS).format == "cnaps"
    xml_only = HVPS[HVPS.index("<?xml") :]
    assert parse_message(xml_only.encode()).message_type == "hvps.111.001.01"
    assert parse_message(CLEARING).kind == "clearing_result"


def test_clearing_file_is_read_with_outcomes_and_totals() -> None:
    result = read_clearing_file(CLEARING.encode("utf-8-sig"))
    assert (result.count, result.total) == (4, Decimal("50014445.60"))
    assert [e.outcome for e in result.entries] == ["settled", "settled", "rejected", "pending"]
    rejected = result.entries[2]
    assert (rejected.reason_code, rejected.reason_text, rejected.line) == ("AC04", "收款人账户已销户", 4)
    assert rejected.creditor_name == "李四贸易有限公司, 北京分公司"  # a quoted comma stays in the name
    assert read_clearing_file(write_clearing_file(result.entries)) == result


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        (
            "TOTAL,4,50014445.60",
            "TOTAL,4,50014445.61",
            6,
            "TOTAL says 50014445.61 but the amounts add up to 50014445.60",
        ),
        ("TOTAL,4,50014445.60", "TOTAL,5,50014445.60", 6, "TOTAL says 5 lines but the file has 4"),
        ("TOTAL,4,50014445.60\n", "", 6, "must end with a line TOTAL"),
        (
            ",CNY,100.00,PR04,",
            ",CNY,100.001,PR04,",
            3,
            "amount '100.001': must be a decimal with at most 2 places",
        ),
        (",CNY,100.00,PR04,", ",USD,100.00,PR04,", 3, "CNAPS clears CNY only"),
        (
            "2025-03-10,BEPS,beps.121.001.01,2021032375961815,2021032332670371",
            "2025-02-30,BEPS,beps.121.001.01,2021032375961815,2021032332670371",
            3,
            "must be a date",
        ),
        (
            "12345.60,PR09,AC04,收款人账户已销户",
            "12345.60,PR09,,",
            4,
            "a rejected transfer needs reason_code or reason_text",
        ),
        ("clearing_date,system", "date,system", 1, "the first line must be the header"),
        (
            ",sent,A100,02102,313684093748,501000000162645",
            ",outgoing,A100,02102,313684093748,501000000162645",
            2,
            "direction 'outgoing': must be sent or received",
        ),
    ],
)
def test_clearing_file_errors_name_line_and_column(old: str, new: str, line: int, fragment: str) -> None:
    assert old in CLEARING
    with pytest.raises(MessageFormatError) as caught:
        read_clearing_file(CLEARING.replace(old, new, 1))
    assert fragment in caught.value.reason
    assert caught.value.location.line == line


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (CLEARING.replace("张三", "张\x00三"), "contains a control character"),
        (CLEARING.replace("TOTAL,4,", "TOTAL,²,"), "the TOTAL line must be TOTAL,<count>,<sum>"),
        (CLEARING.replace(",CNY,100.00,", ",CNY,١٠٠.00,"), "must be a decimal with at most 2 places"),
    ],
    ids=["nul", "superscript-count", "arabic-digits"],
)
def test_clearing_file_odd_characters_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(MessageFormatError, match=fragment):
        read_clearing_file(text)


def test_non_utf8_cnaps_bytes_are_refused_cleanly() -> None:
    with pytest.raises(MessageFormatError):
        read_cnaps(b"{H:02" + b"\xff\xfe\x81" * 50)
    legacy = read_cnaps(BEPS.encode("gb18030"))  # legacy front-ends: GB18030 is accepted
    assert legacy.payments[1].creditor is not None
    assert legacy.payments[1].creditor.name == "李四贸易有限公司"
