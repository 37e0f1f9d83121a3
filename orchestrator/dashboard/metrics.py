"""Prometheus metrics at ``/metrics``, read from the store at each scrape.

Gauges (items by bot and status, queue depth, oldest waiting item, runs by status, runner
heartbeat age, capacity and busy slots) are current counts. Step durations, finished steps
and retries are counters *since this server started*: each scrape reads only the step rows
finished and the ``step_retrying`` events written since the previous one (with an overlap,
so a row committed late by another process is still counted, once).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.responses import Response

from orchestrator.dashboard.queries.common import json_text
from orchestrator.queue.tables import RunnerRow, WorkItemRow
from orchestrator.store.sql import SQLRunStore, aware, utcnow
from orchestrator.store.tables import AuditRow, RunRow, StepRow

ITEMS = WorkItemRow.__table__  # type: ignore[attr-defined]
RUNS = RunRow.__table__  # type: ignore[attr-defined]
STEPS = StepRow.__table__  # type: ignore[attr-defined]
AUDIT = AuditRow.__table__  # type: ignore[attr-defined]
RUNNERS = RunnerRow.__table__  # type: ignore[attr-defined]

BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
OVERLAP = timedelta(seconds=120)


class _Histogram:
    def __init__(self) -> None:
        self.counts = [0] * len(BUCKETS)
        self.total = 0
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.total += 1
        self.sum += seconds
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.counts[i] += 1

    def buckets(self) -> list[tuple[str, float]]:
        return [(repr(b), c) for b, c in zip(BUCKETS, self.counts, strict=True)] + [("+Inf", self.total)]


class _Since:
    """Rows newer than a watermark, each counted once (keys seen inside the overlap are skipped)."""

    def __init__(self, start: datetime) -> None:
        self.watermark = start
        self.start = start
        self.seen: dict[tuple[object, ...], datetime] = {}

    def window_start(self) -> datetime:
        return max(self.start, self.watermark - OVERLAP)

    def fresh(self, key: tuple[object, ...], at: datetime) -> bool:
        if key in self.seen:
            return False
        self.seen[key] = at
        self.watermark = max(self.watermark, at)
        return True

    def forget_old(self) -> None:
        horizon = self.watermark - OVERLAP
        self.seen = {k: at for k, at in self.seen.items() if at >= horizon}


class StoreCollector(Collector):
    """Collects the dashboard's metrics from the store."""

    def __init__(self, store: SQLRunStore, stale_after: timedelta) -> None:
        self.store = store
        self.stale_after = stale_after
        started = utcnow()
        self._lock = threading.Lock()
        self._steps = _Since(started)
        self._retry_events = _Since(started)
        self._durations: dict[tuple[str, str], _Histogram] = defaultdict(_Histogram)
        self._retries: dict[str, int] = defaultdict(int)

    def collect(self) -> Iterator[object]:
        with self._lock:
            yield from self._gauges()
            yield from self._counters()

    def _gauges(self) -> Iterator[object]:
        now = utcnow()
        items = GaugeMetricFamily("rpa_work_items", "Work items by bot and status.", labels=["bot", "status"])
        depth = GaugeMetricFamily("rpa_queue_depth", "Items waiting for a runner.", labels=["bot"])
        oldest = GaugeMetricFamily(
            "rpa_oldest_waiting_seconds", "Age of the oldest waiting item.", labels=["bot"]
        )
        runs = GaugeMetricFamily("rpa_runs", "Runs by status.", labels=["status"])
        age = GaugeMetricFamily(
            "rpa_runner_heartbeat_age_seconds", "Seconds since each runner's heartbeat.", labels=["runner"]
        )
        capacity = GaugeMetricFamily(
            "rpa_runner_capacity", "Items a runner can work on at once.", labels=["runner"]
        )
        busy = GaugeMetricFamily("rpa_runner_busy", "Items a runner is working on.", labels=["runner"])
        up = GaugeMetricFamily("rpa_runners_up", "Runners with a heartbeat younger than the stale limit.")
        with self.store.reading() as conn:
            for bot, status, count in conn.execute(
                select(ITEMS.c.bot, ITEMS.c.status, func.count()).group_by(ITEMS.c.bot, ITEMS.c.status)
            ):
                items.add_metric([bot, status], int(count))
            for bot, count, first in conn.execute(
                select(ITEMS.c.bot, func.count(), func.min(ITEMS.c.created_at))
                .where(ITEMS.c.status == "new")
                .group_by(ITEMS.c.bot)
            ):
                depth.add_metric([bot], int(count))
                first_at = aware(first) if isinstance(first, datetime) else None
                oldest.add_metric([bot], (now - first_at).total_seconds() if first_at else 0.0)
            for status, count in conn.execute(select(RUNS.c.status, func.count()).group_by(RUNS.c.status)):
                runs.add_metric([status], int(count))
            live = 0
            for r in conn.execute(select(RUNNERS).where(RUNNERS.c.stopped_at.is_(None))):
                seconds = (now - (aware(r.heartbeat_at) or now)).total_seconds()
                age.add_metric([r.id], seconds)
                capacity.add_metric([r.id], int(r.capacity))
                busy.add_metric([r.id], int(r.busy))
                live += seconds <= self.stale_after.total_seconds()
        up.add_metric([], live)
        yield from (items, depth, oldest, runs, age, capacity, busy, up)

    def _counters(self) -> Iterator[object]:
        skill = json_text(self.store, AUDIT.c.payload_json, "skill")
        with self.store.reading() as conn:
            rows = conn.execute(
                select(
                    STEPS.c.id, STEPS.c.skill, STEPS.c.status, STEPS.c.duration_ms, STEPS.c.finished_at
                ).where(STEPS.c.finished_at >= self._steps.window_start())
            ).all()
            events = conn.execute(
                select(AUDIT.c.id, skill, AUDIT.c.at).where(
                    AUDIT.c.kind == "step_retrying", AUDIT.c.at >= self._retry_events.window_start()
                )
            ).all()
        for step_row, skill_id, status, duration_ms, finished in rows:
            finished_at = aware(finished)
            if finished_at is None or not self._steps.fresh((step_row, finished_at), finished_at):
                continue
            self._durations[(skill_id, status)].observe((duration_ms or 0.0) / 1000)
        for event_id, skill_id, at in events:
            at_aware = aware(at)
            if at_aware is not None and self._retry_events.fresh((event_id,), at_aware):
                self._retries[str(skill_id or "?")] += 1
        self._steps.forget_old()
        self._retry_events.forget_old()
        durations = HistogramMetricFamily(
            "rpa_step_duration_seconds",
            "Duration of finished steps (last attempt) since this server started.",
            labels=["skill", "status"],
        )
        finished_total = CounterMetricFamily(
            "rpa_steps_finished", "Steps finished since this server started.", labels=["skill", "status"]
        )
        for (skill_id, status), histogram in sorted(self._durations.items()):
            durations.add_metric([skill_id, status], histogram.buckets(), sum_value=histogram.sum)
            finished_total.add_metric([skill_id, status], histogram.total)
        retries = CounterMetricFamily(
            "rpa_step_retries", "Step attempts retried since this server started.", labels=["skill"]
        )
        for skill_id, count in sorted(self._retries.items()):
            retries.add_metric([skill_id], count)
        yield from (durations, finished_total, retries)


def build_metrics_router(store: SQLRunStore, stale_after: timedelta) -> APIRouter:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store, stale_after))
    router = APIRouter()

    @router.get("/metrics", tags=["metrics"], response_class=Response)
    def metrics(_request: Request) -> Response:
        """Prometheus text format (a viewer's session or a token with the read scope)."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
