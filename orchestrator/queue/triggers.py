"""Triggers that create work items: watched folders, cron and interval schedules, cut-offs.

Schedules run on APScheduler (3.x, in-memory jobs rebuilt from the published bots at start).
Each fire becomes a work item whose business reference is ``<trigger id>@<fire time>``, so two
schedulers that fired the same moment create one item. Only one process schedules at a time:
on PostgreSQL the one holding an advisory lock, on SQLite the one holding a lock file; the
others stand by and take over if it stops. After downtime, the fires missed since the last one
recorded are **coalesced into one** item (the latest missed fire time), as an operator would
expect from a job that "should have run while we were down" — not a burst of catch-up items.
A fire that fails for want of the store (PostgreSQL restarting at 09:00) is not recorded either,
so it is fired the same way, once, as soon as the store answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from loguru import logger

from orchestrator.calendars import BusinessCalendar, load_calendar
from orchestrator.errors import RpaError, StoreUnavailable
from orchestrator.queue.bots import LoadedBot
from orchestrator.queue.models import Offer
from orchestrator.queue.outage import StoreOutage
from orchestrator.queue.store import SQLWorkQueue
from orchestrator.spec.bot import BotSpec, CronTriggerSpec, FolderTriggerSpec, IntervalTriggerSpec

SCHEDULER_LOCK_KEY = 0x5250_4153  # "RPAS": the PostgreSQL advisory lock of the scheduler
# Advisory locks are per database, a store is a schema: the lock's second key is the store's
# schema, so two stores sharing one database (a test and a production schema) each have a leader.
_LOCK_SQL = "SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))"
_UNLOCK_SQL = "SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"
MAX_CATCH_UP_STEPS = 10_000


def cutoff_passed(spec: BotSpec | dict[str, Any], now: datetime | None = None) -> bool:
    """True when the bot's clearing cut-off time of day has passed (local time of the bot)."""
    cutoff = spec.cutoff if isinstance(spec, BotSpec) else spec.get("cutoff")
    if not cutoff:
        return False
    zone = spec.cutoff_timezone if isinstance(spec, BotSpec) else spec.get("cutoff_timezone", "Asia/Shanghai")
    if isinstance(cutoff, str):
        hour, minute, *rest = (int(p) for p in cutoff.split(":"))
        from datetime import time as dtime

        cutoff = dtime(hour, minute, rest[0] if rest else 0)
    local = (now or datetime.now(UTC)).astimezone(ZoneInfo(zone))
    return local.time() >= cutoff


def trigger_id(bot: str, index: int) -> str:
    return f"{bot}#{index}"


# -- watched folders -------------------------------------------------------------------------
@dataclass
class FolderWatcher:
    """One work item per new file in an inbox; duplicates move to ``failed/`` with the reason."""

    queue: SQLWorkQueue
    bot: LoadedBot
    index: int
    spec: FolderTriggerSpec
    previous: dict[str, tuple[int, int]] | None = None  # None: judge the first scan by file age alone
    outage: StoreOutage = field(default_factory=StoreOutage)
    offered: int = 0  # files the last scan offered to the queue (0: it did not need the store)

    @property
    def inbox(self) -> Path:
        return self.bot.folder(self.spec.path)

    def scan_once(self) -> list[str]:
        """Enqueue the files that are ready; returns the ids of the items created."""
        from skills.hear.inbox import move_to_failed, scan_inbox

        self.offered = 0
        inbox = self.inbox
        inbox.mkdir(parents=True, exist_ok=True)
        if cutoff_passed(self.bot.spec):
            return []
        scan = scan_inbox(
            inbox,
            settle_seconds=self.spec.settle.total_seconds(),
            previous=self.previous,
            pattern=self.spec.pattern,
        )
        self.previous = scan.signatures()
        for refused in scan.refused:
            logger.warning("inbox {}: refused {}: {}", inbox, refused.name, refused.message)
        source = f"folder:{trigger_id(self.bot.spec.name, self.index)}"
        offers = [
            Offer(
                reference=ready.name if self.spec.reference == "name" else _sha256(ready.path),
                inputs={**self.spec.inputs, self.spec.input: str(ready.path)},
                source=source,
                source_path=str(ready.path),
            )
            for ready in scan.ready
        ]
        created = []
        self.offered = len(offers)
        for ready, offer, result in zip(
            scan.ready, offers, self.queue.enqueue_many(self.bot.spec.name, offers), strict=True
        ):
            if result.created:
                created.append(result.item.id)
            elif result.item.source_path != str(ready.path):
                state = result.item.status.value
                move_to_failed(
                    inbox,
                    ready.name,
                    f"duplicate of work item {result.item.id} (reference {offer.reference}, {state})",
                )
            elif result.item.status.is_final:
                # the item ended while its file was still here (e.g. a runner on another machine)
                from orchestrator.queue.files import settle_source_file

                settle_source_file(self.queue, result.item, result.item.status, result.item.reason)
        return created

    async def run(self, stop: asyncio.Event) -> None:
        self.outage.who = f"the watcher of {self.inbox}"
        while not stop.is_set():
            try:
                self.scan_once()
                if self.offered:  # an empty inbox did not ask the store
                    self.outage.answered()
            except StoreUnavailable as exc:  # its files wait in the inbox and are enqueued after
                self.outage.failed(f"enqueueing from {self.inbox}", exc)
            except (RpaError, OSError) as exc:
                logger.warning("inbox {} of bot {}: {}", self.inbox, self.bot.spec.name, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.spec.poll.total_seconds())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- schedules -------------------------------------------------------------------------------
