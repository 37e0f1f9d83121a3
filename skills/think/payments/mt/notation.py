"""SWIFT field-format notation (``16x``, ``6!n3!a15d``, ``[/1!a][/34x]``) compiled to regular expressions.

The notation is the one of the SWIFT User Handbook and of the spec digest: ``n`` digits, ``a``
upper-case letters, ``c`` upper-case letters and digits, ``x`` the SWIFT X character set, ``d``
digits and the decimal comma, ``e`` a space; ``3!a`` exactly three, ``35x`` up to 35; ``[...]``
optional; any other character is literal. Only single-line notations are compiled here; the
line structure of a field (``4*35x``) is described in ``mt.fields``.
"""

from __future__ import annotations

import re
from functools import lru_cache

X_CHARS = "A-Za-z0-9/\\-?:().,'+ "
"""The SWIFT X character set as a regex class body: letters, digits, / - ? : ( ) . , ' + and space."""

X_LINE = re.compile(f"^[{X_CHARS}]*$")
_X_CHAR = re.compile(f"[{X_CHARS}]")

_CLASSES = {
    "n": "0-9",
    "a": "A-Z",
    "c": "A-Z0-9",
    "x": X_CHARS,
    "d": "0-9,",
    "e": " ",
}
_TOKEN = re.compile(r"(\d+)(!?)([nacxde])|\[|\]|.", re.DOTALL)


def _compile(notation: str) -> str:
    out: list[str] = []
    depth = 0
    for match in _TOKEN.finditer(notation):
        piece = match.group(0)
        if match.group(3):
            size, fixed, kind = int(match.group(1)), match.group(2), match.group(3)
            quantity = f"{{{size}}}" if fixed else f"{{1,{size}}}"
            out.append(f"[{_CLASSES[kind]}]{quantity}")
        elif piece == "[":
            out.append("(?:")
            depth += 1
        elif piece == "]":
            out.append(")?")
            depth -= 1
        else:
            out.append(re.escape(piece))
    if depth != 0:
        raise ValueError(f"unbalanced brackets in notation {notation!r}")
    return "".join(out)


@lru_cache(maxsize=256)
def pattern(notation: str) -> re.Pattern[str]:
    """The anchored regex of a single-line notation, e.g. ``pattern("3!a15d")``."""
    return re.compile(f"^{_compile(notation)}$")


def matches(notation: str, value: str) -> bool:
    """True when ``value`` is written in ``notation``."""
    return pattern(notation).match(value) is not None


def first_invalid_x_char(value: str) -> tuple[int, str] | None:
    """The 1-based column and character of the first character outside the X set, if any."""
    for index, char in enumerate(value):
        if not _X_CHAR.match(char):
            return index + 1, char
    return None
