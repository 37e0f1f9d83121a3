"""The HTML pages: overview, work (items, runs, run detail, manual queue), audit and health."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, RedirectResponse, Response

from orchestrator.api.security import Role
from orchestrator.dashboard.detail import manual_entries, run_detail
from orchestrator.dashboard.manual_forms import corrections_from_form
from orchestrator.dashboard.queries.audit import AuditFilter, audit_kinds, hot_spots, list_audit
from orchestrator.dashboard.queries.overview import overview
from orchestrator.dashboard.queries.system import system_view
from orchestrator.dashboard.queries.work import WorkFilter, list_items, list_runs, run_audit
from orchestrator.dashboard.wiring import caller_of, dashboard_of, render, require_role
from orchestrator.enums import RunStatus
from orchestrator.errors import RunNotFound
from orchestrator.moments import parse_moment
from orchestrator.queue.manual import ManualActionError
from orchestrator.queue.models import ItemStatus

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
ACTIONS = ("retry", "resume", "approve", "reject")
BULK_RETRY = "retry-failed"  # every failed item back to the queue, after an outage


class FilterError(ValueError):
    """A filter of a list page cannot be read."""


def _text(request: Request, name: str, limit: int = 400) -> str | None:
    value = (request.query_params.get(name) or "").strip()
    return value[:limit] or None


def _day(request: Request, name: str) -> date | None:
    value = _text(request, name, 20)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{name}: expected a date as YYYY-MM-DD, got {value!r}") from None


def _choice(request: Request, name: str, allowed: list[str]) -> str | None:
    value = _text(request, name, 40)
    if value is not None and value not in allowed:
        raise FilterError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _number(request: Request, name: str, default: float, low: float, high: float) -> float:
    value = _text(request, name, 20)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise FilterError(f"{name}: expected a number, got {value!r}") from None
    if not low <= number <= high:
        raise FilterError(f"{name}: expected a number from {low:g} to {high:g}, got {value}")
    return number


def _work_filter(request: Request, statuses: list[str]) -> WorkFilter:
    dashboard = dashboard_of(request)
    start, end = dashboard.day_bounds(_day(request, "from"), _day(request, "to"))
    page = int(_number(request, "page", 1, 1, 100_000))
    return WorkFilter(
        bot=_text(request, "bot", 200),
        status=_choice(request, "status", statuses),
        reference=_text(request, "reference"),
        workflow=_text(request, "workflow", 200),
        created_from=start,
        created_to=end,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )


def _filters_echo(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k != "page" and v}


@router.get("/")
def overview_page(request: Request) -> Response:
    dashboard = dashboard_of(request)
    try:
        hours = _number(request, "hours", dashboard.settings.window_hours, 1, 24 * 31)
    except FilterError as exc:
        return render(request, "error.html", status_code=400, message=str(exc))
    data = overview(dashboard.store, dashboard.settings, hours=hours, month=dashboard.month)
    return render(request, "overview.html", data=data, hours=hours, poll=dashboard.settings.poll_seconds)


@router.get("/work/items")
def items_page(request: Request) -> Response:
    dashboard = dashboard_of(request)
    bots = [b.name for b in dashboard.queue.list_bots()]
    statuses = [s.value for s in ItemStatus]
    try:
        flt = _work_filter(request, statuses)
    except FilterError as exc:
        return render(
            request,
            "items.html",
            status_code=400,
            error=str(exc),
            page=None,
            bots=bots,
            statuses=statuses,
            filters=_filters_echo(request),
            number=1,
        )
    page = list_items(dashboard.store, flt)
    return render(
        request,
        "items.html",
        page=page,
        bots=bots,
        statuses=statuses,
        filters=_filters_echo(request),
        number=flt.offset // PAGE_SIZE + 1,
        error="",
    )


@router.get("/work/runs")
def runs_page(request: Request) -> Response:
    dashboard = dashboard_of(request)
    bots = [b.name for b in dashboard.queue.list_bots()]
    statuses = [s.value for s in RunStatus]
    try:
        flt = _work_filter(request, statuses)
    except FilterError as exc:
        return render(
            request,
            "runs.html",
            status_code=400,
            error=str(exc),
            page=None,
            bots=bots,
            statuses=statuses,
            filters=_filters_echo(request),
            number=1,
        )
    page = list_runs(dashboard.store, flt)
    return render(
        request,
        "runs.html",
        page=page,
        bots=bots,
        statuses=statuses,
        filters=_filters_echo(request),
        number=flt.offset // PAGE_SIZE + 1,
        error="",
    )


@router.get("/work/runs/{run_id}")
def run_page(request: Request, run_id: str) -> Response:
    dashboard = dashboard_of(request)
    detail = run_detail(dashboard, run_id[:64], caller_of(request).principal)
    if detail is None:
        return render(request, "error.html", status_code=404, message=f"There is no run {run_id[:64]!r}.")
    ok = request.query_params.get("ok")
    return render(request, "run.html", detail=detail, done=ok if ok in ACTIONS else None, error="")


def _manual_page(
    request: Request,
    *,
    status_code: int = 200,
    done: str | None = None,
    error: str = "",
    retried: int = 0,
    not_retried: Sequence[dict[str, str]] = (),
) -> Response:
    dashboard = dashboard_of(request)
    return render(
        request,
        "manual.html",
        status_code=status_code,
        entries=manual_entries(dashboard, caller_of(request).principal),
        failed=dashboard.queue.status_counts(statuses=[ItemStatus.failed]).get(ItemStatus.failed, 0),
        done=done,
        error=error,
        retried=retried,
        not_retried=not_retried,
    )


@router.get("/work/manual")
def manual_page(request: Request) -> Response:
    ok = request.query_params.get("ok")
    return _manual_page(request, done=ok if ok in (*ACTIONS, BULK_RETRY) else None)


@router.post("/work/manual/retry-failed")
async def retry_failed_action(request: Request) -> Response:
    """Every failed item back to the queue (after an outage); each retry is audited."""
    dashboard = dashboard_of(request)
    caller = require_role(request, Role.operator)
    form: dict[str, Any] = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    note = str(form.get("note", ""))[:2000]
    try:
        not_before = _not_before(form)
    except ManualActionError as exc:
        message = str(exc)
        return await run_in_threadpool(lambda: _manual_page(request, status_code=409, error=message))
    skipped: list[tuple[Any, str]] = []
    retried = await run_in_threadpool(
        lambda: dashboard.manual.retry_failed(
            caller.principal.user, note=note, not_before=not_before, skipped=skipped
        )
    )
    if skipped:  # the others went back; list the ones that stay failed, why, and a link to each
        not_retried = [
            {
                "run_id": entry.run.id,
                "reference": entry.item.reference if entry.item else entry.run.id,
                "why": why,
            }
            for entry, why in skipped
        ]
        return await run_in_threadpool(
            lambda: _manual_page(request, retried=len(retried), not_retried=not_retried)
        )
    return RedirectResponse(f"/work/manual?ok={BULK_RETRY}", status_code=303)


def _not_before(form: dict[str, Any]) -> datetime | None:
    """The retry form's optional "not before" time (06:00, a Shanghai date-time, or ISO 8601)."""
    text = str(form.get("not_before", "")).strip()[:64]
    if not text:
        return None
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise ManualActionError(f"not before: {exc}; nothing was changed") from None


