"""The SWIFT FIN envelope: blocks 1-5 and S, ACK/NAK wrappers and RJE batch files.

``read_envelopes(text)`` cuts a file into messages and each message into its blocks, checking
the block grammar of the spec digest §1 (fixed-width block 1 and 2, ``{tag:value}`` block 3 and
5, block 4 as ``:tag:`` lines closed by a line ``-}``). It does not interpret field contents:
``mt.reader`` does that. Lines are numbered in the original file (CRLF or LF).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from skills.think.payments.errors import MessageFormatError, SourceLocation

LT_ADDRESS = r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{6}"
_BLOCK1 = re.compile(rf"^([FAL])(01|21)({LT_ADDRESS})([0-9]{{4}})([0-9]{{6}})$")
_BLOCK2_INPUT = re.compile(rf"^I([0-9]{{3}})({LT_ADDRESS})([NUS])?([0-9])?([0-9]{{3}})?$")
_BLOCK2_OUTPUT = re.compile(
    rf"^O([0-9]{{3}})([0-9]{{4}})([0-9]{{6}})({LT_ADDRESS})([0-9]{{4}})([0-9]{{6}})([0-9]{{6}})([0-9]{{4}})([NUS])?$"
)
_FIELD_LINE = re.compile(r"^:([0-9]{2}[A-Z]?):(.*)$")
_NESTED_ITEM = re.compile(r"\{([A-Za-z0-9]{1,3}):([^{}]*)\}")
UETR = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

BLOCK3_TAGS = ("103", "113", "108", "119", "423", "106", "424", "111", "121", "115", "165", "433", "434")
"""User-header tags in the order SWIFT requires them."""
BLOCK5_TAGS = ("CHK", "MAC", "PDE", "PDM", "DLM", "TNG", "MRF", "SYS", "PAC")
_BLOCK_ORDER = ("1", "2", "3", "4", "5", "S")
_BLOCK_START = re.compile(r"\{([1-5S]):")


@dataclass
class MtField:
    """One ``:tag:`` field of block 4: its lines and the file line of the tag."""

    tag: str
    lines: list[str]
    line: int

    def where(self, offset: int = 0) -> SourceLocation:
        """Location of this field (or of its ``offset``-th line) for error messages."""
        return SourceLocation(line=self.line + offset, tag=self.tag)


@dataclass
class Acknowledgement:
    """A ``{1:F21...}{4:{177:}{451:}}`` wrapper in front of a message."""

    accepted: bool
    time: str | None
    error_code: str | None


@dataclass
class Envelope:
    """One FIN message cut into its blocks."""

    index: int
    first_line: int
    raw: str
    application_id: str
    service_id: str
    block1_address: str
    session: str
    sequence: str
    direction: str = ""
    message_type: str = ""
    counterpart_address: str = ""
    priority: str | None = None
    mir: str | None = None
    user_header: dict[str, str] = field(default_factory=dict)
    fields: list[MtField] = field(default_factory=list)
    trailer: dict[str, str] = field(default_factory=dict)
    acknowledgement: Acknowledgement | None = None
    block_lines: dict[str, int] = field(default_factory=dict)

    @property
    def sender_address(self) -> str:
        """Logical terminal of the sender (block 1 for input messages, the MIR for output ones)."""
        return self.block1_address if self.direction == "I" else self.counterpart_address

    @property
    def receiver_address(self) -> str:
        """Logical terminal of the receiver."""
        return self.counterpart_address if self.direction == "I" else self.block1_address

    def where(self, block: str) -> SourceLocation:
        """Location of a block for error messages."""
        return SourceLocation(line=self.block_lines.get(block), tag=f"block {block}")


@dataclass
class _RawMessage:
    start: int
    end: int
    blocks: dict[str, str | list[tuple[str, str]]]
    block_pos: dict[str, int]


class _Scanner:
    def __init__(self, text: str, first_line: int = 1) -> None:
        self.text = text
        self.pos = 0
        self.first_line = first_line
        self._line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def line_at(self, pos: int) -> int:
        return bisect.bisect_right(self._line_starts, pos) + self.first_line - 1

    def fail(self, reason: str, pos: int | None = None, tag: str | None = None) -> MessageFormatError:
        return MessageFormatError(
            reason, SourceLocation(line=self.line_at(self.pos if pos is None else pos), tag=tag)
        )

    def peek(self, size: int = 1) -> str:
        return self.text[self.pos : self.pos + size]

    def skip_separators(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\n":
            self.pos += 1


def normalize_newlines(text: str) -> str:
    """CRLF -> LF; a lone CR is an error (FIN lines end with CRLF)."""
    text = text.replace("\r\n", "\n")
    lone = text.find("\r")
    if lone >= 0:
        line = text.count("\n", 0, lone) + 1
        raise MessageFormatError("carriage return without line feed", SourceLocation(line=line))
    return text


@dataclass
class Chunk:
    """One message (with its ACK/NAK wrapper, if any) of a file, and where it starts."""

    index: int
    first_line: int
    text: str


_SEPARATOR = re.compile(r"(?:(?<=\})|(?<=\n)|^)\$")


def split_batch(text: str) -> list[Chunk]:
    """Cut an RJE file at its ``$`` separators (``$`` is outside the SWIFT X set, so it cannot be data).

    A ``$`` separates messages when it follows a ``}`` or starts a line. Blank chunks are dropped.
    """
    text = normalize_newlines(text.lstrip("\ufeff"))
    chunks: list[Chunk] = []
    start = 0
    for match in [*_SEPARATOR.finditer(text), None]:
        end = match.start() if match else len(text)
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            line = text.count("\n", 0, start + lead) + 1
            chunks.append(Chunk(index=len(chunks) + 1, first_line=line, text=piece.strip()))
        start = end + 1
    return chunks


def read_envelopes(text: str, first_line: int = 1, index: int = 1) -> list[Envelope]:
    """Cut ``text`` (one message, possibly behind an ACK/NAK wrapper) into envelopes.

    ``first_line`` and ``index`` place the text in a larger file for error locations.
    """
    scanner = _Scanner(normalize_newlines(text.lstrip("\ufeff")), first_line)
    envelopes: list[Envelope] = []
    pending_ack: tuple[Acknowledgement, int] | None = None
    while True:
        scanner.skip_separators()
        if scanner.pos >= len(scanner.text):
            break
        if scanner.peek() != "{":
            found = scanner.text[scanner.pos : scanner.pos + 20].split("\n")[0]
            where = (
                "after the end of the message" if envelopes or pending_ack else "where a message should start"
            )
            raise scanner.fail(f"unexpected text {found!r} {where}; expected '{{1:' or the end of the file")
        raw = _read_message(scanner)
        block1 = _basic_header(scanner, raw)
        if block1[1] == "21":
            if pending_ack is not None:
                raise scanner.fail("two ACK/NAK wrappers in a row", raw.start)
            pending_ack = (_acknowledgement(scanner, raw), raw.start)
            continue
        envelope = _envelope(scanner, raw, block1, index + len(envelopes))
        if pending_ack is not None:
            envelope.acknowledgement = pending_ack[0]
            pending_ack = None
        envelopes.append(envelope)
    if pending_ack is not None:
        raise scanner.fail(
            "the ACK/NAK wrapper is not followed by the message it acknowledges", pending_ack[1]
        )
    if not envelopes:
        raise MessageFormatError("no SWIFT message found: the text is empty", SourceLocation(line=1))
    return envelopes


def _read_message(scanner: _Scanner) -> _RawMessage:
    start = scanner.pos
    blocks: dict[str, str | list[tuple[str, str]]] = {}
    block_pos: dict[str, int] = {}
    last = -1
    while scanner.peek() == "{":
        block_start = scanner.pos
        opening = _BLOCK_START.match(scanner.text, scanner.pos)
        if not opening:
            found = scanner.text[scanner.pos : scanner.pos + 8]
            raise scanner.fail(f"expected a block start '{{1:' to '{{5:' or '{{S:', found {found!r}")
        block_id = opening.group(1)
        colon = opening.end() - 1
        order = _BLOCK_ORDER.index(block_id)
        if block_id == "1" and blocks:
            break  # the next message of the file starts here
        if order <= last:
            raise scanner.fail(f"block {block_id} is out of order or repeated", tag=f"block {block_id}")
        last = order
        scanner.pos = colon + 1
        block_pos[block_id] = block_start
        if block_id in ("1", "2"):
            blocks[block_id] = _read_flat_block(scanner, block_id)
        elif block_id == "4" and scanner.peek() != "{":
            blocks[block_id] = _read_text_block(scanner, block_start)
        else:
            blocks[block_id] = _read_nested_block(scanner, block_id)
        if block_id == "4" and scanner.peek() not in ("{", ""):
            break
    if "1" not in blocks:
        raise scanner.fail("a message must start with block 1 '{1:'", start)
    return _RawMessage(start=start, end=scanner.pos, blocks=blocks, block_pos=block_pos)


def _read_flat_block(scanner: _Scanner, block_id: str) -> str:
    end = scanner.text.find("}", scanner.pos)
    if end < 0:
        raise scanner.fail(f"block {block_id} is not closed by '}}'", tag=f"block {block_id}")
    value = scanner.text[scanner.pos : end]
    if "{" in value or "\n" in value:
        raise scanner.fail(f"block {block_id} is not closed by '}}' on its line", tag=f"block {block_id}")
    scanner.pos = end + 1
    return value


def _read_nested_block(scanner: _Scanner, block_id: str) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    while True:
        if scanner.peek() == "}":
            scanner.pos += 1
            return items
        match = _NESTED_ITEM.match(scanner.text, scanner.pos)
        if not match:
            found = scanner.text[scanner.pos : scanner.pos + 20].split("\n")[0]
            raise scanner.fail(
                f"block {block_id} must hold '{{tag:value}}' items closed by '}}', found {found!r}",
                tag=f"block {block_id}",
            )
        items.append((match.group(1), match.group(2)))
        scanner.pos = match.end()


def _read_text_block(scanner: _Scanner, block_start: int) -> str:
    if scanner.peek() != "\n":
        raise scanner.fail("block 4 must start with a line break after '{4:'", tag="block 4")
    terminator = scanner.text.find("\n-}", scanner.pos)
    next_message = scanner.text.find("{1:", scanner.pos)
    if terminator < 0 or (0 <= next_message < terminator):
        inline = re.compile(r"[^\n]-\}").search(scanner.text, scanner.pos)
        if inline and (next_message < 0 or inline.start() < next_message):
            raise scanner.fail(
                "block 4 must end with '-}' on a line of its own; found '-}' at the end of a field line",
                inline.start() + 1,
                tag="block 4",
            )
        raise scanner.fail("block 4 is not closed by a line '-}'", block_start, tag="block 4")
    value = scanner.text[scanner.pos + 1 : terminator]
    scanner.pos = terminator + 3
    return value


def _basic_header(scanner: _Scanner, raw: _RawMessage) -> tuple[str, str, str, str, str]:
    value = raw.blocks["1"]
    assert isinstance(value, str)
    match = _BLOCK1.match(value)
    if not match:
        raise MessageFormatError(
            "block 1 must be application id F/A/L, service id 01 or 21, a 12-character logical terminal "
            f"address, a 4-digit session and a 6-digit sequence number (25 characters); found {value!r}",
            SourceLocation(line=scanner.line_at(raw.block_pos["1"]), tag="block 1"),
        )
    return match.group(1), match.group(2), match.group(3), match.group(4), match.group(5)


def _acknowledgement(scanner: _Scanner, raw: _RawMessage) -> Acknowledgement:
    items = raw.blocks.get("4")
    where = SourceLocation(line=scanner.line_at(raw.block_pos["1"]), tag="block 4")
    if not isinstance(items, list):
        raise MessageFormatError("an ACK/NAK (service 21) must have a block 4 of {tag:value} items", where)
    values = dict(items)
    if values.get("451") not in ("0", "1"):
        raise MessageFormatError(
            f"an ACK/NAK needs {{451:0}} or {{451:1}}, found {values.get('451')!r}", where
        )
    return Acknowledgement(
        accepted=values["451"] == "0", time=values.get("177"), error_code=values.get("405")
    )


def _envelope(scanner: _Scanner, raw: _RawMessage, block1: tuple[str, ...], index: int) -> Envelope:
    lines = {key: scanner.line_at(pos) for key, pos in raw.block_pos.items()}
    envelope = Envelope(
        index=index,
        first_line=scanner.line_at(raw.start),
        raw=scanner.text[raw.start : raw.end],
        application_id=block1[0],
        service_id=block1[1],
        block1_address=block1[2],
        session=block1[3],
        sequence=block1[4],
        block_lines=lines,
    )
    _application_header(envelope, raw.blocks.get("2"))
    user = raw.blocks.get("3", [])
    assert isinstance(user, list)
    _user_header(envelope, user)
    text = raw.blocks.get("4")
    if text is None:
        raise MessageFormatError("the message has no text block 4", envelope.where("2"))
    if not isinstance(text, str):
        raise MessageFormatError("block 4 of a user message must hold ':tag:' lines", envelope.where("4"))
    envelope.fields = _fields(text, lines["4"] + 1)
    trailer = raw.blocks.get("5", [])
    assert isinstance(trailer, list)
    for tag, value in trailer:
        if tag not in BLOCK5_TAGS:
            raise MessageFormatError(
                f"unknown trailer {{{tag}:}}; expected one of {', '.join(BLOCK5_TAGS)}", envelope.where("5")
            )
        envelope.trailer[tag] = value
    return envelope


def _application_header(envelope: Envelope, value: str | list[tuple[str, str]] | None) -> None:
    where = envelope.where("2")
    if not isinstance(value, str):
        raise MessageFormatError("the message has no application header block 2", where)
    if match := _BLOCK2_INPUT.match(value):
        envelope.direction = "I"
        envelope.message_type, envelope.counterpart_address, envelope.priority = match.group(1, 2, 3)
        return
    if match := _BLOCK2_OUTPUT.match(value):
        envelope.direction = "O"
        envelope.message_type = match.group(1)
        envelope.mir = match.group(3) + match.group(4) + match.group(5) + match.group(6)
        envelope.counterpart_address = match.group(4)
        envelope.priority = match.group(9)
        for label, hhmm in (("input time", match.group(2)), ("output time", match.group(8))):
            if not (int(hhmm[:2]) < 24 and int(hhmm[2:]) < 60):
                raise MessageFormatError(f"block 2 {label} {hhmm!r} is not a valid HHMM time", where)
        return
    raise MessageFormatError(
        "block 2 must be 'I' + message type (3 digits) + receiver address (12) + optional priority, or "
        f"'O' + message type + time + MIR (28) + date + time + optional priority; found {value!r}",
        where,
    )


def _user_header(envelope: Envelope, items: list[tuple[str, str]]) -> None:
    where = envelope.where("3")
    last = -1
    for tag, value in items:
        if tag not in BLOCK3_TAGS:
            raise MessageFormatError(f"unknown user header field {{{tag}:}}", where)
        order = BLOCK3_TAGS.index(tag)
        if order <= last:
            raise MessageFormatError(f"user header field {{{tag}:}} is out of order or repeated", where)
        last = order
        if tag == "121" and not UETR.match(value):
            raise MessageFormatError(
                f"{{121:}} must be a lower-case UUID version 4 (8-4-4-4-12 hex), found {value!r}", where
            )
        if tag == "108" and not (0 < len(value) <= 16):
            raise MessageFormatError(f"{{108:}} (MUR) must be 1 to 16 characters, found {value!r}", where)
        if tag == "111" and not re.fullmatch(r"[0-9]{3}", value):
            raise MessageFormatError(f"{{111:}} (service type) must be 3 digits, found {value!r}", where)
        envelope.user_header[tag] = value


def _fields(text: str, first_line: int) -> list[MtField]:
    fields: list[MtField] = []
    if not text:
        raise MessageFormatError(
            "block 4 holds no fields", SourceLocation(line=first_line - 1, tag="block 4")
        )
    for offset, line in enumerate(text.split("\n")):
        number = first_line + offset
        if line.startswith(":"):
            match = _FIELD_LINE.match(line)
            if not match:
                raise MessageFormatError(
                    f"line starts with ':' but is not a field tag ':NN[A]:', found {line[:12]!r}",
                    SourceLocation(line=number),
                )
            fields.append(MtField(tag=match.group(1), lines=[match.group(2)], line=number))
        elif not fields:
            raise MessageFormatError(
                f"text before the first field tag: {line[:20]!r}", SourceLocation(line=number)
            )
        elif line.startswith("-"):
            raise MessageFormatError(
                "a field line must not start with '-' (reserved for the end of block 4)",
                SourceLocation(line=number, tag=fields[-1].tag),
            )
        else:
            fields[-1].lines.append(line)
    return fields
