"""Work items and runs with filters, and one run in detail (steps, audit trail, evidence)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from orchestrator import jsoncodec
from orchestrator.dashboard.models import AuditView, ItemPage, ItemView, RunPage, RunView, StepView
from orchestrator.models import StepRecord
from orchestrator.queue.tables import BotRow, WorkItemRow, status_is
from orchestrator.store.sql import SQLRunStore, aware
from orchestrator.store.tables import AuditRow, RunRow

ITEMS = WorkItemRow.__table__  # type: ignore[attr-defined]
RUNS = RunRow.__table__  # type: ignore[attr-defined]
BOTS = BotRow.__table__  # type: ignore[attr-defined]
AUDIT = AuditRow.__table__  # type: ignore[attr-defined]

PREFIX_END = "\U0010ffff"  # the highest code point: [p, p + this) holds every text starting with p
SECRET_KEY = re.compile(r"(^|[_-])(password|passwd|secret|token|api_?key|pin|otp|credentials?)($|[_-])", re.I)
REDACTED = "***"


def redact(value: Any) -> Any:
    """Mask text under secret-looking keys (the store masks ``secrets.*`` already; this is a second net)."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if isinstance(v, str) and v and SECRET_KEY.search(str(k)) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def shown(value: Any) -> Any:
    """Stored data as JSON for people: exact types flattened, secret-looking values masked."""
    return redact(jsoncodec.to_jsonable(value))


@dataclass(frozen=True)
class WorkFilter:
    """Filters of the items and runs lists (times are UTC instants)."""

    bot: str | None = None
    status: str | None = None
    reference: str | None = None  # prefix
    workflow: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int = 50
    offset: int = 0


def item_view(row: Any) -> ItemView:
    return ItemView(
        id=row.id,
        bot=row.bot,
        reference=row.reference,
        status=row.status,
        priority=row.priority,
        attempts=row.attempts,
        crashes=row.crashes,
        created_at=aware(row.created_at),
        started_at=aware(row.started_at),
        finished_at=aware(row.finished_at),
        sla_due_at=aware(row.sla_due_at),
        run_id=row.run_id,
        reason=row.reason,
        reason_code=row.reason_code,
        parked_step=row.parked_step,
        straight_through=row.straight_through,
        touched_by_person=bool(row.touched_by_person),
    )


def _reference_prefix(query: Any, prefix: str, bot: str | None) -> Any:
    """A prefix match that the unique (bot, reference) index answers (LIKE could not)."""
    query = query.where(ITEMS.c.reference >= prefix, ITEMS.c.reference < prefix + PREFIX_END)
    if bot is None:
        query = query.where(ITEMS.c.bot.in_(select(BOTS.c.name).scalar_subquery()))
    return query


def list_items(store: SQLRunStore, flt: WorkFilter) -> ItemPage:
    query = select(ITEMS)
    if flt.bot:
        query = query.where(ITEMS.c.bot == flt.bot)
    if flt.status:
        query = query.where(status_is(flt.status))
    if flt.reference:
        query = _reference_prefix(query, flt.reference, flt.bot)
    if flt.created_from:
        query = query.where(ITEMS.c.created_at >= flt.created_from)
    if flt.created_to:
        query = query.where(ITEMS.c.created_at < flt.created_to)
    query = (
        query.order_by(ITEMS.c.created_at.desc(), ITEMS.c.id.desc()).limit(flt.limit + 1).offset(flt.offset)
    )
    with store.reading() as conn:
        rows = conn.execute(query).all()
    return ItemPage(
        items=[item_view(r) for r in rows[: flt.limit]],
        limit=flt.limit,
        offset=flt.offset,
        has_more=len(rows) > flt.limit,
    )


def _run_view(row: Any) -> RunView:
    return RunView(
        id=row.id,
        workflow=row.workflow,
        status=row.status,
        bot=row.bot,
        reference=row.reference,
        work_item_id=row.work_item_id,
        executions=row.executions,
        created_at=aware(row.created_at),
        started_at=aware(row.started_at),
        finished_at=aware(row.finished_at),
        reason=row.reason,
        reason_code=row.reason_code,
        parked_step=row.parked_step,
    )