@router.post("/work/manual/{run_id}/{action}")
async def manual_action(request: Request, run_id: str, action: str) -> Response:
    """A person's decision on a parked run, from the run page or the manual queue page."""
    dashboard = dashboard_of(request)
    caller = require_role(request, Role.operator)
    form: dict[str, Any] = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    back = "/work/manual" if form.get("back") == "manual" else f"/work/runs/{run_id}"
    user = caller.principal.user
    note = str(form.get("note", ""))[:2000]

    def act() -> None:
        if action == "retry":
            dashboard.manual.retry(run_id, user, note, not_before=_not_before(form))
        elif action == "resume":
            detail = run_detail(dashboard, run_id, caller.principal)
            if detail is None or detail.manual is None:
                raise ManualActionError(f"run {run_id} is not waiting for a person")
            if "resume" not in detail.manual.actions:
                raise ManualActionError(
                    f"run {run_id} waits for {detail.manual.reason_code}: approve or reject it (four-eyes)"
                )
            corrections = corrections_from_form(detail.manual.fields, form)
            if not corrections:
                raise ManualActionError("nothing was changed: correct at least one argument, or use retry")
            dashboard.manual.resume(run_id, user, corrections, note)
        elif action == "approve":
            dashboard.manual.approve(run_id, user, note)
        elif action == "reject":
            dashboard.manual.reject(run_id, user, str(form.get("reason", ""))[:2000])
        else:
            raise ManualActionError(f"unknown action {action!r}: expected {', '.join(ACTIONS)}")

    try:
        await run_in_threadpool(act)
    except (ManualActionError, RunNotFound) as exc:
        message = str(exc) if isinstance(exc, ManualActionError) else f"there is no run {run_id}"
        if back == "/work/manual":
            return await run_in_threadpool(lambda: _manual_page(request, status_code=409, error=message))
        detail = await run_in_threadpool(run_detail, dashboard, run_id, caller.principal)
        if detail is None:
            return render(request, "error.html", status_code=404, message=message)
        return render(request, "run.html", status_code=409, detail=detail, done=None, error=message)
    return RedirectResponse(f"{back}?ok={action}", status_code=303)


