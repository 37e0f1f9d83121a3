"""Every MT103 / MT202 sample of the shared data is read, or rejected with a precise, located reason.

The files come from the ``_index.json`` of both MT folders plus the prowide test resources (RJE
batches with ACK wrappers). Values read are cross-checked against an independent regex read of
fields 20 and 32A; rejected samples are listed below with the rule they break.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from payments_testdata import indexed_mt_files, mt_type_of, or_skip, shared

from skills.think.payments import MessageFormatError, read_mt

# file -> (line, location text, reason fragment). Each breaks a rule of the spec digest / FIN.
REJECTED = {
    # prowide parser tests that feed deliberately broken messages
    "MT103_MT103ParserTest_03_b9d00190.fin": (
        3,
        "tag 13C",
        "does not match the Time Indication format /8c/4!n1!x4!n",
    ),
    "MT103_MT103ParserTest_05_479c83fc.fin": (
        7,
        "tag 50K",
        "character '}' (column 6) is not in the SWIFT X character set",
    ),
    "MT103_MT103ParserTest_06_34ea55f2.fin": (14, "block 4", "must end with '-}' on a line of its own"),
    "MT103_SwiftParserTest_05_2fcc988f.fin": (
        18,
        "line 18",
        "unexpected text 'foo' after the end of the message",
    ),
    "MT103_SwiftParserTest_06_e8432327.fin": (
        18,
        "line 18",
        "unexpected text '}}}}' after the end of the message",
    ),
    # _index.json: "minimal/partial body - parser edge case, not a complete MT"
    "MT103_SwiftMessageTest_09_ee9bc16b.fin": (1, "block 4", "block 4 holds no fields"),
    "MT103_SwiftMessageTest_16_0175bdbf.fin": (2, "tag 16R", "field 16R is not part of an MT103"),
    "MT103_SwiftMessageUtilsTest_02_f199e1b3.fin": (
        1,
        "block 4",
        "mandatory field 23B (Bank Operation Code) is missing",
    ),
    "MT103_SwiftMessageUtilsTest_03_8f5c6805.fin": (
        1,
        "block 4",
        "mandatory field 23B (Bank Operation Code) is missing",
    ),
    "MT103_SwiftMessageUtilsTest_17_d5ac7a0c.fin": (
        1,
        "block 4",
        "mandatory field 20 (Sender's Reference) is missing",
    ),
    "MT103_SwiftMessageUtilsTest_19_80cf8205.fin": (
        1,
        "block 4",
        "mandatory field 23B (Bank Operation Code) is missing",
    ),
    "MT103_SwiftMessageUtilsTest_23_b801d4ac.fin": (
        1,
        "block 4",
        "mandatory field 23B (Bank Operation Code) is missing",
    ),
    "MT202_SwiftMessageTest_07_bb1cdbfe.fin": (1, "block 2", "block 2 must be 'I' + message type"),
    "MT202_SwiftMessageUtilsTest_21_b185eafb.fin": (
        1,
        "block 4",
        "mandatory field 21 (Related Reference) is missing",
    ),
    # ballerina inputs that break a FIN rule (the translator does not validate them)
    "a_2014.fin": (22, "tag 71A", "71A is BEN, so at least one 71F (Sender's Charges) is mandatory"),
    "finMessage_p_2_1_2_B_B.fin": (
        12,
        "tag 71A",
        "71A is BEN, so at least one 71F (Sender's Charges) is mandatory",
    ),
    "fin1.fin": (1, "block 1", "block 1 must be application id F/A/L, service id 01 or 21"),
    "finMessage_pacs008_test_pmtTpInf.fin": (
        26,
        "line 26",
        "unexpected text '}' after the end of the message",
    ),
}
# RJE batches: how many messages read, and which ones are rejected (index, line, reason fragment).
BATCHES = {
    "MT103-bulk-with-ack.rje": (3, []),
    "MT103-out-ack.rje": (12, [(11, 198, "expected a block start")]),
}

_FIELD_20 = re.compile(r"\n:20:([^\r\n]*)")
_FIELD_32A = re.compile(r"\n:32A:(\d{6})([A-Z]{3})([0-9,]+)")


def _payment_files() -> list[Path]:
    return [path for path in indexed_mt_files() if mt_type_of(path) in ("103", "202")]


def _other_files() -> list[Path]:
    return [path for path in indexed_mt_files() if mt_type_of(path) not in ("103", "202")]


def _independent_32a(text: str) -> tuple[str, Decimal]:
    match = _FIELD_32A.search(text.replace("\r\n", "\n"))
    assert match, "the sample has a 32A field"
    return match.group(2), Decimal(match.group(3).replace(",", "."))


def test_the_sample_set_is_complete() -> None:
    shared("mt/prowide-core/extracted-from-java-tests/_index.json")
    files = _payment_files()
    assert len(files) >= 58  # 39 MT103 + 19 MT202 files when the shared data is complete
    named = {path.name for path in files}
    assert set(REJECTED) <= named
    assert set(BATCHES) <= named


@pytest.mark.parametrize("path", or_skip(_payment_files()), ids=lambda p: p.name)
def test_every_mt103_and_mt202_sample_is_read_or_rejected_precisely(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.name in REJECTED:
        line, where, reason = REJECTED[path.name]
        with pytest.raises(MessageFormatError) as caught:
            read_mt(text)
        error = caught.value
        assert reason in error.reason
        assert error.location.line == line
        assert where in str(error)
        assert error.code == "malformed_message"
        return
    message = read_mt(text)
    if path.name in BATCHES:
        count, rejected = BATCHES[path.name]
        assert message.message_type == "RJE"
        assert len(message.payments) == count
        assert [(r.index, r.line) for r in message.rejected] == [(i, line) for i, line, _ in rejected]
        for item, (_, _, fragment) in zip(message.rejected, rejected, strict=True):
            assert fragment in item.reason
        return
    assert len(message.payments) == 1
    assert not message.rejected
    payment = message.payments[0]
    assert payment.message_type.startswith(f"MT{mt_type_of(path)}")
    currency, amount = _independent_32a(text)
    assert payment.settlement_amount.currency == currency
    assert payment.settlement_amount.value == amount
    assert payment.references.instruction_id == _FIELD_20.search(text.replace("\r\n", "\n")).group(1)  # type: ignore[union-attr]
    assert payment.value_date is not None
    assert "32A" in payment.source.positions["settlement_amount"]


@pytest.mark.parametrize("path", or_skip(_other_files()), ids=lambda p: p.name)
def test_other_message_types_are_refused_with_the_reason(path: Path) -> None:
    with pytest.raises(MessageFormatError) as caught:
        read_mt(path.read_text(encoding="utf-8"))
    assert f"message type MT{mt_type_of(path)} is not supported" in caught.value.reason
    assert "block 2" in str(caught.value)


def test_mt103_fields_are_read_into_the_model() -> None:
    payment = read_mt(
        shared("mt/prowide-core/extracted-from-java-tests/MT103_MT103ParserTest_02_a322ee05.fin").read_text()
    ).payments[0]
    assert payment.time_indications == ["/SNDTIME/0951+0100", "/RNCTIME/0952+0100"]
    assert payment.value_date.isoformat() == "2001-02-28"  # type: ignore[union-attr]
    assert payment.instructed_amount is not None
    assert payment.instructed_amount.value == Decimal("2999.66")
    assert payment.debtor is not None
    assert payment.debtor.name == "FOOOBANK NA EUR (LONDON BRANCH) LVL"
    assert payment.debtor.address_lines[-1] == "99 (0) 999 999 9999 GCNPPCCY FOOO"
    assert payment.debtor_agent is not None
    assert payment.debtor_agent.bic == "FOOOIE2X"
    assert (
        payment.debtor_agent.account == "/TAGBFOOOGB2LXXXB185008345547244"
    )  # '//' + text that is no clearing code
    assert payment.senders_correspondent is not None
    assert payment.senders_correspondent.account == "0951A060228GBES00350"
    assert payment.creditor is not None
    assert payment.creditor.account is not None
    assert payment.creditor.account.id == "ES8700940001822410908524"
    assert payment.creditor.address_lines == [
        "SPAIN AGENCIA DE VALORES",
        "PLAZA XXXXXX YYYYY ZZZZZZ 9",
        "MADRID,",
    ]
    assert payment.charges.bearer == "CRED"
    assert payment.charges.sender_charges[0].value == Decimal("0.00")
    assert payment.sender_to_receiver_information == ["/ACC/BANKXXXX FOOOOOOOO, 20", "//MADRID,"]
    assert payment.network is not None
    assert payment.network.validation_flag == "STP"
    assert payment.instructing_agent is not None
    assert payment.instructing_agent.bic == "RRRRESMMXXX"
    assert payment.instructed_agent is not None
    assert payment.instructed_agent.bic == "FOOBARYYXXX"


def test_structured_parties_cover_and_uetr_are_read() -> None:
    payment = read_mt(
        shared("iso20022/ballerina-swiftmt-to-iso20022/mt-fin/finMessage_2922_A_B.fin").read_text()
    ).payments[0]
    assert payment.message_type == "MT202COV"
    assert payment.references.uetr == "174c245f-2682-4291-ad67-2a41e530cd27"
    assert payment.references.end_to_end_id == payment.references.related_reference == "pcs008bzmsgidr-1"
    assert payment.debtor_institution is not None
    assert payment.debtor_institution.bic == "MYMBGB2LXXX"
    assert payment.creditor_institution is not None
    assert payment.creditor_institution.bic == "GEBABEBBXXX"
    cover = payment.underlying
    assert cover is not None
    assert cover.debtor is not None
    assert cover.creditor is not None
    assert (cover.debtor.name, cover.debtor.town, cover.debtor.country) == ("Debtor Co", "Epping", "GB")
    assert cover.debtor.account is not None
    assert cover.debtor.account.id == "25698745"
    assert cover.creditor_agent is not None
    assert cover.creditor_agent.bic == "GEBABEBBXXX"
    assert (cover.creditor.name, cover.creditor.country) == ("Ardent Finance", "RO")


def test_ack_wrapper_and_screening_result_are_kept() -> None:
    message = read_mt(shared("mt/prowide-core/test-resources/MT103-bulk-with-ack.rje").read_text())
    first, second, _ = message.payments
    assert first.network is not None
    assert first.network.acknowledgement == "ACK"
    assert first.network.screening_result == "/AOK/NO HIT DETECTED"
    assert second.charges.bearer == "CRED"
    assert [c.value for c in second.charges.sender_charges] == [Decimal("0.00"), Decimal("29.00")]
    assert second.source.locator == "message 2"
    assert ":20:C4772342333" in (second.source.raw or "")


def test_end_to_end_id_comes_from_roc_in_field_70() -> None:
    payment = read_mt(
        shared("iso20022/ballerina-swiftmt-to-iso20022/mt-fin/finMessage_535_A_B.fin").read_text()
    ).payments[0]
    assert payment.references.end_to_end_id == "E2E04044506271305"
    assert payment.references.instruction_id == "pacs8bizmsgidr01"
    assert payment.debtor is not None
    assert payment.debtor.name == "Australian Submarine"
    assert payment.intermediaries[0].bic == "DBSSSGSG"
