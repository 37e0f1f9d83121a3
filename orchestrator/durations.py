"""Durations as written in YAML ("30s", "5m", "1h30m", "250ms") converted once to timedelta."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """Parse ``"90s"``, ``"1m30s"``, ``"250ms"``, ``"2h"`` or a number of seconds.

    Raises ``ValueError`` with the expected format when the text does not match.
    """
    if isinstance(text, timedelta):
        return text
    if isinstance(text, bool):
        raise ValueError(f"expected a duration such as '30s' or '5m', got {text!r}")
    if isinstance(text, (int, float)):
        if text < 0:
            raise ValueError(f"expected a positive duration, got {text!r}")
        return timedelta(seconds=float(text))
    raw = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", raw):
        return timedelta(seconds=float(raw))
    pos = 0
    total = 0.0
    for match in _PART.finditer(raw):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(raw) or not raw:
        raise ValueError(f"expected a duration such as '30s', '5m' or '1h30m', got {text!r}")
    return timedelta(seconds=total)


def format_duration(value: timedelta) -> str:
    """Render a timedelta the way YAML authors write it (``"1m30s"``, ``"250ms"``)."""
    seconds = value.total_seconds()
    if seconds < 1 and seconds != 0:
        return f"{round(seconds * 1000)}ms"
    out = []
    remaining = int(seconds)
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out) or "0s"