@router.get("/evidence/{run_id}/{file}")
def evidence_file(request: Request, run_id: str, file: str) -> Response:
    dashboard = dashboard_of(request)
    with dashboard.store.reading() as conn:
        audit = run_audit(conn, run_id[:64])
    found = dashboard.evidence.find(run_id[:64], file, audit)
    if found is None:
        return render(request, "error.html", status_code=404, message="No such evidence for this run.")
    inline = found.view.media_type in {"image/png", "image/jpeg", "image/gif", "image/webp"}
    return FileResponse(
        found.path,
        media_type=found.view.media_type if inline else "application/octet-stream",
        filename=found.view.file,
        content_disposition_type="inline" if inline else "attachment",
        headers={"content-security-policy": "default-src 'none'; img-src 'self'; sandbox"},
    )


@router.get("/audit")
def audit_page(request: Request) -> Response:
    dashboard = dashboard_of(request)
    kinds = audit_kinds(dashboard.store)
    filters = _filters_echo(request)
    try:
        start, end = dashboard.day_bounds(_day(request, "from"), _day(request, "to"))
        page_number = int(_number(request, "page", 1, 1, 100_000))
        flt = AuditFilter(
            run_id=_text(request, "run", 64),
            kind=_text(request, "kind", 60),
            actor=_text(request, "actor", 200),
            since=start,
            until=end,
            limit=PAGE_SIZE,
            offset=(page_number - 1) * PAGE_SIZE,
        )
    except FilterError as exc:
        return render(
            request,
            "audit.html",
            status_code=400,
            error=str(exc),
            page=None,
            kinds=kinds,
            filters=filters,
            verify=dashboard.chain_check.last,
            number=1,
        )
    if request.query_params.get("verify") == "1":
        dashboard.chain_check.run()
    page = list_audit(dashboard.store, flt)
    return render(
        request,
        "audit.html",
        page=page,
        kinds=kinds,
        filters=filters,
        verify=dashboard.chain_check.last,
        number=page_number,
        error="",
    )


@router.get("/system")
def system_page(request: Request) -> Response:
    from datetime import timedelta

    dashboard = dashboard_of(request)
    try:
        hours = _number(request, "hours", 24, 1, 24 * 31)
    except FilterError as exc:
        return render(request, "error.html", status_code=400, message=str(exc))
    system = system_view(dashboard.queue, timedelta(seconds=dashboard.settings.runner_stale_seconds))
    spots = hot_spots(dashboard.store, hours)
    return render(request, "system.html", system=system, spots=spots, hours=hours)
