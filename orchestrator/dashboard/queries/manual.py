"""The manual queue read in three queries, whatever its length.

``ManualQueue.entries`` reads each parked run, its steps and its item one by one (three
round trips per entry: 100 entries cost about 0.6 s on PostgreSQL). The page needs the same
``ManualEntry`` records, so they are built here from one query per table — runs waiting for a
person (``ix_runs_status_created``), their parked step rows (``uq_step_states_run_step_item``)
and their items (``ix_work_items_run_id``) — with the store's own row converters.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from orchestrator import jsoncodec
from orchestrator.enums import RunStatus, StepStatus
from orchestrator.models import StepRecord
from orchestrator.queue.manual import ManualEntry
from orchestrator.queue.store import ITEMS
from orchestrator.queue.store import _item as item_record
from orchestrator.store.sql import RUNS, STEPS, SQLRunStore, aware


def _step(row: Any) -> StepRecord:
    return StepRecord(
        run_id=row.run_id,
        step_id=row.step_id,
        item_index=row.item_index,
        status=StepStatus(row.status),
        skill=row.skill,
        effect=row.effect,
        attempts=row.attempts,
        idempotency_key=row.idempotency_key,
        params=jsoncodec.loads(row.params_json),
        output=jsoncodec.loads(row.output_json),
        error=row.error,
        error_kind=row.error_kind,
        adopted=bool(row.adopted),
        started_at=aware(row.started_at),
        finished_at=aware(row.finished_at),
        duration_ms=row.duration_ms,
    )


def manual_entries(store: SQLRunStore, limit: int = 100) -> list[ManualEntry]:
    """Runs waiting for a person, newest first (as ``ManualQueue.entries`` orders them)."""
    with store.reading() as conn:
        runs = conn.execute(
            select(RUNS)
            .where(RUNS.c.status == RunStatus.needs_review.value)
            .order_by(RUNS.c.created_at.desc(), RUNS.c.id.desc())
            .limit(limit)
        ).all()
        parked = {r.id: r.parked_step for r in runs if r.parked_step}
        steps: dict[str, StepRecord] = {}
        if parked:
            # by run id only: SQLite answers a (run_id, step_id) row-value IN with a full scan
            query = select(STEPS).where(STEPS.c.run_id.in_(list(parked))).order_by(STEPS.c.id)
            for row in conn.execute(query):
                if row.step_id == parked[row.run_id]:
                    steps[row.run_id] = _step(row)  # the last row of the step, as ManualQueue.entry takes
        items = {}
        if runs:
            for row in conn.execute(select(ITEMS).where(ITEMS.c.run_id.in_([r.id for r in runs]))):
                items[row.run_id] = item_record(row)
    return [
        ManualEntry(run=SQLRunStore._run_record(r), item=items.get(r.id), step=steps.get(r.id)) for r in runs
    ]
