"""Schedules: fires deduplicated, missed fires coalesced, holidays skipped, one leader only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from queue_helpers import published_queue, write_bot

from orchestrator.queue.bots import load_bot_file
from orchestrator.queue.triggers import BotScheduler, SchedulerLeadership, cutoff_passed
from orchestrator.registry import SkillRegistry


def _scheduler(store, tmp_path: Path, triggers: str, **extra: str) -> BotScheduler:
    queue = published_queue(store, tmp_path, name="sched-bot", triggers=triggers, **extra)
    bot = load_bot_file(tmp_path / "bots" / "sched-bot.yaml", SkillRegistry.from_entry_points())
    return BotScheduler(queue, [bot], tmp_path / "home")


def test_a_fire_is_one_item_even_when_two_schedulers_fire_it(store, tmp_path: Path) -> None:
    scheduler = _scheduler(store, tmp_path, "[{type: interval, every: 10m, inputs: {reference: tick}}]")
    (trigger,) = scheduler.triggers
    moment = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert trigger.fire(moment) is not None
    assert trigger.fire(moment) is None  # a second scheduler firing the same moment
    (item,) = scheduler.queue.list_items(bot="sched-bot")
    assert item.reference == "sched-bot#0@2026-03-02T01:00:00+00:00"
    assert item.inputs == {"reference": "tick"}


def test_fires_missed_during_downtime_coalesce_into_one(store, tmp_path: Path) -> None:
    scheduler = _scheduler(store, tmp_path, "[{type: interval, every: 10m, inputs: {reference: tick}}]")
    (trigger,) = scheduler.triggers
    now = datetime.now(UTC)
    scheduler.queue.record_fire(trigger.id, now - timedelta(minutes=65))  # down for an hour
    created = scheduler.catch_up(now)
    assert len(created) == 1
    (item,) = scheduler.queue.list_items(bot="sched-bot")
    assert item.source == "schedule:sched-bot#0:catch-up"
    assert scheduler.catch_up(now) == []  # nothing missed any more


def test_cron_skips_holidays_of_its_calendar(store, tmp_path: Path) -> None:
    (tmp_path / "cal.yaml").write_text(
        "name: test\nholidays: [2026-10-01..2026-10-07]\nworking_days: [2026-10-10]\n"
    )
    scheduler = _scheduler(store, tmp_path, '[{type: cron, cron: "0 9 * * *", calendar: ../cal.yaml}]')
    (trigger,) = scheduler.triggers
    holiday = datetime(2026, 10, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai on a holiday
    make_up_saturday = datetime(2026, 10, 10, 1, 0, tzinfo=UTC)
    sunday = datetime(2026, 10, 11, 1, 0, tzinfo=UTC)
    assert trigger.fire(holiday) is None
    assert trigger.fire(sunday) is None
    assert trigger.fire(make_up_saturday) is not None
    assert len(scheduler.queue.list_items(bot="sched-bot")) == 1


def test_cutoff_stops_enqueueing_after_the_time_of_day(store, tmp_path: Path) -> None:
    write_bot(tmp_path, "cut-bot", cutoff='"16:30"')
    bot = load_bot_file(tmp_path / "bots" / "cut-bot.yaml", SkillRegistry.from_entry_points())
    before = datetime(2026, 3, 2, 8, 29, tzinfo=UTC)  # 16:29 Shanghai
    after = datetime(2026, 3, 2, 8, 31, tzinfo=UTC)
    assert not cutoff_passed(bot.spec, before)
    assert cutoff_passed(bot.spec, after)


def test_only_one_scheduler_leads(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path)
    first = SchedulerLeadership(queue, tmp_path / "home")
    second = SchedulerLeadership(queue, tmp_path / "home")
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()


def test_stores_in_two_schemas_of_one_database_each_have_their_own_leader(
    pg_url: str, second_pg_url: str, tmp_path: Path
) -> None:
    from orchestrator.store import open_store

    stores = [open_store(pg_url), open_store(second_pg_url)]
    leaders: list[SchedulerLeadership] = []
    try:
        for n, each in enumerate(stores):
            leaders.append(SchedulerLeadership(published_queue(each, tmp_path / str(n)), tmp_path / "home"))
        rival = SchedulerLeadership(leaders[0].queue, tmp_path / "home")
        leaders.append(rival)
        assert leaders[0].try_acquire()
        assert leaders[1].try_acquire()  # the other store's scheduler is not held up by the first
        assert not rival.try_acquire()  # the first store still has one leader only
    finally:
        for leader in leaders:
            leader.release()
        for each in stores:
            each.close()


def test_a_fire_the_store_was_down_for_fires_once_it_answers(store, tmp_path: Path) -> None:
    from orchestrator.errors import StoreUnavailable

    scheduler = _scheduler(store, tmp_path, "[{type: interval, every: 10m, inputs: {reference: tick}}]")
    (trigger,) = scheduler.triggers
    queue = scheduler.queue
    queue.record_fire(trigger.id, datetime.now(UTC) - timedelta(minutes=11))  # the fire before
    enqueue = queue.enqueue

    def store_down(*_args: object, **_kwargs: object) -> object:
        raise StoreUnavailable("store write failed: connection refused")

    queue.enqueue = store_down  # the store is down the moment the trigger fires
    scheduler._fire_job(trigger)
    assert queue.list_items(bot="sched-bot") == []
    assert scheduler.fire_what_is_owed() == []  # still down: it stays owed
    queue.enqueue = enqueue  # the store answers again
    (created,) = scheduler.fire_what_is_owed()
    (item,) = queue.list_items(bot="sched-bot")
    assert (item.id, item.source) == (created, "schedule:sched-bot#0:catch-up")
    assert scheduler.fire_what_is_owed() == []  # fired once


def test_a_scheduler_whose_lock_connection_ended_steps_down_and_leads_again_later(
    pg_url: str, tmp_path: Path
) -> None:
    import asyncio

    import psycopg
    from sqlalchemy.engine import make_url

    from orchestrator.store import open_store

    store = open_store(pg_url)
    scheduler = _scheduler(store, tmp_path, "[{type: interval, every: 10m, inputs: {reference: tick}}]")
    rival = SchedulerLeadership(scheduler.queue, tmp_path / "home")
    url = make_url(pg_url)

    def end_the_lock_connection() -> None:  # as a server restart or a cut network would
        pid = scheduler.leadership._connection.connection.dbapi_connection.info.backend_pid  # white-box
        with psycopg.connect(
            host=url.host, port=url.port or 5432, dbname=url.database, user=url.username
        ) as admin:
            assert admin.execute("select pg_terminate_backend(%s)", (pid,)).fetchone()[0]

    async def turns() -> None:  # APScheduler's jobs live on a running event loop
        try:
            scheduler.keep_leading()
            assert scheduler.is_leader
            assert scheduler.scheduler is not None
            assert not rival.try_acquire()
            end_the_lock_connection()
            assert rival.try_acquire()  # the server let the lock go with the session
            scheduler.keep_leading()
            assert not scheduler.is_leader  # it noticed, stopped firing, and could not lead again
            assert scheduler.scheduler is None
            rival.release()
            scheduler.keep_leading()
            assert scheduler.is_leader
        finally:
            scheduler._stop_jobs()

    try:
        asyncio.run(turns())
    finally:
        scheduler.leadership.release()
        rival.release()
        store.close()


def test_a_scheduler_that_cannot_reach_its_store_says_so_and_keeps_trying(
    pg_url: str, tmp_path: Path
) -> None:
    import asyncio

    from orchestrator.errors import StoreUnavailable
    from orchestrator.queue.store import SQLWorkQueue
    from orchestrator.store import open_store
    from orchestrator.store.sql import SQLRunStore

    store = open_store(pg_url)
    nowhere = SQLRunStore("postgresql+psycopg://postgres@127.0.0.1:1/test", create=False)  # refused
    try:
        scheduler = _scheduler(store, tmp_path, "[{type: interval, every: 10m, inputs: {reference: tick}}]")
        scheduler.leadership = SchedulerLeadership(SQLWorkQueue(nowhere), tmp_path / "home")
        with pytest.raises(StoreUnavailable, match="cannot take the scheduler lock"):
            scheduler.leadership.try_acquire()

        async def a_few_turns() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(scheduler.run(stop))
            await asyncio.sleep(0.3)
            assert not task.done()  # the turn's failure did not end the scheduler
            stop.set()
            await task

        asyncio.run(a_few_turns())
        assert not scheduler.is_leader
    finally:
        nowhere.close()
        store.close()
