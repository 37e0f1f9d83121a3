"""Everything the dashboard's routes share, built once per app (``app.state.dashboard``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from orchestrator import jsoncodec
from orchestrator.api.security import Role
from orchestrator.dashboard.config import DashboardSettings
from orchestrator.dashboard.evidence import EvidenceFolder
from orchestrator.dashboard.identity import Caller, Identifier
from orchestrator.dashboard.queries.audit import ChainCheck
from orchestrator.dashboard.queries.overview import MonthToDate
from orchestrator.dashboard.sessions import SessionManager
from orchestrator.dashboard.tokens import TokenRegistry
from orchestrator.dashboard.users import UserDirectory

HERE = Path(__file__).parent
NAV = [
    ("/", "Overview"),
    ("/work/items", "Items"),
    ("/work/runs", "Runs"),
    ("/work/manual", "Manual queue"),
    ("/audit", "Audit"),
    ("/system", "Health"),
]


@dataclass
class Dashboard:
    """The dashboard's parts: settings, users, sessions, tokens, evidence, templates."""

    context: Any  # orchestrator.api.app.ServiceContext
    settings: DashboardSettings
    users: UserDirectory
    tokens: TokenRegistry
    sessions: SessionManager
    identifier: Identifier
    evidence: EvidenceFolder
    chain_check: ChainCheck
    templates: Jinja2Templates
    month: MonthToDate = field(default_factory=MonthToDate)

    @property
    def store(self) -> Any:
        return self.context.runtime.store

    @property
    def queue(self) -> Any:
        return self.context.queue

    @property
    def manual(self) -> Any:
        return self.context.manual

    @property
    def registry(self) -> Any:
        return self.context.runtime.registry

    # -- presentation helpers ---------------------------------------------------------------
    def local(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return value.astimezone(self.settings.zone).strftime("%Y-%m-%d %H:%M:%S")

    def instant(self, value: datetime | None) -> datetime | None:
        """An instant given without an offset is read in the dashboard's time zone."""
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=self.settings.zone)

    def day_bounds(self, start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
        """UTC instants of [start 00:00, end + 1 day 00:00) in the dashboard's time zone."""
        zone = self.settings.zone

        def midnight(day: date) -> datetime:
            return datetime(day.year, day.month, day.day, tzinfo=zone)

        return (midnight(start) if start else None, midnight(end) + timedelta(days=1) if end else None)


def dashboard_of(request: Request) -> Dashboard:
    return request.app.state.dashboard  # type: ignore[no-any-return]


def caller_of(request: Request) -> Caller:
    caller: Caller | None = getattr(request.state, "caller", None)
    if caller is None:  # the gate lets no anonymous request through to these routes
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in first")
    return caller


def require_role(request: Request, role: Role) -> Caller:
    caller = caller_of(request)
    if caller.principal.role < role:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {role.name} role")
    return caller


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(seconds, 0)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        return f"{int(hours)} h {int(minutes % 60)} min"
    return f"{hours / 24:.1f} d"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def build_templates(settings: DashboardSettings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.filters["pct"] = percent
    env.filters["age"] = age_text
    env.filters["pretty"] = lambda v: json.dumps(
        jsoncodec.to_jsonable(v), ensure_ascii=False, indent=2, sort_keys=True
    )
    env.filters["local"] = lambda v: (
        "—" if v is None else v.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M:%S")
    )
    env.filters["short"] = lambda v, n=12: "" if v is None else str(v)[:n]
    env.globals["nav"] = NAV
    env.globals["timezone"] = settings.timezone
    return templates


def render(request: Request, template: str, *, status_code: int = 200, **values: Any) -> Response:
    """An HTML page with what every page needs: the caller, the CSRF token, the navigation."""
    dashboard = dashboard_of(request)
    caller: Caller | None = getattr(request.state, "caller", None)
    context = {
        "caller": caller,
        "csrf": caller.session.csrf if caller and caller.session else "",
        "can_act": bool(caller and caller.principal.role >= Role.operator),
        "path": request.url.path,
        "settings": dashboard.settings,
        **values,
    }
    return dashboard.templates.TemplateResponse(request, template, context, status_code=status_code)
