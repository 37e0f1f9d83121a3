"""Business-day calendars for cron triggers (holidays skipped, make-up working days kept).

A calendar file::

    name: China interbank 2026
    weekend: [sat, sun]
    holidays: [2026-01-01, 2026-02-15..2026-02-23, 2026-10-01..2026-10-07]
    working_days: [2026-02-14, 2026-02-28]   # 调休: weekend days that are working days
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from orchestrator.errors import ConfigError

WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def _expand(entries: list[str]) -> set[date]:
    days: set[date] = set()
    for entry in entries:
        text = str(entry).strip()
        if ".." in text:
            start_text, end_text = (p.strip() for p in text.split("..", 1))
            start, end = date.fromisoformat(start_text), date.fromisoformat(end_text)
            if end < start:
                raise ValueError(f"range {text!r} ends before it starts")
            if (end - start).days > 366:
                raise ValueError(f"range {text!r} is longer than a year")
            days.update(start + timedelta(days=i) for i in range((end - start).days + 1))
        else:
            days.add(date.fromisoformat(text))
    return days


class CalendarFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", description="Calendar name.")
    weekend: list[str] = Field(default_factory=lambda: ["sat", "sun"], description="Weekly days off.")
    holidays: list[str] = Field(default_factory=list, description="Dates or ranges 'YYYY-MM-DD..YYYY-MM-DD'.")
    working_days: list[str] = Field(default_factory=list, description="Weekend dates that are working days.")

    @field_validator("weekend")
    @classmethod
    def _weekend(cls, value: list[str]) -> list[str]:
        for day in value:
            if day.lower()[:3] not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; expected mon, tue, wed, thu, fri, sat or sun")
        return value

    @field_validator("holidays", "working_days")
    @classmethod
    def _dates(cls, value: list[str]) -> list[str]:
        _expand(value)
        return value


@dataclass(frozen=True)
class BusinessCalendar:
    name: str
    weekend: frozenset[int]
    holidays: frozenset[date] = field(default_factory=frozenset)
    working_days: frozenset[date] = field(default_factory=frozenset)

    def is_business_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        if day in self.holidays:
            return False
        return day.weekday() not in self.weekend


def calendar_from_data(data: Any, name: str = "") -> BusinessCalendar:
    parsed = CalendarFile.model_validate(data or {})
    return BusinessCalendar(
        name=parsed.name or name,
        weekend=frozenset(WEEKDAYS[d.lower()[:3]] for d in parsed.weekend),
        holidays=frozenset(_expand(parsed.holidays)),
        working_days=frozenset(_expand(parsed.working_days)),
    )


def load_calendar(path: str | Path) -> BusinessCalendar:
    from orchestrator.spec.diagnostics import validation_diagnostics
    from orchestrator.spec.yamlsource import load_yaml_file

    doc = load_yaml_file(path)
    if doc.errors:
        raise ConfigError("; ".join(str(d) for d in doc.errors))
    try:
        return calendar_from_data(doc.data, Path(path).stem)
    except ValidationError as exc:
        raise ConfigError(
            "; ".join(str(d) for d in validation_diagnostics(exc, doc, model=CalendarFile))
        ) from None