def build_trigger(spec: CronTriggerSpec | IntervalTriggerSpec) -> Any:
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if isinstance(spec, CronTriggerSpec):
        return CronTrigger.from_crontab(spec.cron, timezone=ZoneInfo(spec.timezone))
    return IntervalTrigger(seconds=spec.every.total_seconds(), timezone=UTC)


@dataclass
class ScheduledTrigger:
    queue: SQLWorkQueue
    bot: LoadedBot
    index: int
    spec: CronTriggerSpec | IntervalTriggerSpec
    calendar: BusinessCalendar | None = None

    @property
    def id(self) -> str:
        return trigger_id(self.bot.spec.name, self.index)

    def fire(self, fire_time: datetime, *, catch_up: bool = False) -> str | None:
        """Enqueue the item of one fire (deduplicated by trigger and fire time)."""
        fire_time = fire_time.astimezone(UTC).replace(microsecond=0)
        zone = ZoneInfo(getattr(self.spec, "timezone", "Asia/Shanghai"))
        if self.calendar is not None and not self.calendar.is_business_day(fire_time.astimezone(zone).date()):
            logger.info(
                "trigger {}: {} is not a business day in {}; skipped",
                self.id,
                fire_time.date(),
                self.calendar.name,
            )
            self.queue.record_fire(self.id, fire_time)
            return None
        if cutoff_passed(self.bot.spec, fire_time):
            self.queue.record_fire(self.id, fire_time)
            return None
        reference = f"{self.id}@{fire_time.isoformat()}"
        inputs = dict(self.spec.inputs)
        result = self.queue.enqueue(
            self.bot.spec.name,
            reference,
            inputs,
            source=f"schedule:{self.id}" + (":catch-up" if catch_up else ""),
        )
        self.queue.record_fire(self.id, fire_time)
        return result.item.id if result.created else None

    def missed_fire(self, now: datetime) -> datetime | None:
        """The latest fire time missed since the last recorded fire (None when nothing was missed)."""
        last = self.queue.trigger_last_fire(self.id)
        if last is None:
            return None
        trigger = build_trigger(self.spec)
        latest = None
        probe = last
        for _ in range(MAX_CATCH_UP_STEPS):
            nxt = trigger.get_next_fire_time(probe, probe + timedelta(microseconds=1))
            if nxt is None or nxt > now:
                break
            if nxt <= probe:
                probe = probe + timedelta(seconds=1)
                continue
            latest = nxt
            probe = nxt
        return latest


