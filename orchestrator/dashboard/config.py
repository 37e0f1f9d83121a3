"""The dashboard's settings: the ``dashboard`` mapping of the ``services`` section of rpa.yaml.

::

    services:
      dashboard:
        timezone: Asia/Shanghai      # "today" and "this month" of the FTE figures, times shown
        session_idle_minutes: 60
        metrics_anonymous: false     # /metrics without a token (only behind a private network)
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from orchestrator.errors import ConfigError
from orchestrator.settings import Settings
from orchestrator.spec.bot import DEFAULT_TIMEZONE


class DashboardSettings(BaseModel):
    """How the dashboard counts, signs people in and locks them out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = Field(DEFAULT_TIMEZONE, description="Time zone of 'today', 'this month' and shown times.")
    window_hours: int = Field(24, ge=1, le=24 * 31, description="Default window of the overview's rates.")
    sla_warning_minutes: float = Field(
        10, ge=0, le=24 * 60, description="An open item is at risk this long before its SLA is due."
    )
    runner_stale_seconds: float = Field(
        90, gt=0, le=3600, description="A runner whose last heartbeat is older is not counted as up."
    )
    poll_seconds: float = Field(5, ge=1, le=300, description="How often the overview refreshes itself.")
    session_idle_minutes: float = Field(60, gt=0, le=24 * 60, description="Sign-out after this long idle.")
    session_max_hours: float = Field(12, gt=0, le=24 * 30, description="Sign-out after this long at most.")
    cookie_secure: bool = Field(
        False, description="Always mark cookies Secure (set when a TLS proxy is in front of the server)."
    )
    lockout_failures: int = Field(5, ge=1, le=100, description="Failed sign-ins that lock an account.")
    lockout_minutes: float = Field(15, gt=0, le=24 * 60, description="Window and duration of a lockout.")
    address_failures: int = Field(
        30, ge=1, le=10_000, description="Failed sign-ins from one address within the lockout window."
    )
    metrics_anonymous: bool = Field(False, description="Serve /metrics without a session or token.")
    admin_name: str = Field("admin", description="Name of the first administrator created at first start.")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (expected an IANA name such as Asia/Shanghai)"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def dashboard_settings(settings: Settings) -> DashboardSettings:
    """Read ``services.dashboard``; a mistake is a ``ConfigError`` naming the field."""
    raw: Any = settings.services.get("dashboard") or {}
    if not isinstance(raw, dict):
        raise ConfigError("services.dashboard: expected a mapping of dashboard settings")
    try:
        return DashboardSettings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"services.dashboard.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid dashboard settings: {problems}") from None
