"""The audit trail with filters, its chain check, and the retry hot spots of a period."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from orchestrator.dashboard.models import AuditPage, AuditProblemView, HotSpot, HotSpots, VerifyResult
from orchestrator.dashboard.queries.common import json_text
from orchestrator.dashboard.queries.work import audit_view
from orchestrator.store.sql import SQLRunStore, utcnow
from orchestrator.store.tables import AuditRow, StepRow

AUDIT = AuditRow.__table__  # type: ignore[attr-defined]
STEPS = StepRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AuditFilter:
    run_id: str | None = None
    kind: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0


def list_audit(store: SQLRunStore, flt: AuditFilter) -> AuditPage:
    """Newest first. Run, kind and time filters each have an index; actor narrows what they find."""
    query = select(AUDIT)
    if flt.run_id:
        query = query.where(AUDIT.c.run_id == flt.run_id)
    if flt.kind:
        query = query.where(AUDIT.c.kind == flt.kind)
    if flt.actor:
        query = query.where(AUDIT.c.actor == flt.actor)
    if flt.since:
        query = query.where(AUDIT.c.at >= flt.since)
    if flt.until:
        query = query.where(AUDIT.c.at < flt.until)
    query = query.order_by(AUDIT.c.at.desc(), AUDIT.c.id.desc()).limit(flt.limit + 1).offset(flt.offset)
    with store.reading() as conn:
        rows = conn.execute(query).all()
    return AuditPage(
        events=[audit_view(r) for r in rows[: flt.limit]],
        limit=flt.limit,
        offset=flt.offset,
        has_more=len(rows) > flt.limit,
    )


def audit_kinds(store: SQLRunStore) -> list[str]:
    with store.reading() as conn:
        return sorted(k for (k,) in conn.execute(select(AUDIT.c.kind).distinct()))


class ChainCheck:
    """``verify_audit`` is a full scan: its last result is kept and re-run only on request."""

    def __init__(self, store: SQLRunStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self.last: VerifyResult | None = None

    def run(self) -> VerifyResult:
        with self._lock:  # one check at a time, however many people press the button
            started = time.perf_counter()
            report = self.store.verify_audit()
            self.last = VerifyResult(
                ok=report.ok,
                chains=report.chains,
                events=report.events,
                problems=[
                    AuditProblemView(chain=p.chain, seq=p.seq, reason=p.reason) for p in report.problems
                ],
                checked_at=utcnow(),
                seconds=round(time.perf_counter() - started, 3),
            )
            return self.last


def hot_spots(store: SQLRunStore, hours: float, limit: int = 20, now: datetime | None = None) -> HotSpots:
    """Steps and skills with the most retries and failures among step rows finished in the period.

    Two indexed reads: step rows by ``finished_at`` (``ix_step_states_finished``) and
    ``step_retrying`` audit events by kind and time (``ix_audit_kind_at``) — the latter also
    counts retries of steps that have not finished yet.
    """
    since = (now or utcnow()) - timedelta(hours=hours)
    # the period's rows first (materialised), else the planner walks the whole (skill, status)
    # index to save a sort and reads every step row ever written
    period = (
        select(STEPS.c.skill, STEPS.c.step_id, STEPS.c.attempts, STEPS.c.status, STEPS.c.duration_ms)
        .where(STEPS.c.finished_at >= since)
        .cte("period_steps")
        .prefix_with("MATERIALIZED")
    )
    steps = select(
        period.c.skill,
        period.c.step_id,
        func.count(),
        func.sum(case((period.c.attempts > 1, period.c.attempts - 1), else_=0)),
        func.sum(case((period.c.status == "failed", 1), else_=0)),
        func.sum(case((period.c.status == "needs_review", 1), else_=0)),
        func.avg(period.c.duration_ms),
    ).group_by(period.c.skill, period.c.step_id)
    skill = json_text(store, AUDIT.c.payload_json, "skill")
    retries = (
        select(skill, AUDIT.c.step_id, func.count())
        .where(AUDIT.c.kind == "step_retrying", AUDIT.c.at >= since)
        .group_by(skill, AUDIT.c.step_id)
    )
    spots: dict[tuple[str, str], HotSpot] = {}
    with store.reading() as conn:
        for skill_id, step_id, count, extra, failed, review, avg in conn.execute(steps):
            spots[(skill_id, step_id)] = HotSpot(
                skill=skill_id,
                step_id=step_id,
                executions=int(count),
                retries=int(extra or 0),
                retry_events=0,
                failed=int(failed or 0),
                needs_review=int(review or 0),
                avg_ms=round(float(avg), 1) if avg is not None else None,
            )
        for skill_id, step_id, count in conn.execute(retries):
            key = (str(skill_id or "?"), str(step_id or "?"))
            spot = spots.get(key) or HotSpot(
                skill=key[0],
                step_id=key[1],
                executions=0,
                retries=0,
                retry_events=0,
                failed=0,
                needs_review=0,
                avg_ms=None,
            )
            spots[key] = spot.model_copy(update={"retry_events": int(count)})
    ranked = sorted(
        (s for s in spots.values() if s.retries or s.retry_events or s.failed or s.needs_review),
        key=lambda s: (s.retries + s.retry_events + s.failed + s.needs_review, s.executions),
        reverse=True,
    )
    return HotSpots(since=since, hours=hours, spots=ranked[:limit])
