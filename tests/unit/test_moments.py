"""``--not-before`` times: an offset is kept, a bare time is Shanghai time, HH:MM is the next one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from orchestrator.moments import parse_moment

NOON_UTC = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai


@pytest.mark.parametrize(
    ("text", "expected_utc"),
    [
        ("06:00", "2026-11-28T22:00:00+00:00"),  # 06:00 Shanghai has passed today: tomorrow's
        ("23:30", "2026-11-28T15:30:00+00:00"),  # still ahead today
        ("20:00", "2026-11-29T12:00:00+00:00"),  # exactly now: the next one
        ("2026-11-30 06:00", "2026-11-29T22:00:00+00:00"),  # no offset: Shanghai time, not UTC
        ("2026-11-30T06:00:00+00:00", "2026-11-30T06:00:00+00:00"),  # its own offset is kept
        ("2026-11-30T06:00Z", "2026-11-30T06:00:00+00:00"),
        (" 2026-11-30 ", "2026-11-29T16:00:00+00:00"),  # a date: its midnight in Shanghai
    ],
)
def test_a_typed_time_is_the_moment_an_operator_in_shanghai_means(text: str, expected_utc: str) -> None:
    assert parse_moment(text, now=NOON_UTC).astimezone(UTC).isoformat() == expected_utc


def test_another_zone_can_be_given() -> None:
    london = timezone(timedelta(hours=0))
    assert parse_moment("2026-11-30 06:00", zone=london).isoformat() == "2026-11-30T06:00:00+00:00"


@pytest.mark.parametrize("text", ["tomorrow", "25:00", "6", "", "2026-13-01"])
def test_what_is_not_a_time_is_refused_with_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="is not a time: expected HH:MM"):
        parse_moment(text, now=NOON_UTC)
