"""A runner process: claims work items under leases, runs or resumes their workflow, records
the outcome, heartbeats, reaps expired leases and shuts down gracefully.

Several runs share one event loop (``capacity`` of them at once). On SIGTERM the worker stops
claiming, lets running items finish for ``grace`` seconds, then cancels the rest and puts their
items back in the queue (not counted as crashes); a SIGKILLed worker's items come back when
their lease expires, counted as a crash, and the next runner resumes the run from its last
checkpoint under the engine's recovery rules.

A runner that finishes an item claims its next one in the same transaction (one commit for
both instead of two); those claims are taken up by the loop once that transaction has
committed, and handed back if the worker stops first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from loguru import logger

from orchestrator.bootstrap import Runtime
from orchestrator.engine import RunExecutor, RunOutcome
from orchestrator.engine.executor import default_owner
from orchestrator.enums import RunStatus
from orchestrator.errors import ConfigError, LeaseLostError, RpaError, StoreUnavailable, WorkflowError
from orchestrator.models import RunRecord
from orchestrator.queue.files import settle_source_file
from orchestrator.queue.models import Claim, ItemStatus, WorkItem
from orchestrator.queue.outage import StoreOutage
from orchestrator.queue.store import SQLWorkQueue
from orchestrator.store.tx import StoreTx

ITEM_STATUS = {
    RunStatus.done: ItemStatus.done,
    RunStatus.needs_review: ItemStatus.needs_review,
    RunStatus.failed: ItemStatus.failed,
    RunStatus.rejected: ItemStatus.rejected,
}


@dataclass
class WorkerStats:
    claimed: int = 0
    finished: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    released: int = 0
    # claim transactions of the loop's own (not those of a finishing item), and how many of
    # them found nothing: what an idle or starved runner costs the database
    looks: int = 0
    empty_looks: int = 0


class Worker:
    """Claims and runs items until ``stop`` is set."""

    def __init__(
        self,
        runtime: Runtime,
        queue: SQLWorkQueue,
        *,
        capacity: int = 1,
        lease: timedelta = timedelta(seconds=30),
        bots: Sequence[str] | None = None,
        poll_interval: float = 0.5,
        first_poll: float = 0.005,
        grace: float = 20.0,
        owner: str | None = None,
        on_finished: Callable[[Claim, RunOutcome | None], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.queue = queue
        self.capacity = capacity
        self.lease = lease
        self.bots = list(bots) if bots else None
        # an empty queue is looked at again after first_poll, then after twice as long each
        # time up to poll_interval: a runner that just ran dry catches the next item within
        # milliseconds, and an idle one costs the database a claim every poll_interval
        self.poll_interval = poll_interval
        self.first_poll = min(first_poll, poll_interval)
        self._empty_polls = 0
        self.grace = grace
        self.owner = owner or default_owner()
        self.on_finished = on_finished
        self.executor: RunExecutor = runtime.executor(owner=self.owner)
        self.active: dict[asyncio.Task[Any], Claim] = {}
        # items whose outcome is being (or has been) committed while their task winds down: a
        # heartbeat that finds them no longer in_progress must not take them for lost
        self.finishing: set[str] = set()
        self.stats = WorkerStats()
        # the idle loop's wait (a bare future and a timer: no task per item)
        self._waiter: asyncio.Future[None] | None = None
        self._woken = False
        # claimed in the transaction that finished an item, not started yet
        self.prefetched: list[Claim] = []
        # that transaction looked for a next item and found none: the loop counts it as its
        # own look instead of asking the database again straight away
        self._looked_at_finish = False
        self.stopping = False
        self.outage = StoreOutage()

    async def run(self, stop: asyncio.Event) -> WorkerStats:
        self.queue.register_runner(self.owner, socket.gethostname(), os.getpid(), self.capacity)
        beat = asyncio.create_task(self._heartbeats(stop))
        stopper = asyncio.create_task(self._wake_on(stop))
        loop = asyncio.get_running_loop()
        unsubscribe = self.queue.on_new_items(lambda: loop.call_soon_threadsafe(self._new_items))
        try:
            await self._loop(stop)
        finally:
            unsubscribe()
            self.stopping = True
            for task in (beat, stopper):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._drain()
            with contextlib.suppress(RpaError):
                self.queue.runner_stopped(self.owner)
        return self.stats

    async def _loop(self, stop: asyncio.Event) -> None:
        next_reap = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            if loop.time() >= next_reap:
                self._reap()
                next_reap = loop.time() + max(self.lease.total_seconds() / 3, 0.2)
            free = self.capacity - len(self.active)
            claims = self.prefetched[: max(free, 0)]
            del self.prefetched[: len(claims)]
            looked = free > len(claims) and not self.prefetched
            if looked and self._looked_at_finish:
                self._looked_at_finish = False  # found nothing a moment ago: wait first_poll
            elif looked:
                try:
                    found = self.queue.claim(
                        self.owner,
                        self.lease,
                        bots=self.bots,
                        limit=free - len(claims),
                        start_run=self._start_run,
                    )
                    self.stats.looks += 1
                    self.stats.empty_looks += not found
                    claims += found
                    self.outage.answered()
                except StoreUnavailable as exc:
                    self.outage.failed("claim", exc)
            for claim in claims:
                self.stats.claimed += 1
                task = asyncio.create_task(self._process(claim), name=f"item-{claim.item.id}")
                self.active[task] = claim
                task.add_done_callback(self._done)
            if claims:
                self._empty_polls = 0
            elif looked:  # the queue had nothing for us
                await self._idle(min(self.first_poll * 2**self._empty_polls, self.poll_interval))
                self._empty_polls = min(self._empty_polls + 1, 32)
            else:  # no room: an item finishing wakes the loop
                await self._idle(self.poll_interval)

    async def _idle(self, timeout: float) -> None:
        """Wait until ``_wake`` (an item finished, claims were adopted, stop) or ``timeout``.

        A wake before the wait is not lost: the loop looks at the queue again straight away.
        """
        if self._woken:
            self._woken = False
            return
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(timeout, _resolve, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None
            self._woken = False

    def _wake(self) -> None:
        if self._waiter is not None:
            _resolve(self._waiter)
        else:
            self._woken = True

    def _new_items(self) -> None:
        """Items were enqueued in this process: look at once, and soon again if another runner
        took them first."""
        self._empty_polls = 0
        self._looked_at_finish = False
        self._wake()

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake()

    def _done(self, task: asyncio.Task[Any]) -> None:
        claim = self.active.pop(task, None)
        if claim is not None:
            self.finishing.discard(claim.item.id)
        self._wake()

    def _reap(self) -> None:
        try:
            for item in self.queue.reap_expired():
                logger.warning(
                    "lease of item {} ({}) expired (runner {}); crashes={}",
                    item.id,
                    item.reference,
                    item.lease_owner,
                    item.crashes + 1,
                )
            self.outage.answered()
        except StoreUnavailable as exc:
            self.outage.failed("reaping", exc)
        except Exception:  # a bug in reaping must not stop this runner's own work
            logger.exception("reaping expired leases failed; trying again later")

    async def _heartbeats(self, stop: asyncio.Event) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.1)
        while True:
            await asyncio.sleep(interval)
            try:
                self.beat_once()
            except Exception:  # one failed beat must not end them all: every lease would lapse
                logger.exception("heartbeat failed; the next one in {:.1f} s", interval)

    def beat_once(self) -> None:
        """Extend the leases of the running items; stop the runs whose lease was lost."""
        try:
            running = [
                claim
                for task, claim in self.active.items()
                if not task.done() and claim.item.id not in self.finishing
            ] + list(self.prefetched)
            lost = self.queue.heartbeat(running, self.lease)
            self.queue.runner_heartbeat(self.owner, len(self.active))
            self.outage.answered()
        except StoreUnavailable as exc:
            self.outage.failed("heartbeat", exc)
            return
        if lost and self.prefetched:
            self.prefetched = [claim for claim in self.prefetched if claim not in lost]
        for claim in lost:
            if claim.item.id in self.finishing:  # finished while the heartbeat was under way
                continue
            self.stats.lost += 1
            for task, held in list(self.active.items()):
                if held is claim:
                    logger.error("lost the lease of item {}; stopping its run", claim.item.id)
                    task.cancel()

    async def _drain(self) -> None:
        """Graceful stop: let running items finish for ``grace`` seconds, then hand them back."""
        if self.active:
            await self._drain_active()
        for claim in self.prefetched:  # claimed while the last items finished, never started
            with contextlib.suppress(RpaError):
                self.queue.release(claim)
                self.stats.released += 1
        self.prefetched.clear()

    async def _drain_active(self) -> None:
        _finished, pending = await asyncio.wait(set(self.active), timeout=self.grace)
        for task in pending:
            claim = self.active.get(task)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            if claim is not None:
                with contextlib.suppress(RpaError):
                    self.queue.release(claim)
                    self.stats.released += 1

    async def _process(self, claim: Claim) -> None:
        item = claim.item
        try:
            outcome = await self._run_item(claim)
        except LeaseLostError as exc:
            self.stats.lost += 1
            logger.warning("item {}: {}", item.id, exc)
            return
        except asyncio.CancelledError:
            raise
        except (ConfigError, WorkflowError) as exc:
            outcome = self._record(
                claim,
                RunOutcome(
                    item.run_id or "", RunStatus.needs_review, f"cannot start the run: {exc}", "invalid_item"
                ),
                park_run=True,
            )
        except StoreUnavailable as exc:
            logger.error(
                "item {}: store unavailable ({}); its lease will expire and it will be retried", item.id, exc
            )
            return
        except Exception as exc:  # an internal error must not kill the runner; the item goes to a person
            logger.exception("item {} failed with an internal error", item.id)
            outcome = self._record(
                claim,
                RunOutcome(
                    item.run_id or "",
                    RunStatus.needs_review,
                    f"internal error: {type(exc).__name__}: {exc}",
                    "internal_error",
                ),
                park_run=True,
            )
        if outcome is None:
            return
        status = ITEM_STATUS[outcome.status]
        self.stats.finished[status.value] = self.stats.finished.get(status.value, 0) + 1
        if status.is_final:
            settle_source_file(self.queue, claim.item, status, outcome.reason)
        if self.on_finished is not None:
            self.on_finished(claim, outcome)

    def _start_run(self, tx: StoreTx, item: WorkItem, run_id: str) -> RunRecord | None:
        """Create a first claim's run inside the claiming transaction (one commit, not two).

        Inputs that do not fit the workflow leave it to ``_run_item``, which records why.
        """
        try:
            bot = self.queue.get_bot(item.bot)
            workflow = self.executor.definition(bot.workflow_digest)
            inputs = {**(bot.spec.get("inputs") or {}), **item.inputs}
            # raises before it writes anything when the inputs do not fit the workflow
            return self.executor.create_run_in(tx, workflow, inputs, work_item_id=item.id, run_id=run_id)
        except (ConfigError, WorkflowError, RpaError):
            return None

    async def _run_item(self, claim: Claim) -> RunOutcome | None:
        """Run (or resume) the item's run; its outcome is recorded on the item in the same transaction."""
        item = claim.item
        if claim.run is not None:
            return await self.executor.execute(
                claim.run.id,
                fence=self.executor.fence_for(claim.run),
                on_finish=self._finish_hook(claim),
                created=claim.run,
            )
        store = self.runtime.store
        run = store.get_run(item.run_id) if item.run_id else None
        if run is None and item.attempts > 1:  # an earlier claim's runner may have died before linking it
            run = store.latest_run_for_item(item.id)
        if run is not None and run.status not in (RunStatus.pending, RunStatus.running):
            # the run already ended (or waits for a person) but its runner died before recording
            # that on the item: record it now — the work is never done again
            return self._record(
                claim,
                RunOutcome(
                    run.id, run.status, run.reason, run.reason_code, run.outputs, parked_step=run.parked_step
                ),
            )
        if run is not None:
            return await self.executor.execute(run.id, force=True, on_finish=self._finish_hook(claim))
        bot = self.queue.get_bot(item.bot)
        workflow = self.executor.definition(bot.workflow_digest)
        inputs = {**(bot.spec.get("inputs") or {}), **item.inputs}
        queue = self.queue
        record = self.executor.create_run(
            workflow,
            inputs,
            work_item_id=item.id,
            acquire=True,
            on_create=lambda tx, run_id: queue.link_run_in(tx, claim, run_id),
        )
        return await self.executor.execute(
            record.id,
            fence=self.executor.fence_for(record),
            on_finish=self._finish_hook(claim),
            created=record,
        )

    def _finish_hook(self, claim: Claim) -> Any:
        """Records the item's outcome inside the transaction that records the run's outcome."""
        queue = self.queue

        def hook(tx: StoreTx, outcome: RunOutcome) -> None:
            self.finishing.add(claim.item.id)
            queue.finish_in(
                tx, claim, ITEM_STATUS[outcome.status], **_item_fields(claim, outcome), keep_slots=True
            )
            self._claim_next_in(tx, claim)

        return hook

    def _claim_next_in(self, tx: StoreTx, finished: Claim) -> None:
        """Claim the items that will fill the capacity this finish frees, in its transaction;
        the finished item's slots go to the next item that needs them, or back."""
        running = sum(1 for claim in self.active.values() if claim.item.id not in self.finishing)
        free = 0 if self.stopping else self.capacity - running - len(self.prefetched)
        if free <= 0:
            self.queue.free_slots_in(tx, finished)
            return
        try:
            claims = self.queue.claim_in(
                tx,
                self.owner,
                self.lease,
                bots=self.bots,
                limit=free,
                start_run=self._start_run,
                handover=finished.slots,
            )
        except StoreUnavailable:
            raise  # the finish cannot commit either; the engine reports it
        except Exception:
            # a bug while claiming must not cost the finishing item its outcome: the loop claims
            # on its own (claim_in has freed the finished item's slots). A claim half made
            # commits with the finish and is not taken up; its lease expires and the item comes
            # back (counted as one crash).
            logger.exception("claiming the next item with a finishing one failed")
            return
        if claims:
            tx.after_commit(lambda: self._adopt(claims))
        else:
            tx.after_commit(self._found_nothing_at_finish)

    def _found_nothing_at_finish(self) -> None:
        self._looked_at_finish = True

    def _adopt(self, claims: list[Claim]) -> None:
        self.prefetched.extend(claims)
        self._wake()

    def _record(self, claim: Claim, outcome: RunOutcome, *, park_run: bool = False) -> RunOutcome | None:
        """Record an outcome on the item on its own (when no run transaction did it).

        ``park_run``: the item goes to a person without the engine having parked its run (the
        run could not start, or an internal error): its run is parked — created parked if it
        has none — in the same transaction, so that the manual queue shows it.
        """
        fields = _item_fields(claim, outcome)
        try:
            with self.queue.store.hot_tx() as tx:  # the store queue.finish would use
                if park_run:
                    fields["run_id"] = self.queue.park_item_run_in(
                        tx,
                        claim.item,
                        reason=outcome.reason or "",
                        reason_code=outcome.reason_code or "needs_review",
                        actor=self.owner,
                    )
                self.queue.finish_in(tx, claim, ITEM_STATUS[outcome.status], **fields)
        except LeaseLostError as exc:
            self.stats.lost += 1
            logger.warning("item {}: could not record its outcome: {}", claim.item.id, exc)
            return None
        return replace(outcome, run_id=fields["run_id"]) if park_run else outcome


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _item_fields(claim: Claim, outcome: RunOutcome) -> dict[str, Any]:
    status = ITEM_STATUS[outcome.status]
    return {
        "reason": outcome.reason,
        "reason_code": outcome.reason_code,
        "parked_step": outcome.parked_step if status is ItemStatus.needs_review else None,
        "straight_through": status is ItemStatus.done and not claim.item.touched_by_person,
        "run_id": outcome.run_id or None,
    }