class SchedulerLeadership:
    """Only one scheduler at a time: a PostgreSQL advisory lock or a lock file for SQLite."""

    def __init__(self, queue: SQLWorkQueue, lock_dir: Path) -> None:
        self.queue = queue
        self.lock_dir = lock_dir
        self._connection: Any = None
        self._file: Any = None

    def try_acquire(self) -> bool:
        if self._connection is not None or self._file is not None:
            return True
        if self.queue.store.is_sqlite:
            self.lock_dir.mkdir(parents=True, exist_ok=True)
            handle = (self.lock_dir / "scheduler.lock").open("a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            self._file = handle
            return True
        from sqlalchemy import text
        from sqlalchemy.exc import OperationalError

        try:
            connection = self.queue.store.engine.connect()
            got = connection.execute(text(_LOCK_SQL), {"k": SCHEDULER_LOCK_KEY}).scalar()
            connection.commit()
        except OperationalError as exc:
            raise StoreUnavailable(f"cannot take the scheduler lock: {exc.orig}") from exc
        if got:
            self._connection = connection
            return True
        connection.close()
        return False

    def still_held(self) -> bool:
        """Whether this process still leads. A PostgreSQL advisory lock lives as long as its
        session: when the server restarted or the connection was cut, the server let the lock
        go, and another scheduler may have taken it. (A lock file held by this process stays.)"""
        if self._file is not None:
            return True
        if self._connection is None:
            return False
        from sqlalchemy import text

        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except Exception:  # any failure: the session, and with it the lock, is gone
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
            return False
        return True

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
                self._file.close()
            self._file = None
        if self._connection is not None:
            from sqlalchemy import text

            with contextlib.suppress(Exception):
                self._connection.execute(text(_UNLOCK_SQL), {"k": SCHEDULER_LOCK_KEY})
                self._connection.commit()
                self._connection.close()
            self._connection = None


class BotScheduler:
    """Fires the cron/interval triggers of bots into the queue, as the single leader."""

    def __init__(self, queue: SQLWorkQueue, bots: list[LoadedBot], lock_dir: Path) -> None:
        self.queue = queue
        self.triggers: list[ScheduledTrigger] = []
        for bot in bots:
            if not bot.spec.enabled:
                continue
            for index, trig in enumerate(bot.spec.triggers):
                if isinstance(trig, CronTriggerSpec | IntervalTriggerSpec):
                    calendar = None
                    if isinstance(trig, CronTriggerSpec) and trig.calendar:
                        calendar = load_calendar(bot.folder(trig.calendar))
                    self.triggers.append(ScheduledTrigger(queue, bot, index, trig, calendar))
        self.leadership = SchedulerLeadership(queue, lock_dir)
        self.scheduler: Any = None
        self.is_leader = False
        # a fire failed (the store was down at 09:00): fired late, once, when the store answers
        self.fires_owed = False

    def catch_up(self, now: datetime | None = None) -> list[str]:
        """Coalesce the fires missed during downtime into one item per trigger."""
        created = []
        now = now or datetime.now(UTC)
        for trig in self.triggers:
            missed = trig.missed_fire(now)
            if missed is not None:
                logger.info(
                    "trigger {} missed fires while down; firing once for {}", trig.id, missed.isoformat()
                )
                item = trig.fire(missed, catch_up=True)
                if item:
                    created.append(item)
        return created

    def _start_jobs(self) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        scheduler = AsyncIOScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
        )
        for trig in self.triggers:
            scheduler.add_job(
                self._fire_job,
                build_trigger(trig.spec),
                args=[trig],
                id=trig.id,
                name=f"{trig.bot.spec.name} trigger {trig.index}",
            )
            if self.queue.trigger_last_fire(trig.id) is None:
                self.queue.record_fire(trig.id, datetime.now(UTC))  # remember when watching began
        scheduler.start()
        self.scheduler = scheduler

    def _fire_job(self, trig: ScheduledTrigger) -> None:
        try:
            trig.fire(datetime.now(UTC))
        except RpaError as exc:
            self.fires_owed = True
            logger.error("trigger {} failed to enqueue: {}; it fires once the store answers", trig.id, exc)

    def fire_what_is_owed(self) -> list[str]:
        """Fire late the fires that failed (a fire not recorded is a missed one: ``catch_up``).

        An enqueue that committed before its fire could be recorded is not repeated: the item's
        reference is the trigger and its fire time."""
        if not self.fires_owed:
            return []
        self.fires_owed = False
        try:
            return self.catch_up()
        except RpaError as exc:
            self.fires_owed = True
            logger.debug("the store still does not answer; owed fires wait: {}", exc)
            return []

    def keep_leading(self) -> None:
        """One turn of the loop: step down if the lock was lost, lead if it can be had, fire
        what is owed."""
        if self.is_leader and not self.leadership.still_held():
            logger.warning(
                "this process lost the scheduler lock (its database connection ended); "
                "it stops firing until it holds the lock again"
            )
            self._stop_jobs()
            self.is_leader = False
        if not self.is_leader and self.leadership.try_acquire():
            # it leads once both are done: a store down meanwhile leaves it holding the lock,
            # and the next turn tries them again
            self.catch_up()
            self._start_jobs()
            self.is_leader = True
            logger.info("this process schedules {} trigger(s)", len(self.triggers))
        elif self.is_leader:
            self.fire_what_is_owed()

    def _stop_jobs(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None

    async def run(self, stop: asyncio.Event) -> None:
        if not self.triggers:
            return
        try:
            while not stop.is_set():
                try:
                    self.keep_leading()
                except RpaError as exc:  # the store is down: the next turn tries again
                    logger.debug("scheduler: {}", exc)
                except Exception:  # a bug must not end scheduling for good: logged, tried again
                    logger.exception("scheduler turn failed; trying again in 5 s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 5.0)
        finally:
            self._stop_jobs()
            self.leadership.release()