def _runs_query() -> Any:
    return select(
        RUNS.c.id,
        RUNS.c.workflow,
        RUNS.c.status,
        RUNS.c.work_item_id,
        RUNS.c.executions,
        RUNS.c.created_at,
        RUNS.c.started_at,
        RUNS.c.finished_at,
        RUNS.c.reason,
        RUNS.c.reason_code,
        RUNS.c.parked_step,
        ITEMS.c.bot,
        ITEMS.c.reference,
    ).select_from(RUNS.outerjoin(ITEMS, ITEMS.c.id == RUNS.c.work_item_id))


def list_runs(store: SQLRunStore, flt: WorkFilter) -> RunPage:
    query = _runs_query()
    if flt.status:
        query = query.where(RUNS.c.status == flt.status)
    if flt.workflow:
        query = query.where(RUNS.c.workflow == flt.workflow)
    if flt.bot:
        query = query.where(ITEMS.c.bot == flt.bot)
    if flt.reference:
        query = _reference_prefix(query, flt.reference, flt.bot)
    if flt.created_from:
        query = query.where(RUNS.c.created_at >= flt.created_from)
    if flt.created_to:
        query = query.where(RUNS.c.created_at < flt.created_to)
    query = query.order_by(RUNS.c.created_at.desc(), RUNS.c.id.desc()).limit(flt.limit + 1).offset(flt.offset)
    with store.reading() as conn:
        rows = conn.execute(query).all()
    return RunPage(
        runs=[_run_view(r) for r in rows[: flt.limit]],
        limit=flt.limit,
        offset=flt.offset,
        has_more=len(rows) > flt.limit,
    )


def get_run_view(conn: Connection, run_id: str) -> RunView | None:
    row = conn.execute(_runs_query().where(RUNS.c.id == run_id)).first()
    return _run_view(row) if row else None


def get_item_view(conn: Connection, item_id: str | None) -> ItemView | None:
    if not item_id:
        return None
    row = conn.execute(select(ITEMS).where(ITEMS.c.id == item_id)).first()
    return item_view(row) if row else None


def audit_view(row: Any) -> AuditView:
    return AuditView(
        id=row.id,
        at=aware(row.at),
        kind=row.kind,
        actor=row.actor,
        run_id=row.run_id,
        step_id=row.step_id,
        payload=shown(jsoncodec.loads(row.payload_json) or {}),
        chain=row.chain,
        seq=row.seq,
    )


def run_audit(conn: Connection, run_id: str, limit: int = 1000) -> list[AuditView]:
    rows = conn.execute(
        select(AUDIT).where(AUDIT.c.run_id == run_id).order_by(AUDIT.c.at, AUDIT.c.id).limit(limit)
    ).all()
    return [audit_view(r) for r in rows]


def step_views(steps: list[StepRecord]) -> list[StepView]:
    """The timeline: each step row with its start relative to the first step's start."""
    starts = [s.started_at for s in steps if s.started_at is not None]
    origin = min(starts) if starts else None
    views = []
    for s in steps:
        offset = (s.started_at - origin).total_seconds() * 1000 if origin and s.started_at else None
        views.append(
            StepView(
                step_id=s.step_id,
                item_index=s.item_index,
                label=s.step_id if s.item_index < 0 else f"{s.step_id}[{s.item_index}]",
                skill=s.skill,
                effect=s.effect,
                status=s.status.value,
                attempts=s.attempts,
                started_at=s.started_at,
                finished_at=s.finished_at,
                duration_ms=s.duration_ms,
                offset_ms=offset,
                error=s.error,
                error_kind=s.error_kind,
                adopted=s.adopted,
                params=shown(s.params),
                output=shown(s.output),
            )
        )
    return views
