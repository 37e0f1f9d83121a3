"""The overview's figures against a plain Python count of the same rows, on SQLite and PostgreSQL.

Rows are written with known timestamps around the boundaries that matter (window start,
midnight and the first of the month in the dashboard's time zone, SLA due times), then the
overview must agree with a reference computed independently in Python.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from orchestrator import jsoncodec
from orchestrator.dashboard.config import DashboardSettings
from orchestrator.dashboard.queries.audit import hot_spots
from orchestrator.dashboard.queries.common import Clock
from orchestrator.dashboard.queries.overview import MonthToDate, overview
from orchestrator.models import AuditEvent
from orchestrator.queue.store import ITEMS, RUNNERS, SQLWorkQueue
from orchestrator.store.sql import STEPS

ZONE = "Asia/Shanghai"
# 10:30 in Shanghai on the 3rd: "today" began 10.5 h ago, the month 2 days 10.5 h ago
NOW = datetime(2026, 3, 3, 2, 30, tzinfo=UTC)
BOTS = {"alpha": 6.0, "beta": 2.5}


def _publish(store: Any) -> None:
    queue = SQLWorkQueue(store)
    for name, minutes in BOTS.items():
        queue.publish_bot(
            name,
            {"name": name, "concurrency": 2, "sla": 1800, "minutes_saved_per_item": minutes},
            "0" * 64,
            f"{name}.yaml",
        )


def _rows(rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    statuses = ["done"] * 6 + ["failed", "rejected", "needs_review", "new", "in_progress"]
    for i in range(400):
        bot = rng.choice(list(BOTS))
        status = rng.choice(statuses)
        created = NOW - timedelta(minutes=rng.uniform(1, 60 * 24 * 40))  # back into the previous month
        finished = None
        if status in ("done", "failed", "rejected"):
            finished = min(created + timedelta(minutes=rng.uniform(0.5, 90)), NOW - timedelta(seconds=1))
        rows.append(
            {
                "id": f"item{i:05d}",
                "bot": bot,
                "reference": f"REF-{i:05d}",
                "status": status,
                "priority": 0,
                "inputs_json": "{}",
                "source": "test",
                "straight_through": (rng.random() < 0.8) if status == "done" else None,
                "touched_by_person": False,
                "created_at": created,
                "finished_at": finished,
                "updated_at": finished or created,
                "sla_due_at": created + timedelta(minutes=rng.choice([5, 30, 600, 100_000])),
            }
        )
    # exactly on the boundaries
    for n, at in enumerate(
        [
            NOW - timedelta(hours=24),
            datetime(2026, 3, 2, 16, 0, tzinfo=UTC),
            datetime(2026, 2, 28, 16, 0, tzinfo=UTC),
        ]
    ):
        rows.append(
            {
                **rows[0],
                "id": f"edge{n}",
                "reference": f"EDGE-{n}",
                "status": "done",
                "finished_at": at,
                "created_at": at - timedelta(minutes=1),
                "updated_at": at,
            }
        )
    return rows


def _reference(rows: list[dict[str, Any]], window_start: datetime) -> dict[str, dict[str, Any]]:
    zone = ZoneInfo(ZONE)
    local = NOW.astimezone(zone)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    warning = NOW + timedelta(minutes=10)
    out: dict[str, dict[str, Any]] = {}
    for bot in BOTS:
        mine = [r for r in rows if r["bot"] == bot]
        in_window = [r for r in mine if r["finished_at"] is not None and r["finished_at"] >= window_start]
        open_ = [r for r in mine if r["status"] in ("new", "in_progress", "needs_review")]
        queued = [r for r in mine if r["status"] == "new"]
        done = [r for r in in_window if r["status"] == "done"]
        hourly = {}
        for r in mine:
            if r["status"] == "done" and r["finished_at"] >= NOW.replace(
                minute=0, second=0, microsecond=0
            ) - timedelta(hours=23):
                key = r["finished_at"].strftime("%Y-%m-%d %H")
                hourly[key] = hourly.get(key, 0) + 1
        out[bot] = {
            "done": len(done),
            "failed": sum(r["status"] == "failed" for r in in_window),
            "rejected": sum(r["status"] == "rejected" for r in in_window),
            "straight_through": sum(bool(r["straight_through"]) for r in done),
            "needs_review": sum(r["status"] == "needs_review" for r in mine),
            "queued": len(queued),
            "in_progress": sum(r["status"] == "in_progress" for r in mine),
            "oldest_waiting_at": min((r["created_at"] for r in queued), default=None),
            "sla_breached": sum(r["sla_due_at"] < NOW for r in open_),
            "sla_at_risk": sum(NOW <= r["sla_due_at"] < warning for r in open_),
            "done_today": sum(r["status"] == "done" and r["finished_at"] >= today for r in mine),
            "done_month": sum(r["status"] == "done" and r["finished_at"] >= month for r in mine),
            "hourly": hourly,
        }
    return out


@pytest.fixture
def filled(store: Any) -> tuple[Any, list[dict[str, Any]]]:
    _publish(store)
    rows = _rows(random.Random(11))
    with store.writing() as conn:
        conn.execute(insert(ITEMS), rows)
        conn.execute(
            insert(RUNNERS),
            [
                {
                    "id": "r-live",
                    "host": "h",
                    "pid": 1,
                    "capacity": 4,
                    "busy": 3,
                    "started_at": NOW - timedelta(hours=1),
                    "heartbeat_at": NOW - timedelta(seconds=10),
                    "stopped_at": None,
                },
                {
                    "id": "r-silent",
                    "host": "h",
                    "pid": 2,
                    "capacity": 4,
                    "busy": 4,
                    "started_at": NOW - timedelta(hours=1),
                    "heartbeat_at": NOW - timedelta(minutes=10),
                    "stopped_at": None,
                },
                {
                    "id": "r-stopped",
                    "host": "h",
                    "pid": 3,
                    "capacity": 2,
                    "busy": 0,
                    "started_at": NOW - timedelta(hours=1),
                    "heartbeat_at": NOW,
                    "stopped_at": NOW,
                },
            ],
        )
    return store, rows


@pytest.mark.parametrize("hours", [24, 1, 24 * 7])
def test_overview_agrees_with_a_plain_count(filled: tuple[Any, list[dict[str, Any]]], hours: int) -> None:
    store, rows = filled
    settings = DashboardSettings(timezone=ZONE, sla_warning_minutes=10)
    result = overview(store, settings, hours=hours, now=NOW)
    expected = _reference(rows, NOW - timedelta(hours=hours))
    labels = [h.strftime("%Y-%m-%d %H") for h in result.hour_starts]
    assert len(labels) == 24
    assert labels[-1] == NOW.strftime("%Y-%m-%d %H")
    for figures in result.bots:
        want = expected[figures.bot]
        got = figures.model_dump()
        for key in (
            "done",
            "failed",
            "rejected",
            "straight_through",
            "needs_review",
            "queued",
            "in_progress",
            "sla_breached",
            "sla_at_risk",
            "done_today",
            "done_month",
        ):
            assert got[key] == want[key], (figures.bot, key)
        assert figures.oldest_waiting_at == want["oldest_waiting_at"]
        assert figures.hourly_done == [want["hourly"].get(label, 0) for label in labels]
        assert figures.fte_hours_month == round(want["done_month"] * BOTS[figures.bot] / 60, 2)
        assert figures.fte_hours_today == round(want["done_today"] * BOTS[figures.bot] / 60, 2)
        decided = want["done"] + want["failed"] + want["rejected"]
        assert figures.success_rate == (want["done"] / decided if decided else None)
    total = result.total
    assert total.done == sum(e["done"] for e in expected.values())
    assert total.done_month == sum(e["done_month"] for e in expected.values())
    assert total.hourly_done == [sum(b.hourly_done[i] for b in result.bots) for i in range(24)]
    assert result.runners.up == 1  # silent and stopped runners are not counted
    assert (result.runners.capacity, result.runners.busy, result.runners.utilisation) == (4, 3, 0.75)


def test_month_to_date_is_read_once_a_day_and_not_right_after_midnight(
    filled: tuple[Any, list[dict[str, Any]]],
) -> None:
    store, rows = filled
    settings = DashboardSettings(timezone=ZONE)
    month = MonthToDate()
    first = overview(store, settings, now=NOW, month=month)
    with store.writing() as conn:  # a done item finished yesterday appears only in a fresh count
        late = {
            **rows[0],
            "id": "late",
            "reference": "LATE",
            "bot": "alpha",
            "status": "done",
            "finished_at": datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        }
        conn.execute(insert(ITEMS), [late])
    cached = overview(store, settings, now=NOW, month=month)
    fresh = overview(store, settings, now=NOW, month=MonthToDate())
    alpha = {b.bot: b for b in first.bots}["alpha"].done_month
    assert {b.bot: b for b in cached.bots}["alpha"].done_month == alpha
    assert {b.bot: b for b in fresh.bots}["alpha"].done_month == alpha + 1
    # three minutes after midnight (Shanghai) nothing is cached: every call counts again
    just_after = datetime(2026, 3, 3, 16, 3, tzinfo=UTC)
    early = MonthToDate()
    clock = Clock.at(just_after, ZoneInfo(ZONE))
    with store.reading() as conn:
        early.counts(conn, clock)
    assert early._key is None


def test_hot_spots_count_retries_and_failures_of_the_period(store: Any) -> None:
    now = datetime.now(UTC)
    steps = []
    for n in range(30):
        run = f"run{n:03d}"
        steps.append(
            {
                "run_id": run,
                "step_id": "post",
                "item_index": -1,
                "status": "failed" if n < 3 else "done",
                "skill": "do.browser.submit_form",
                "effect": "once",
                "attempts": 3 if n < 5 else 1,
                "adopted": False,
                "started_at": now - timedelta(minutes=n),
                "finished_at": now - timedelta(minutes=n),
                "duration_ms": 100.0,
            }
        )
        steps.append(
            {
                "run_id": run,
                "step_id": "parse",
                "item_index": -1,
                "status": "done",
                "skill": "think.parse_payment",
                "effect": "none",
                "attempts": 1,
                "adopted": False,
                "started_at": now - timedelta(minutes=n),
                "finished_at": now - timedelta(minutes=n),
                "duration_ms": 5.0,
            }
        )
    old = {
        **steps[0],
        "run_id": "old",
        "finished_at": now - timedelta(days=3),
        "started_at": now - timedelta(days=3),
    }
    with store.writing() as conn:
        conn.execute(insert(STEPS), [*steps, old])
    store.append_audit(
        [
            AuditEvent(
                kind="step_retrying",
                run_id="run001",
                step_id="post",
                at=now,
                payload={"skill": "do.browser.submit_form", "attempt": 1},
            )
        ]
    )
    spots = hot_spots(store, hours=24, now=now + timedelta(seconds=1))
    top = spots.spots[0]
    assert (top.skill, top.step_id) == ("do.browser.submit_form", "post")
    assert (top.executions, top.retries, top.failed, top.retry_events) == (30, 10, 3, 1)
    assert [s.skill for s in spots.spots] == ["do.browser.submit_form"]  # parse never retried or failed
    assert jsoncodec.dumps(spots.model_dump())  # JSON-able for the API
