"""The overview: throughput, rates, queue, SLA risk, runners and FTE hours saved, per bot and in total.

Indexed queries in one read transaction (one consistent snapshot):

1. items finished since the earliest of the window, today and the last 24 hours, per bot,
   status and hour, with conditional sums — covering index ``ix_work_items_finished``
   (status, finished_at, bot, straight_through; finished items only);
2. done items per bot from the first of the month to today — same index, once a day
   (``MonthToDate``);
3. open items (new, in progress, waiting for a person) per bot with their oldest age and SLA
   risk — ``ix_work_items_open`` (status, created_at; unfinished items only);
4. runs in flight or waiting, by status — ``ix_runs_status_created``;
5. bots and runners (small tables).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select

from orchestrator import jsoncodec
from orchestrator.dashboard.config import DashboardSettings
from orchestrator.dashboard.models import BotOverview, Overview, RunnerSummary
from orchestrator.dashboard.queries.common import Clock, hour_bucket, hour_label, ratio
from orchestrator.queue.models import ItemStatus
from orchestrator.queue.tables import BotRow, RunnerRow, WorkItemRow, status_is
from orchestrator.store.sql import SQLRunStore, aware, utcnow
from orchestrator.store.tables import RunRow

ITEMS = WorkItemRow.__table__  # type: ignore[attr-defined]
RUNS = RunRow.__table__  # type: ignore[attr-defined]
BOTS = BotRow.__table__  # type: ignore[attr-defined]
RUNNERS = RunnerRow.__table__  # type: ignore[attr-defined]

FINISHED = (ItemStatus.done.value, ItemStatus.failed.value, ItemStatus.rejected.value)
OPEN = (ItemStatus.new.value, ItemStatus.in_progress.value, ItemStatus.needs_review.value)
SERIES_HOURS = 24

FORMULAS = {
    "success_rate": "done ÷ (done + failed + rejected), items finished in the window",
    "straight_through_rate": "done without a person ÷ done, items finished in the window",
    "fte_hours": "done items × the bot's minutes_saved_per_item ÷ 60",
    "sla_at_risk": "open items whose SLA is due within {warning} min (breached: already past due)",
    "utilisation": "busy ÷ capacity of runners whose heartbeat is under {stale} s old",
}


def _as_int(value: Any) -> int:
    return int(value or 0)


class _Tally:
    """Figures of one bot while the queries are read."""

    def __init__(self) -> None:
        self.window: dict[str, int] = defaultdict(int)
        self.straight_through = 0
        self.done_today = 0
        self.done_month = 0
        self.open: dict[str, int] = defaultdict(int)
        self.oldest_waiting: datetime | None = None
        self.sla_breached = 0
        self.sla_at_risk = 0
        self.hourly: dict[str, int] = defaultdict(int)


def _finished(
    conn: Connection, store: SQLRunStore, clock: Clock, window_start: datetime, tallies: dict[str, _Tally]
) -> None:
    """Window counts, straight-through, done today and done per hour, in one pass.

    The finished rows since the earliest boundary are taken first (a materialised CTE, so the
    planner walks the covering (status, finished_at, bot, straight_through) index over that
    range instead of the whole (bot, status) index), then grouped by bot, status and hour.
    """
    hour_start = clock.hour_starts(SERIES_HOURS)[0]
    since = min(window_start, clock.today_start, hour_start)
    rows = (
        select(ITEMS.c.bot, ITEMS.c.status, ITEMS.c.finished_at, ITEMS.c.straight_through)
        .where(ITEMS.c.status.in_(FINISHED), ITEMS.c.finished_at >= since)
        .cte("finished")
        .prefix_with("MATERIALIZED")
    )
    in_window = rows.c.finished_at >= window_start
    bucket = hour_bucket(store, rows.c.finished_at)
    query = select(
        rows.c.bot,
        rows.c.status,
        bucket,
        func.count(),
        func.sum(case((in_window, 1), else_=0)),
        func.sum(case((in_window & rows.c.straight_through.is_(True), 1), else_=0)),
        func.sum(case((rows.c.finished_at >= clock.today_start, 1), else_=0)),
    ).group_by(rows.c.bot, rows.c.status, bucket)
    for bot, status, hour, count, window, straight, today in conn.execute(query):
        tally = tallies[bot]
        tally.window[status] += _as_int(window)
        tally.straight_through += _as_int(straight)
        if status == ItemStatus.done.value:
            tally.done_today += _as_int(today)
            tally.hourly[str(hour)] += int(count)


class MonthToDate:
    """Done items per bot from the first of the month to the start of today, read once a day.

    Items finished before today cannot change any more (a done item is final), so only today's
    part of "this month" is counted at each refresh. Within the first minutes after midnight
    nothing is cached, so an item whose finish was being committed at midnight is not missed.
    """

    SETTLE = timedelta(minutes=5)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[datetime, datetime] | None = None
        self._counts: dict[str, int] = {}

    def counts(self, conn: Connection, clock: Clock) -> dict[str, int]:
        key = (clock.month_start, clock.today_start)
        with self._lock:
            if self._key == key:
                return dict(self._counts)
        counts = _done_between(conn, clock.month_start, clock.today_start) if key[1] > key[0] else {}
        if clock.now - clock.today_start >= self.SETTLE:
            with self._lock:
                self._key, self._counts = key, dict(counts)
        return counts


def _done_between(conn: Connection, start: datetime, end: datetime) -> dict[str, int]:
    rows = (
        select(ITEMS.c.bot)
        .where(
            ITEMS.c.status == ItemStatus.done.value, ITEMS.c.finished_at >= start, ITEMS.c.finished_at < end
        )
        .cte("done_rows")
        .prefix_with("MATERIALIZED")
    )
    query = select(rows.c.bot, func.count()).group_by(rows.c.bot)
    return {bot: int(count) for bot, count in conn.execute(query)}


def _open(conn: Connection, clock: Clock, warning: timedelta, tallies: dict[str, _Tally]) -> None:
    soon = clock.now + warning
    query = (
        select(
            ITEMS.c.bot,
            ITEMS.c.status,
            func.count(),
            func.min(ITEMS.c.created_at),
            func.sum(case((ITEMS.c.sla_due_at < clock.now, 1), else_=0)),
            func.sum(case(((ITEMS.c.sla_due_at >= clock.now) & (ITEMS.c.sla_due_at < soon), 1), else_=0)),
        )
        .where(status_is(*OPEN))
        .group_by(ITEMS.c.bot, ITEMS.c.status)
    )
    for bot, status, count, oldest, breached, at_risk in conn.execute(query):
        tally = tallies[bot]
        tally.open[status] += int(count)
        tally.sla_breached += _as_int(breached)
        tally.sla_at_risk += _as_int(at_risk)
        oldest_at = aware(oldest) if isinstance(oldest, datetime) else _parse_sqlite_time(oldest)
        if status == ItemStatus.new.value and oldest_at is not None:
            tally.oldest_waiting = oldest_at


def _parse_sqlite_time(value: Any) -> datetime | None:
    """``min()`` over a SQLite datetime column comes back as its stored text."""
    if not value:
        return None
    return aware(datetime.fromisoformat(str(value)))


def _runs(conn: Connection) -> dict[str, int]:
    query = (
        select(RUNS.c.status, func.count())
        .where(RUNS.c.status.in_(["running", "pending", "needs_review"]))
        .group_by(RUNS.c.status)
    )
    return {status: int(count) for status, count in conn.execute(query)}


def _runners(conn: Connection, clock: Clock, stale: timedelta) -> RunnerSummary:
    rows = conn.execute(
        select(RUNNERS.c.capacity, RUNNERS.c.busy, RUNNERS.c.heartbeat_at, RUNNERS.c.stopped_at)
    ).all()
    up = [
        r for r in rows if r.stopped_at is None and (aware(r.heartbeat_at) or clock.now) >= clock.now - stale
    ]
    capacity = sum(int(r.capacity) for r in up)
    busy = sum(int(r.busy) for r in up)
    return RunnerSummary(
        up=len(up), registered=len(rows), capacity=capacity, busy=busy, utilisation=ratio(busy, capacity)
    )


def _figures(
    name: str, enabled: bool, minutes: float, tally: _Tally, clock: Clock, hours: list[str]
) -> BotOverview:
    done = tally.window[ItemStatus.done.value]
    failed = tally.window[ItemStatus.failed.value]
    rejected = tally.window[ItemStatus.rejected.value]
    oldest = tally.oldest_waiting
    return BotOverview(
        bot=name,
        enabled=enabled,
        done=done,
        failed=failed,
        rejected=rejected,
        straight_through=tally.straight_through,
        needs_review=tally.open[ItemStatus.needs_review.value],
        queued=tally.open[ItemStatus.new.value],
        in_progress=tally.open[ItemStatus.in_progress.value],
        oldest_waiting_at=oldest,
        oldest_waiting_seconds=(clock.now - oldest).total_seconds() if oldest else None,
        sla_breached=tally.sla_breached,
        sla_at_risk=tally.sla_at_risk,
        success_rate=ratio(done, done + failed + rejected),
        straight_through_rate=ratio(tally.straight_through, done),
        done_today=tally.done_today,
        done_month=tally.done_month,
        minutes_saved_per_item=minutes,
        fte_hours_today=round(tally.done_today * minutes / 60, 2),
        fte_hours_month=round(tally.done_month * minutes / 60, 2),
        hourly_done=[tally.hourly.get(h, 0) for h in hours],
    )


def _total(bots: list[BotOverview], clock: Clock, hours: list[str]) -> BotOverview:
    total = _Tally()
    for b in bots:
        total.window[ItemStatus.done.value] += b.done
        total.window[ItemStatus.failed.value] += b.failed
        total.window[ItemStatus.rejected.value] += b.rejected
        total.straight_through += b.straight_through
        total.open[ItemStatus.needs_review.value] += b.needs_review
        total.open[ItemStatus.new.value] += b.queued
        total.open[ItemStatus.in_progress.value] += b.in_progress
        total.sla_breached += b.sla_breached
        total.sla_at_risk += b.sla_at_risk
        total.done_today += b.done_today
        total.done_month += b.done_month
        if b.oldest_waiting_at and (
            total.oldest_waiting is None or b.oldest_waiting_at < total.oldest_waiting
        ):
            total.oldest_waiting = b.oldest_waiting_at
        for label, count in zip(hours, b.hourly_done, strict=True):
            total.hourly[label] += count
    figures = _figures("all", True, 0, total, clock, hours)
    return figures.model_copy(
        update={
            "minutes_saved_per_item": 0,
            "fte_hours_today": round(sum(b.fte_hours_today for b in bots), 2),
            "fte_hours_month": round(sum(b.fte_hours_month for b in bots), 2),
        }
    )


def overview(
    store: SQLRunStore,
    settings: DashboardSettings,
    *,
    hours: float | None = None,
    now: datetime | None = None,
    month: MonthToDate | None = None,
) -> Overview:
    """Compute the overview (``hours``: window of the rates, default the settings').

    ``month`` keeps the month-to-date counts of the days before today between calls.
    """
    clock = Clock.at(now or utcnow(), settings.zone)
    window_hours = float(hours or settings.window_hours)
    window_start = clock.hours_back(window_hours)
    hour_starts = clock.hour_starts(SERIES_HOURS)
    labels = [hour_label(h) for h in hour_starts]
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    with store.reading() as conn:
        bots = conn.execute(select(BOTS.c.name, BOTS.c.enabled, BOTS.c.spec_json).order_by(BOTS.c.name)).all()
        _finished(conn, store, clock, window_start, tallies)
        before_today = (month or MonthToDate()).counts(conn, clock)
        _open(conn, clock, timedelta(minutes=settings.sla_warning_minutes), tallies)
        runs = _runs(conn)
        runners = _runners(conn, clock, timedelta(seconds=settings.runner_stale_seconds))
    for bot, count in before_today.items():
        tallies[bot].done_month = count
    for tally in tallies.values():
        tally.done_month += tally.done_today
    known = {b.name for b in bots}
    rows: list[BotOverview] = []
    for bot in bots:
        spec = jsoncodec.loads(bot.spec_json) or {}
        minutes = float(spec.get("minutes_saved_per_item") or 0)
        rows.append(_figures(bot.name, bool(bot.enabled), minutes, tallies[bot.name], clock, labels))
    for orphan in sorted(set(tallies) - known):  # items of a bot no longer published
        rows.append(_figures(orphan, False, 0, tallies[orphan], clock, labels))
    return Overview(
        generated_at=clock.now,
        timezone=settings.timezone,
        window_hours=window_hours,
        window_start=window_start,
        today_start=clock.today_start,
        month_start=clock.month_start,
        hour_starts=hour_starts,
        bots=rows,
        total=_total(rows, clock, labels),
        runs_in_flight=runs.get("running", 0),
        runs_pending=runs.get("pending", 0),
        runs_waiting_for_person=runs.get("needs_review", 0),
        runners=runners,
        formulas={
            k: v.format(warning=settings.sla_warning_minutes, stale=settings.runner_stale_seconds)
            for k, v in FORMULAS.items()
        },
    )
