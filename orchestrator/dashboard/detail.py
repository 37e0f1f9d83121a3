"""A run in detail and the manual queue, as the pages and the JSON API both show them."""

from __future__ import annotations

from orchestrator.api.security import Principal
from orchestrator.dashboard.manual_forms import manual_view
from orchestrator.dashboard.models import ManualView, RunDetail
from orchestrator.dashboard.queries.manual import manual_entries as read_manual_entries
from orchestrator.dashboard.queries.work import (
    get_item_view,
    get_run_view,
    item_view,
    run_audit,
    shown,
    step_views,
)
from orchestrator.dashboard.wiring import Dashboard
from orchestrator.enums import RunStatus
from orchestrator.errors import RunNotFound


def run_detail(dashboard: Dashboard, run_id: str, principal: Principal) -> RunDetail | None:
    try:
        record = dashboard.store.get_run(run_id)
    except RunNotFound:
        return None
    with dashboard.store.reading() as conn:
        run = get_run_view(conn, run_id)
        item = get_item_view(conn, record.work_item_id)
        audit = run_audit(conn, run_id)
    if run is None:
        return None
    steps = dashboard.store.get_steps(run_id)
    manual = None
    if record.status in (RunStatus.needs_review, RunStatus.failed):  # a failed one: retry or reject
        manual = manual_view(dashboard.manual.entry(run_id), dashboard.registry, principal, item)
    return RunDetail(
        run=run,
        inputs=shown(record.inputs),
        outputs=shown(record.outputs),
        overrides=shown(record.overrides),
        item=item,
        steps=step_views(steps),
        audit=audit,
        evidence=[e.view for e in dashboard.evidence.for_run(run_id, audit)],
        manual=manual,
    )


def manual_entries(dashboard: Dashboard, principal: Principal, limit: int = 100) -> list[ManualView]:
    """The runs waiting for a person, oldest reason first as the manual queue lists them."""
    return [
        manual_view(entry, dashboard.registry, principal, item_view(entry.item) if entry.item else None)
        for entry in read_manual_entries(dashboard.store, limit)
    ]
