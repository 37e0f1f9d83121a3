"""``/api/dashboard/...``: every page's data as JSON (viewer role; OpenAPI at /openapi.json)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from orchestrator.api.security import Role, require
from orchestrator.dashboard.detail import manual_entries, run_detail
from orchestrator.dashboard.models import (
    AuditPage,
    HotSpots,
    ItemPage,
    ManualView,
    Me,
    Overview,
    RunDetail,
    RunPage,
    SystemView,
    VerifyResult,
)
from orchestrator.dashboard.queries.audit import AuditFilter, hot_spots, list_audit
from orchestrator.dashboard.queries.overview import overview
from orchestrator.dashboard.queries.system import system_view
from orchestrator.dashboard.queries.work import WorkFilter, list_items, list_runs
from orchestrator.dashboard.wiring import caller_of, dashboard_of
from orchestrator.enums import RunStatus
from orchestrator.queue.models import ItemStatus


def build_dashboard_api() -> APIRouter:
    api = APIRouter(prefix="/api/dashboard", tags=["dashboard"], dependencies=[Depends(require(Role.viewer))])

    @api.get("/me", response_model=Me)
    def me(request: Request) -> Me:
        """Who the caller is and which role they have."""
        principal = caller_of(request).principal
        return Me(user=principal.user, role=principal.role.name, via=principal.via)

    @api.get("/overview", response_model=Overview)
    def overview_json(
        request: Request,
        hours: float | None = Query(None, gt=0, le=24 * 31, description="Window of the rates (default 24)."),
    ) -> Overview:
        """Throughput, rates, queue depth, SLA risk, runs in flight, runners and FTE hours saved."""
        dashboard = dashboard_of(request)
        return overview(dashboard.store, dashboard.settings, hours=hours, month=dashboard.month)

    def _work(
        request: Request,
        bot: str | None,
        status_: str | None,
        reference: str | None,
        workflow: str | None,
        day_from: date | None,
        day_to: date | None,
        limit: int,
        offset: int,
    ) -> WorkFilter:
        start, end = dashboard_of(request).day_bounds(day_from, day_to)
        return WorkFilter(
            bot=bot,
            status=status_,
            reference=reference,
            workflow=workflow,
            created_from=start,
            created_to=end,
            limit=limit,
            offset=offset,
        )

    @api.get("/items", response_model=ItemPage)
    def items(
        request: Request,
        bot: str | None = Query(None, max_length=200),
        status_: ItemStatus | None = Query(None, alias="status"),
        reference: str | None = Query(None, max_length=400, description="Reference starts with this."),
        day_from: date | None = Query(
            None, alias="from", description="Created on or after (dashboard time zone)."
        ),
        day_to: date | None = Query(None, alias="to", description="Created on or before."),
        limit: int = Query(50, ge=1, le=1000),
        offset: int = Query(0, ge=0),
    ) -> ItemPage:
        """Work items, newest first."""
        flt = _work(
            request, bot, status_.value if status_ else None, reference, None, day_from, day_to, limit, offset
        )
        return list_items(dashboard_of(request).store, flt)

    @api.get("/runs", response_model=RunPage)
    def runs(
        request: Request,
        bot: str | None = Query(None, max_length=200),
        status_: RunStatus | None = Query(None, alias="status"),
        workflow: str | None = Query(None, max_length=200),
        reference: str | None = Query(None, max_length=400),
        day_from: date | None = Query(None, alias="from"),
        day_to: date | None = Query(None, alias="to"),
        limit: int = Query(50, ge=1, le=1000),
        offset: int = Query(0, ge=0),
    ) -> RunPage:
        """Runs, newest first, with their work item's bot and reference."""
        flt = _work(
            request,
            bot,
            status_.value if status_ else None,
            reference,
            workflow,
            day_from,
            day_to,
            limit,
            offset,
        )
        return list_runs(dashboard_of(request).store, flt)

    @api.get("/runs/{run_id}", response_model=RunDetail)
    def run(request: Request, run_id: str) -> RunDetail:
        """One run: step timeline, inputs and outputs (masked), audit events, evidence, manual actions."""
        detail = run_detail(dashboard_of(request), run_id[:64], caller_of(request).principal)
        if detail is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run {run_id[:64]}")
        return detail

    @api.get("/manual", response_model=list[ManualView])
    def manual(request: Request, limit: int = Query(100, ge=1, le=1000)) -> list[ManualView]:
        """Runs waiting for a person, with the actions the caller may take and the correction form."""
        return manual_entries(dashboard_of(request), caller_of(request).principal, limit)

    @api.get("/audit", response_model=AuditPage)
    def audit(
        request: Request,
        run: str | None = Query(None, max_length=64),
        kind: str | None = Query(None, max_length=60),
        actor: str | None = Query(None, max_length=200),
        day_from: date | None = Query(None, alias="from", description="From this day (dashboard time zone)."),
        day_to: date | None = Query(None, alias="to", description="Up to this day, included."),
        since: datetime | None = Query(
            None, description="From this instant (no offset: dashboard time zone)."
        ),
        until: datetime | None = Query(None, description="Before this instant."),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
    ) -> AuditPage:
        """Audit events, newest first."""
        dashboard = dashboard_of(request)
        start, end = dashboard.day_bounds(day_from, day_to)
        start = dashboard.instant(since) or start
        end = dashboard.instant(until) or end
        flt = AuditFilter(
            run_id=run, kind=kind, actor=actor, since=start, until=end, limit=limit, offset=offset
        )
        return list_audit(dashboard_of(request).store, flt)

    @api.get("/audit/verify", response_model=VerifyResult)
    def verify(request: Request) -> VerifyResult:
        """Recompute every audit chain now (a full scan of the trail)."""
        return dashboard_of(request).chain_check.run()

    @api.get("/hotspots", response_model=HotSpots)
    def hotspots(request: Request, hours: float = Query(24, gt=0, le=24 * 31)) -> HotSpots:
        """Steps and skills with the most retries and failures in the last ``hours``."""
        return hot_spots(dashboard_of(request).store, hours)

    @api.get("/system", response_model=SystemView)
    def system(request: Request) -> SystemView:
        """Runners with their heartbeat and held leases; every capacity slot."""
        dashboard = dashboard_of(request)
        return system_view(dashboard.queue, timedelta(seconds=dashboard.settings.runner_stale_seconds))

    return api
