"""Fuzzing the readers with mutated real samples: only ``MessageFormatError`` may escape, nothing hangs.

Each case takes a real message and applies 1-6 mutations: delete, duplicate or flip characters,
truncate, swap two field tags / elements, insert structural characters. 1,000 cases per reader
family; pytest-timeout bounds the whole test, so a hang fails it.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from payments_testdata import BALLERINA, MT_DIR, local, shared_available

from skills.think.payments import MessageFormatError, parse_message, read_cnaps, read_iso, read_mt

_SPECIAL = "{}:\r\n-/$<>&;'\"=?!#[]%,.+()0123456789ABCXYZabcxyz 中"
_MT_TAG_LINE = re.compile(r"\n:\d{2}[A-Z]?:[^\n]*")
_XML_ELEMENT = re.compile(r"<([A-Za-z:]+)>[^<]*</\1>")


def _mt_samples() -> list[str]:
    if not shared_available():
        return []
    names = [
        MT_DIR / "extracted-from-java-tests/MT103_MT103ParserTest_02_a322ee05.fin",
        MT_DIR / "extracted-from-java-tests/MT103_MT103ParserTest_03_b9d00190.fin",
        MT_DIR / "extracted-from-java-tests/MT202_MT202ParserTest_00_8992e816.fin",
        MT_DIR / "test-resources/MT103-bulk-with-ack.rje",
        MT_DIR / "extracted-from-java-tests/MT103_SwiftParserTest_03_8d8d39f5.fin",
        BALLERINA / "mt-fin/finMessage_2922_A_B.fin",
        BALLERINA / "mt-fin/finMessage_p_2_1_2_B_C.fin",
        BALLERINA / "mt-fin/fin2.fin",
    ]
    return [path.read_text(encoding="utf-8") for path in names]


def _xml_samples() -> list[str]:
    if not shared_available():
        return []
    names = [
        BALLERINA / "mx-xml/c_53_5/mt103_pacs008_A_B.xml",
        BALLERINA / "mx-xml/p_2_3_1_b/mt202_pacs_009COV_A_B.xml",
        BALLERINA / "mx-xml/p_2_2_1/mt299_pacs_002_D_C.xml",
        BALLERINA / "mx-xml/c_54_1_1/mt910_camt_054_C_D.xml",
        BALLERINA / "mx-xml/c_53_1_1/mt940_camt_053_B_D.xml",
    ]
    return [path.read_text(encoding="utf-8") for path in names]


CNAPS_SAMPLES = [
    local("beps121_received.txt").read_text(encoding="utf-8"),
    local("hvps111_sent.txt").read_text(encoding="utf-8"),
]


@st.composite
def mutated(draw: st.DrawFn, samples: list[str], unit: re.Pattern[str]) -> str:
    text = draw(st.sampled_from(samples))
    for _ in range(draw(st.integers(1, 6))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        operation = draw(
            st.sampled_from(["delete", "duplicate", "flip", "truncate", "swap", "insert", "retext"])
        )
        if operation == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        elif operation == "duplicate":
            end = at + draw(st.integers(1, 40))
            text = text[:end] + text[at:end] + text[end:]
        elif operation == "flip":
            text = text[:at] + draw(st.sampled_from(_SPECIAL)) + text[at + 1 :]
        elif operation == "truncate":
            text = text[:at]
        elif operation == "insert":
            text = text[:at] + draw(st.text(alphabet=_SPECIAL, min_size=1, max_size=12)) + text[at:]
        elif operation == "retext":  # keep the structure, change one value: reaches the field checks
            units = list(unit.finditer(text))
            if units:
                chosen = draw(st.sampled_from(units))
                whole = chosen.group(0)
                cut = whole.index(">") + 1 if whole.startswith("<") else whole.index(":", 2) + 1
                end = whole.rindex("<") if whole.startswith("<") else len(whole)
                value = draw(st.text(alphabet=_SPECIAL.replace("<", "").replace("&", ""), max_size=40))
                text = text[: chosen.start()] + whole[:cut] + value + whole[end:] + text[chosen.end() :]
        else:
            units = list(unit.finditer(text))
            if len(units) >= 2:
                first, second = sorted(
                    draw(st.lists(st.sampled_from(units), min_size=2, max_size=2, unique_by=id)),
                    key=lambda m: m.start(),
                )
                text = (
                    text[: first.start()]
                    + second.group(0)
                    + text[first.end() : second.start()]
                    + first.group(0)
                    + text[second.end() :]
                )
    return text


def _survives(read: object, text: str) -> None:
    try:
        result = read(text)  # type: ignore[operator]
    except MessageFormatError as error:
        problem = error
    else:
        result.model_dump(mode="json")  # whatever was read must be a complete, serialisable model
        event("read")
        return
    assert problem.reason
    assert problem.code == "malformed_message"
    event(f"refused at {'xpath' if problem.location.xpath else 'line'}")


FUZZ = settings(max_examples=1000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.skipif(not shared_available(), reason="the shared sample data beside the repository is missing")
@pytest.mark.timeout(180)
@FUZZ
@given(data=st.data())
def test_mt_reader_fuzz(data: st.DataObject) -> None:
    text = data.draw(mutated(_mt_samples(), _MT_TAG_LINE))
    _survives(read_mt, text)
    _survives(parse_message, text)


@pytest.mark.skipif(not shared_available(), reason="the shared sample data beside the repository is missing")
@pytest.mark.timeout(180)
@FUZZ
@given(data=st.data())
def test_iso20022_reader_fuzz(data: st.DataObject) -> None:
    text = data.draw(mutated(_xml_samples(), _XML_ELEMENT))
    _survives(read_iso, text)


@pytest.mark.timeout(180)
@FUZZ
@given(data=st.data())
def test_cnaps_reader_fuzz(data: st.DataObject) -> None:
    text = data.draw(mutated(CNAPS_SAMPLES, _XML_ELEMENT))
    _survives(read_cnaps, text)
    _survives(lambda t: read_cnaps(t.encode("utf-8")), text)


def _all_samples_as_bytes() -> list[bytes]:
    texts = _mt_samples() + _xml_samples() + CNAPS_SAMPLES
    texts.append(local("clearing_result_20250310.csv").read_text(encoding="utf-8"))
    return [text.encode("utf-8") for text in texts]


@st.composite
def mutated_bytes(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_all_samples_as_bytes())))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        operation = draw(st.sampled_from(["delete", "flip", "truncate", "insert"]))
        if operation == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif operation == "flip":
            data[at] = draw(st.integers(0, 255))
        elif operation == "truncate":
            del data[at:]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@pytest.mark.timeout(180)
@FUZZ
@given(data=mutated_bytes())
def test_format_detection_fuzz_on_raw_bytes(data: bytes) -> None:
    """Any bytes - invalid UTF-8, NUL, stray BOMs - end in a model or a MessageFormatError."""
    _survives(parse_message, data)
