"""Each MT rule of the spec digest rejects a message that breaks it, naming the line, tag and reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from skills.think.payments import MessageFormatError, read_mt

BASE_103 = (
    "{1:F01BANKBEBBAXXX0000000000}{2:I103BANKDEFFXXXXN}{3:{108:MUR1}{121:0b1e4f6a-8c2d-4e7f-9a1b-2c3d4e5f6a7b}}{4:\r\n"
    ":20:REF-1\r\n"  # line 2
    ":23B:CRED\r\n"  # 3
    ":32A:250310EUR1000,50\r\n"  # 4
    ":50K:/DE89370400440532013000\r\n"  # 5
    "JOHN DOE\r\n"  # 6
    ":52A:COBADEFF\r\n"  # 7
    ":57A:BNPAFRPP\r\n"  # 8
    ":59:/FR7630006000011234567890189\r\n"  # 9
    "JANE ROE\r\n"  # 10
    ":70:/INV/123\r\n"  # 11
    ":71A:SHA\r\n"  # 12
    "-}"
)
BASE_202 = (
    "{1:F01BANKBEBBAXXX0000000000}{2:I202BANKDEFFXXXXN}{4:\r\n"
    ":20:REF-2\r\n:21:REL-2\r\n:32A:250310USD5000,\r\n:58A:CHASUS33\r\n-}"
)


def test_the_base_messages_are_valid() -> None:
    payment = read_mt(BASE_103).payments[0]
    assert payment.settlement_amount.value == Decimal("1000.50")
    assert read_mt(BASE_202).payments[0].creditor_institution.bic == "CHASUS33"  # type: ignore[union-attr]


CASES = [
    ("32A date", (":32A:250310", ":32A:251310"), 4, "32A", "is not a valid date YYMMDD"),
    (
        "32A dot decimal",
        ("EUR1000,50", "EUR1000.50"),
        4,
        "32A",
        "amount '1000.50' must be digits with one decimal comma",
    ),
    (
        "32A currency",
        ("EUR1000,50", "eur1000,50"),
        4,
        "32A",
        "'250310eur' must be a date YYMMDD and a 3-letter currency code",
    ),
    ("32A no comma", ("EUR1000,50", "EUR1000"), 4, "32A", "must be digits with one decimal comma"),
    ("32A JPY decimals", ("EUR1000,50", "JPY1000,5"), 4, "32A", "JPY allows 0 decimal places"),
    ("32A unknown currency", ("EUR1000,50", "ABC1000,50"), 4, "32A", "is not an ISO 4217 code"),
    ("23B code", (":23B:CRED", ":23B:XXXX"), 3, "23B", "bank operation code 'XXXX' must be one of"),
    ("reference slashes", (":20:REF-1", ":20:/REF-1"), 2, "20", "must not start or end with '/'"),
    (
        "reference too long",
        (":20:REF-1", ":20:ABCDEFGHIJKLMNOPQ"),
        2,
        "20",
        "does not match the Sender's Reference format 16x",
    ),
    (
        "charset",
        ("JOHN DOE", "JOHN_DOE"),
        6,
        "50K",
        "character '_' (column 5) is not in the SWIFT X character set",
    ),
    ("line too long", ("JANE ROE", "J" * 36), 10, "59", "does not match the Beneficiary Customer format 35x"),
    ("too many lines", ("JANE ROE", "A\r\nB\r\nC\r\nD\r\nE"), 9, "59", "must have 1 to 4 line(s)"),
    ("71A code", (":71A:SHA", ":71A:ALL"), 12, "71A", "must be OUR, SHA or BEN"),
    ("BEN without 71F", (":71A:SHA", ":71A:BEN"), 12, "71A", "at least one 71F"),
    ("71F with OUR", (":71A:SHA", ":71A:OUR\r\n:71F:EUR5,"), 13, "71F", "71F is not allowed when 71A is OUR"),
    (
        "71G with SHA",
        (":71A:SHA", ":71A:SHA\r\n:71G:EUR5,"),
        13,
        "71G",
        "71G is allowed only when 71A is OUR",
    ),
    (
        "36 missing",
        (":32A:250310EUR1000,50", ":32A:250310EUR1000,50\r\n:33B:USD1100,"),
        1,
        "block 4",
        "field 36 (Exchange Rate) is mandatory",
    ),
    (
        "36 not allowed",
        (":32A:250310EUR1000,50", ":32A:250310EUR1000,50\r\n:36:1,1"),
        5,
        "36",
        "field 36 is allowed only",
    ),
    ("56 without 57", (":57A:BNPAFRPP", ":56A:BNPAFRPP"), 8, "56A", "57a is mandatory when 56a"),
    (
        "23E with SSTD",
        (":23B:CRED", ":23B:SSTD\r\n:23E:SDVA"),
        4,
        "23E",
        "23E SDVA is not allowed with 23B SSTD",
    ),
    ("23E code", (":23B:CRED", ":23B:CRED\r\n:23E:ABCD"), 4, "23E", "instruction code 'ABCD' must be one of"),
    ("13C time", (":20:REF-1", ":20:REF-1\r\n:13C:/CLSTIME/2560+0100"), 3, "13C", "valid time"),
    ("72 structure", (":71A:SHA", ":71A:SHA\r\n:72:FREE TEXT"), 13, "72", "72 line must start with /CODE/"),
    (
        "unknown tag",
        (":70:/INV/123", ":70:/INV/123\r\n:16R:GENL"),
        12,
        "16R",
        "field 16R is not part of an MT103",
    ),
    (
        "option not allowed",
        (":52A:COBADEFF", ":52B:COBADEFF"),
        7,
        "52B",
        "option B is not allowed for field 52a",
    ),
    ("duplicate tag", (":23B:CRED", ":23B:CRED\r\n:23B:CRED"), 4, "23B", "appears again (first at line 3)"),
    (
        "out of order",
        (":70:/INV/123", ":70:/INV/123\r\n:33B:EUR5,"),
        12,
        "33B",
        "out of order: it must come before field 70",
    ),
    (
        "mandatory missing",
        (":71A:SHA\r\n", ""),
        1,
        "block 4",
        "mandatory field 71A (Details of Charges) is missing",
    ),
    ("colon line", ("JOHN DOE", ":JOHN DOE"), 6, "line 6", "line starts with ':' but is not a field tag"),
    ("hyphen line", ("JOHN DOE", "-JOHN DOE"), 6, "50K", "must not start with '-'"),
    ("empty line", ("JOHN DOE", "JOHN DOE\r\n"), 7, "50K", "has an empty line"),
    (
        "block 1",
        ("{1:F01BANKBEBBAXXX0000000000}", "{1:F01BANKBEBB0000000000}"),
        1,
        "block 1",
        "block 1 must be",
    ),
    ("block 3 uetr", ("0b1e4f6a-8c2d-4e7f", "0B1E4F6A-8c2d-4e7f"), 1, "block 3", "lower-case UUID version 4"),
    (
        "block 3 order",
        (
            "{108:MUR1}{121:0b1e4f6a-8c2d-4e7f-9a1b-2c3d4e5f6a7b}",
            "{121:0b1e4f6a-8c2d-4e7f-9a1b-2c3d4e5f6a7b}{108:MUR1}",
        ),
        1,
        "block 3",
        "{108:} is out of order",
    ),
    ("unsupported type", ("{2:I103", "{2:I940"), 1, "block 2", "MT940 is not supported"),
    ("unterminated", ("\r\n-}", "\r\n"), 1, "block 4", "block 4 is not closed by a line '-}'"),
    ("stray text", ("\r\n-}", "\r\n-}junk"), 13, "line 13", "unexpected text 'junk'"),
]


def _mutate(old: str, new: str) -> str:
    assert old in BASE_103, f"mutation target {old!r} is not in the base message"
    return BASE_103.replace(old, new, 1)


@pytest.mark.parametrize(("name", "change", "line", "tag", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_a_broken_rule_is_reported_where_it_is(
    name: str, change: tuple[str, str], line: int, tag: str, fragment: str
) -> None:
    with pytest.raises(MessageFormatError) as caught:
        read_mt(_mutate(*change))
    error = caught.value
    assert fragment in error.reason, error
    assert error.location.line == line, error
    assert tag in str(error.location), error
    assert str(error).startswith(str(error.location))


def test_stp_messages_refuse_options_outside_the_stp_set() -> None:
    text = _mutate("{121:", "{119:STP}{121:").replace(":52A:COBADEFF", ":52D:COMMERZBANK\r\nFRANKFURT")
    with pytest.raises(MessageFormatError, match="52D is not allowed in an MT103 STP") as caught:
        read_mt(text)
    assert caught.value.location.line == 7


def test_mt202_needs_cov_flag_for_sequence_b_fields() -> None:
    text = BASE_202.replace(":58A:CHASUS33\r\n", ":58A:CHASUS33\r\n:50K:JOHN DOE\r\n:59:JANE ROE\r\n")
    with pytest.raises(MessageFormatError, match=r"sequence B fields need \{119:COV\}"):
        read_mt(text)
    cover = text.replace("{2:I202BANKDEFFXXXXN}", "{2:I202BANKDEFFXXXXN}{3:{119:COV}}")
    payment = read_mt(cover).payments[0]
    assert payment.message_type == "MT202COV"
    assert payment.underlying is not None
    assert payment.underlying.creditor is not None
    assert payment.underlying.creditor.name == "JANE ROE"
    with pytest.raises(MessageFormatError, match=r"mandatory field 59a .* missing in sequence B"):
        read_mt(cover.replace(":59:JANE ROE\r\n", ""))


def test_errors_in_a_batch_name_the_message() -> None:
    broken = BASE_103.replace(":23B:CRED", ":23B:XXXX")
    message = read_mt(f"{BASE_103}\r\n$\r\n{broken}\r\n$\r\n{BASE_202}")
    assert [p.message_type for p in message.payments] == ["MT103", "MT202"]
    assert len(message.rejected) == 1
    rejected = message.rejected[0]
    assert (rejected.index, rejected.line) == (2, 17)
    assert rejected.location == "message 2, line 17, tag 23B"
    with pytest.raises(MessageFormatError) as caught:
        read_mt(f"{broken}\r\n${broken}")
    assert caught.value.location.message_index == 1


def test_lf_only_and_crlf_read_the_same() -> None:
    assert (
        read_mt(BASE_103.replace("\r\n", "\n")).payments[0].business_content()
        == read_mt(BASE_103).payments[0].business_content()
    )
    with pytest.raises(MessageFormatError, match="carriage return without line feed"):
        read_mt(BASE_103.replace("\r\n:23B", "\r:23B"))


def test_empty_and_foreign_text_is_refused() -> None:
    with pytest.raises(MessageFormatError, match="the text is empty"):
        read_mt("  \r\n ")
    with pytest.raises(MessageFormatError, match="where a message should start"):
        read_mt("hello")


def test_the_error_travels_intact() -> None:
    import pickle

    with pytest.raises(MessageFormatError) as caught:
        read_mt(BASE_103.replace(":23B:CRED", ":23B:XXXX"))
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own object
    assert (str(copy), copy.location, copy.code, copy.details) == (
        str(caught.value),
        caught.value.location,
        "malformed_message",
        {"reason": caught.value.reason, "line": 3, "tag": "23B", "xpath": None, "message_index": None},
    )
