"""The CNAPS2 transport header ``{H:...}`` and the optional ``{S:...}`` signature block.

Layout (spec digest §3.2), fixed width after ``{H:``: Version 2, OrigSender 12 (v01) or 14 (v02),
OrigSenderSID 4, OrigReceiver 12|14, OrigReceiverSID 4, OrigSendDate 8 (YYYYMMDD), OrigSendTime 6,
StructType 3 (``XML``), MesgType 20, MesgID 20, MesgRefID 20, MesgPriority 1, MesgDirection 1
(``U`` to the NPC, ``D`` from it), Reserve 9, then ``}``. Text fields are space-padded on the right.
"""

from __future__ import annotations

import re
from datetime import datetime

from skills.think.payments.errors import MessageBuildError, MessageFormatError, SourceLocation
from skills.think.payments.model import CnapsTransportHeader

_CODE_WIDTH = {"01": 12, "02": 14}
_SIGNATURE = re.compile(r"\{S:([A-Za-z0-9+/=\s]*)\}")


def _layout(version: str) -> list[tuple[str, int]]:
    code = _CODE_WIDTH[version]
    return [
        ("sender", code),
        ("sender_system", 4),
        ("receiver", code),
        ("receiver_system", 4),
        ("send_date", 8),
        ("send_time", 6),
        ("structure", 3),
        ("message_type", 20),
        ("message_id", 20),
        ("message_ref_id", 20),
        ("priority", 1),
        ("direction", 1),
        ("reserve", 9),
    ]


def split_transport(text: str) -> tuple[CnapsTransportHeader | None, str, int]:
    """Split ``{H:...}{S:...}<xml>`` into the header, the XML text and the XML's first line number.

    Text without a ``{H:`` header is returned unchanged (header ``None``, line 1).

    Raises:
        MessageFormatError: the header is not the fixed-width layout of the spec.
    """
    stripped = text.lstrip("\ufeff")
    if not stripped.startswith("{H:"):
        return None, text, 1
    end = stripped.find("}")
    if end < 0:
        raise MessageFormatError(
            "the {H: transport header is not closed by '}'", SourceLocation(line=1, tag="{H:}")
        )
    header = read_header(stripped[3:end])
    rest = stripped[end + 1 :]
    offset = stripped.count("\n", 0, end + 1)
    lead = len(rest) - len(rest.lstrip())
    offset += rest.count("\n", 0, lead)
    rest = rest[lead:]
    signature = _SIGNATURE.match(rest)
    if rest.startswith("{S:"):
        if not signature:
            raise MessageFormatError(
                "the {S: signature block must hold base64 text closed by '}'",
                SourceLocation(line=offset + 1, tag="{S:}"),
            )
        header.signature = re.sub(r"\s+", "", signature.group(1))
        offset += rest.count("\n", 0, signature.end())
        rest = rest[signature.end() :]
        lead = len(rest) - len(rest.lstrip())
        offset += rest.count("\n", 0, lead)
        rest = rest[lead:]
    return header, rest, offset + 1


def read_header(content: str) -> CnapsTransportHeader:
    """Parse the text between ``{H:`` and ``}``."""
    where = SourceLocation(line=1, tag="{H:}")
    version = content[:2]
    if version not in _CODE_WIDTH:
        raise MessageFormatError(f"transport header version must be 01 or 02, found {version!r}", where)
    layout = _layout(version)
    expected = 2 + sum(width for _, width in layout)
    if len(content) != expected:
        raise MessageFormatError(
            f"a version {version} transport header has {expected} characters between '{{H:' and '}}', found {len(content)}",
            where,
        )
    values: dict[str, str] = {}
    position = 2
    for name, width in layout:
        values[name] = content[position : position + width].rstrip()
        position += width
    try:
        sent = datetime.strptime(values["send_date"] + values["send_time"], "%Y%m%d%H%M%S")
    except ValueError as exc:
        raise MessageFormatError(
            f"OrigSendDate/OrigSendTime {values['send_date']}{values['send_time']!r} is not a valid YYYYMMDDhhmmss",
            where,
        ) from exc
    if values["direction"] not in ("U", "D"):
        raise MessageFormatError(f"MesgDirection must be U or D, found {values['direction']!r}", where)
    if values["structure"] != "XML":
        raise MessageFormatError(f"StructType must be XML, found {values['structure']!r}", where)
    for name in ("sender", "receiver", "message_type", "message_id"):
        if not values[name]:
            raise MessageFormatError(f"transport header field {name} is empty", where)
    return CnapsTransportHeader(
        version=version,
        sender=values["sender"],
        sender_system=values["sender_system"],
        receiver=values["receiver"],
        receiver_system=values["receiver_system"],
        send_time=sent,
        structure=values["structure"],
        message_type=values["message_type"],
        message_id=values["message_id"],
        message_ref_id=values["message_ref_id"],
        priority=values["priority"],
        direction=values["direction"],  # type: ignore[arg-type]
        reserve=values["reserve"],
    )


def write_header(header: CnapsTransportHeader) -> str:
    """``{H:...}`` (and ``{S:...}`` when the header carries a signature), each followed by CRLF."""
    if header.version not in _CODE_WIDTH:
        raise MessageBuildError(f"transport header version must be 01 or 02, found {header.version!r}")
    values = {
        **header.model_dump(),
        "send_date": header.send_time.strftime("%Y%m%d"),
        "send_time": header.send_time.strftime("%H%M%S"),
    }
    parts = [header.version]
    for name, width in _layout(header.version):
        value = str(values[name] or "")
        if len(value) > width:
            raise MessageBuildError(
                f"transport header field {name} {value!r} is longer than {width} characters"
            )
        parts.append(value.ljust(width))
    text = "{H:" + "".join(parts) + "}\r\n"
    if header.signature:
        text += "{S:" + header.signature + "}\r\n"
    return text
