"""A moment typed by an operator (``--not-before``, the dashboard's retry), read in the bank's time zone.

``2026-11-30T06:00:00+08:00`` keeps its offset; ``2026-11-30 06:00`` is a Shanghai time (the
bots' default zone), not UTC; ``06:00`` is the next 06:00 there — tomorrow's when today's has
passed. A naive time read as UTC would postpone a Shanghai operator's item by eight hours.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from orchestrator.spec.bot import DEFAULT_TIMEZONE

_TIME_OF_DAY = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def parse_moment(text: str, *, now: datetime | None = None, zone: tzinfo | None = None) -> datetime:
    """The aware moment ``text`` names; ``ValueError`` saying what is expected otherwise."""
    zone = zone or ZoneInfo(DEFAULT_TIMEZONE)
    value = text.strip()
    clock = _TIME_OF_DAY.fullmatch(value)
    if clock:
        local_now = (now or datetime.now(UTC)).astimezone(zone)
        moment = local_now.replace(hour=int(clock[1]), minute=int(clock[2]), second=0, microsecond=0)
        if moment <= local_now:
            moment = (moment + timedelta(days=1)).replace(hour=int(clock[1]), minute=int(clock[2]))
        return moment
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: expected HH:MM (the next one), YYYY-MM-DD HH:MM "
            f"({zone} time) or an ISO 8601 time with its offset such as 2026-11-30T06:00+08:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
