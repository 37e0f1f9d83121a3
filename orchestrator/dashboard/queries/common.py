"""What the dashboard's queries share: time boundaries and the few dialect-specific expressions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import cast, func
from sqlalchemy.dialects.postgresql import JSONB

from orchestrator.store.sql import SQLRunStore


def hour_bucket(store: SQLRunStore, column: Any) -> Any:
    """``YYYY-MM-DD HH`` of a UTC timestamp column, on SQLite and PostgreSQL alike."""
    if store.is_sqlite:
        # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC, see store.sql)
        return func.substr(column, 1, 13)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")


def json_text(store: SQLRunStore, column: Any, key: str) -> Any:
    """The text of ``key`` in a JSON text column."""
    if store.is_sqlite:
        return func.json_extract(column, f"$.{key}")
    return cast(column, JSONB)[key].astext


def hour_label(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H")


@dataclass(frozen=True)
class Clock:
    """The instants a dashboard answer is computed for (UTC), in the operations centre's zone."""

    now: datetime
    zone: ZoneInfo

    @classmethod
    def at(cls, now: datetime, zone: ZoneInfo) -> Clock:
        return cls(now=now.astimezone(UTC), zone=zone)

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.zone)

    @property
    def today_start(self) -> datetime:
        local = self.local_now
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)

    @property
    def month_start(self) -> datetime:
        local = self.local_now
        return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)

    def hours_back(self, hours: float) -> datetime:
        return self.now - timedelta(hours=hours)

    def hour_starts(self, count: int) -> list[datetime]:
        """The starts of the last ``count`` hours, oldest first; the last one is the current hour."""
        current = self.now.replace(minute=0, second=0, microsecond=0)
        return [current - timedelta(hours=count - 1 - i) for i in range(count)]


def ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole
