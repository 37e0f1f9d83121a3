"""Runners with their last heartbeat and held leases, and every capacity slot."""

from __future__ import annotations

from datetime import datetime, timedelta

from orchestrator.dashboard.models import LeaseView, RunnerView, SlotView, SystemView
from orchestrator.queue.store import SQLWorkQueue
from orchestrator.store.sql import utcnow


def system_view(queue: SQLWorkQueue, stale_after: timedelta, now: datetime | None = None) -> SystemView:
    now = now or utcnow()
    runners = []
    for r in queue.runners():
        beat = r["heartbeat_at"]
        age = (now - beat).total_seconds() if beat else None
        runners.append(
            RunnerView(
                id=r["id"],
                host=r["host"],
                pid=r["pid"],
                capacity=r["capacity"],
                busy=r["busy"],
                started_at=r["started_at"],
                heartbeat_at=beat,
                heartbeat_age_seconds=age,
                stopped_at=r["stopped_at"],
                up=r["stopped_at"] is None and age is not None and age <= stale_after.total_seconds(),
                leases=[LeaseView(**s) for s in r["slots"]],
            )
        )
    slots = [SlotView(**s) for s in queue.slot_usage()]
    return SystemView(runners=runners, slots=slots)
