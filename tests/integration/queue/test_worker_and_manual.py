"""Runners process real items end to end; people work the manual queue; folders feed bots."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from queue_helpers import published_queue, write_bot

from orchestrator.bootstrap import build_runtime
from orchestrator.enums import RunStatus
from orchestrator.errors import StoreUnavailable
from orchestrator.models import AuditEvent
from orchestrator.queue.manual import ManualActionError, ManualQueue
from orchestrator.queue.models import ItemStatus
from orchestrator.queue.service import Service
from orchestrator.queue.store import ITEMS, SQLWorkQueue
from orchestrator.queue.worker import Worker
from orchestrator.settings import Settings
from orchestrator.store.sql import utcnow


@pytest.fixture
def runtime(store_url: str, tmp_path: Path):
    settings = Settings(
        home=tmp_path / ".rpa", db_url=store_url, work_dir=tmp_path, lease_seconds=5, poll_interval=0.05
    )
    built = build_runtime(settings)
    yield built
    asyncio.run(built.aclose())


async def _drain(worker: Worker, queue, until: callable, timeout: float = 60) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = asyncio.get_running_loop().time() + timeout
    while not until():
        assert asyncio.get_running_loop().time() < deadline, "the queue did not drain"
        await asyncio.sleep(0.05)
    stop.set()
    await task


def _ledger(tmp_path: Path) -> list[dict]:
    path = tmp_path / "ledger.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_worker_runs_items_and_people_work_the_manual_queue(runtime, tmp_path: Path) -> None:
    queue = published_queue(runtime.store, tmp_path, concurrency=3)
    queue.enqueue("ledger-bot", "OK-1", {"reference": "OK-1", "amount": "12.50"})
    queue.enqueue("ledger-bot", "OK-2", {"reference": "OK-2"})
    queue.enqueue("ledger-bot", "BAD-1", {"reference": "BAD-1", "ok": False})
    queue.enqueue("ledger-bot", "4EYES", {"reference": "4EYES", "maker": "alice", "amount": "2000000"})
    worker = Worker(runtime, queue, capacity=3, poll_interval=0.05)

    def settled() -> bool:
        counts = queue.status_counts()
        return counts.get(ItemStatus.new, 0) == 0 and counts.get(ItemStatus.in_progress, 0) == 0

    asyncio.run(_drain(worker, queue, settled))
    counts = queue.status_counts()
    assert counts == {ItemStatus.done: 2, ItemStatus.needs_review: 2}
    assert sorted(r["reference"] for r in _ledger(tmp_path)) == ["OK-1", "OK-2"]
    done = queue.find_item("ledger-bot", "OK-1")
    assert done.straight_through is True
    assert runtime.store.get_run(done.run_id).status is RunStatus.done

    manual = ManualQueue(runtime.store, queue, runtime.registry)
    entries = {e.item.reference: e for e in manual.entries()}
    assert entries["BAD-1"].run.reason_code == "flagged"
    assert entries["BAD-1"].run.parked_step == "check"
    assert entries["4EYES"].run.reason_code == "awaiting_approval"

    # a correction is validated against the step's input model, then applied and audited
    with pytest.raises(ManualActionError, match="not valid"):
        manual.resume(entries["BAD-1"].run.id, "bob", {"condition": "perhaps"})
    change = manual.resume(entries["BAD-1"].run.id, "bob", {"condition": "true"}, "checked with the customer")
    assert change["after"] == {"condition": True}
    # four-eyes: an approval cannot be "corrected" into existence, and the maker cannot approve
    with pytest.raises(ManualActionError, match="cannot be corrected"):
        manual.resume(entries["4EYES"].run.id, "alice", {"approved_by": "mallory"})
    with pytest.raises(ManualActionError, match="four-eyes"):
        manual.approve(entries["4EYES"].run.id, "alice")
    manual.approve(entries["4EYES"].run.id, "carol")

    asyncio.run(_drain(Worker(runtime, queue, capacity=2, poll_interval=0.05), queue, settled))
    assert queue.status_counts() == {ItemStatus.done: 4}
    assert sorted(r["reference"] for r in _ledger(tmp_path)) == ["4EYES", "BAD-1", "OK-1", "OK-2"]
    corrected = queue.find_item("ledger-bot", "BAD-1")
    assert corrected.straight_through is False
    assert corrected.touched_by_person is True
    approved_run = runtime.store.get_run(entries["4EYES"].run.id)
    approve_step = next(s for s in runtime.store.get_steps(approved_run.id) if s.step_id == "approve")
    assert approve_step.output["approved_by"] == "carol"
    actions = [(e.kind, e.actor) for e in runtime.store.audit_events() if e.kind.startswith("manual_")]
    assert ("manual_resume", "bob") in actions
    assert ("manual_approve", "carol") in actions
    resume_event = next(e for e in runtime.store.audit_events(kind="manual_resume"))
    assert resume_event.payload["before"] == {"condition": False}
    assert runtime.store.verify_audit().ok


def _one_parked_item(runtime: Any, tmp_path: Path, reference: str) -> tuple[Any, Worker, ManualQueue, Any]:
    """A ledger bot's item whose check flags it, run until it waits for a person: the queue,
    its runner, the manual queue and the item's entry there."""
    queue = published_queue(runtime.store, tmp_path)
    queue.enqueue("ledger-bot", reference, {"reference": reference, "ok": False})
    worker = Worker(runtime, queue, capacity=1, poll_interval=0.05)
    asyncio.run(_drain(worker, queue, lambda: queue.status_counts().get(ItemStatus.needs_review) == 1))
    manual = ManualQueue(runtime.store, queue, runtime.registry)
    (entry,) = manual.entries()
    return queue, worker, manual, entry


def test_reject_ends_the_item(runtime, tmp_path: Path) -> None:
    queue, _worker, manual, entry = _one_parked_item(runtime, tmp_path, "BAD-2")
    with pytest.raises(ManualActionError, match="reason"):
        manual.reject(entry.run.id, "bob", " ")
    manual.reject(entry.run.id, "bob", "customer withdrew the instruction")
    item = queue.find_item("ledger-bot", "BAD-2")
    assert (item.status, item.reason) == (ItemStatus.rejected, "customer withdrew the instruction")
    assert runtime.store.get_run(entry.run.id).status is RunStatus.rejected


def test_a_retry_that_waits_for_a_time_is_not_taken_before_it(runtime, tmp_path: Path) -> None:
    queue, worker, manual, entry = _one_parked_item(runtime, tmp_path, "LATER-1")
    with pytest.raises(ManualActionError, match="time zone"):
        manual.retry(entry.run.id, "bob", not_before=datetime(2099, 1, 2, 6, 0))
    at_six = datetime(2099, 1, 2, 6, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    manual.retry(entry.run.id, "bob", "the platform opens at 06:00", not_before=at_six)
    item = queue.find_item("ledger-bot", "LATER-1")
    assert (item.status, item.not_before) == (ItemStatus.new, at_six)
    assert queue.claim(worker.owner, timedelta(seconds=30)) == []  # not before 06:00
    (event,) = runtime.store.audit_events(kind="manual_retry")
    assert event.payload["not_before"] == "2099-01-02T06:00:00+08:00"
    with runtime.store.writing() as conn:  # 06:00 has come
        conn.execute(ITEMS.update().where(ITEMS.c.id == item.id).values(not_before=utcnow()))
    (claim,) = queue.claim(worker.owner, timedelta(seconds=30))
    assert claim.item.id == item.id


def test_a_time_typed_without_an_offset_is_shanghai_time(
    runtime, tmp_path: Path, store_url: str, run_rpa
) -> None:
    queue = published_queue(runtime.store, tmp_path)
    common = ("--db", store_url, "--home", str(tmp_path / ".rpa"))
    result = run_rpa(
        *common, "enqueue", "ledger-bot", "-r", "LATER-2", "--not-before", "2099-01-02 06:00", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert queue.find_item("ledger-bot", "LATER-2").not_before.isoformat() == "2099-01-01T22:00:00+00:00"
    listed = run_rpa(*common, "items", "--reference", "LATER-2", cwd=tmp_path, env={"COLUMNS": "160"})
    assert "new, not before 01-02 06:00" in listed.stdout, listed.stderr


def test_folder_trigger_processes_each_file_once_and_moves_it(runtime, tmp_path: Path) -> None:
    write_bot(
        tmp_path,
        "inbox-bot",
        concurrency=2,
        triggers='[{type: folder, path: ../inbox, pattern: "*.txt", settle: 0s, poll: 100ms, input: reference,'
        " reference: sha256}]",
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, body in (
        ("a.txt", "alpha"),
        ("b.txt", "beta"),
        ("dup-of-a.txt", "alpha"),
        ("c.part", "partial"),
    ):
        (inbox / name).write_text(body)
    os.utime(inbox / "a.txt", (1, 1))  # a.txt is the older copy of "alpha"

    service = Service(runtime, runners=2, serve_http=False, bots_dir=tmp_path / "bots")

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        for _ in range(600):
            await asyncio.sleep(0.05)
            counts = service.queue.status_counts()
            if counts.get(ItemStatus.done, 0) == 2 and not list(inbox.glob("*.txt")):
                break
        stop.set()
        await task

    asyncio.run(scenario())
    assert service.queue.status_counts() == {ItemStatus.done: 2}
    assert sorted(p.name for p in (tmp_path / "processed").iterdir()) == ["a.txt", "b.txt"]
    assert "dup-of-a.txt" in {p.name for p in (tmp_path / "failed").iterdir()}
    assert (inbox / "c.part").exists()  # still being written: never picked up
    (dup,) = service.queue.duplicates("inbox-bot")
    assert dup.source_path.endswith("dup-of-a.txt")
    assert len(_ledger(tmp_path)) == 2


def test_an_item_points_at_its_run_while_it_runs(runtime, tmp_path: Path) -> None:
    queue = published_queue(runtime.store, tmp_path)
    queue.enqueue("ledger-bot", "LINK-1", {"reference": "LINK-1", "maker": "alice"})  # parks for approval
    seen: list[str | None] = []
    worker = Worker(runtime, queue, capacity=1, poll_interval=0.05)
    original = worker.executor.execute

    async def spying_execute(run_id: str, **kwargs):  # the item is read back before the run starts
        seen.append(queue.find_item("ledger-bot", "LINK-1").run_id)
        return await original(run_id, **kwargs)

    worker.executor.execute = spying_execute
    asyncio.run(_drain(worker, queue, lambda: queue.status_counts().get(ItemStatus.needs_review) == 1))
    item = queue.find_item("ledger-bot", "LINK-1")
    assert seen == [item.run_id]
    assert item.run_id is not None


def test_an_internal_error_sends_the_item_to_a_person_with_the_error(runtime, tmp_path: Path) -> None:
    """A bug in the engine (here: ``execute`` raising) must not kill the runner nor leave the
    item to its lease: the item goes to the manual queue naming the error, and the runner goes on."""
    queue = published_queue(runtime.store, tmp_path)
    queue.enqueue("ledger-bot", "BUG-1", {"reference": "BUG-1"})
    queue.enqueue("ledger-bot", "OK-1", {"reference": "OK-1"})
    worker = Worker(runtime, queue, capacity=1, poll_interval=0.05)
    original = worker.executor.execute

    async def buggy_execute(run_id: str, **kwargs):
        if runtime.store.get_run(run_id).inputs["reference"] == "BUG-1":
            raise ZeroDivisionError("division by zero in the engine")
        return await original(run_id, **kwargs)

    worker.executor.execute = buggy_execute

    def settled() -> bool:
        counts = queue.status_counts()
        return counts.get(ItemStatus.new, 0) == 0 and counts.get(ItemStatus.in_progress, 0) == 0

    asyncio.run(_drain(worker, queue, settled))
    bug = queue.find_item("ledger-bot", "BUG-1")
    assert bug.status is ItemStatus.needs_review
    assert bug.reason_code == "internal_error"
    assert bug.reason == "internal error: ZeroDivisionError: division by zero in the engine"
    assert queue.find_item("ledger-bot", "OK-1").status is ItemStatus.done
    (entry,) = ManualQueue(runtime.store, queue, runtime.registry).entries()
    assert entry.item.reference == "BUG-1"
    assert (entry.run.id, entry.run.reason_code, entry.run.reason) == (
        bug.run_id,
        "internal_error",
        bug.reason,
    )
    assert entry.run.owner is None
    # parked, so `rpa resume --all` does not pick it up again behind the person's back
    assert bug.run_id not in [r.id for r in runtime.store.find_interrupted_runs(utcnow())]


def test_an_item_whose_inputs_do_not_fit_waits_for_a_person_with_a_run(runtime, tmp_path: Path) -> None:
    """The run cannot start, so the engine never parks it: the runner creates it parked, so
    that the item is in the manual queue with its reason, and a person can reject or retry it."""
    queue = published_queue(runtime.store, tmp_path)
    queue.enqueue("ledger-bot", "INV-1", {"reference": "INV-1", "amount": "twelve"})
    worker = Worker(runtime, queue, capacity=1, poll_interval=0.05)
    asyncio.run(_drain(worker, queue, lambda: queue.status_counts().get(ItemStatus.needs_review) == 1))
    item = queue.find_item("ledger-bot", "INV-1")
    assert item.reason_code == "invalid_item"
    assert item.reason.startswith("cannot start the run: input 'amount': expected decimal, got 'twelve'")
    manual = ManualQueue(runtime.store, queue, runtime.registry)
    (entry,) = manual.entries()
    assert entry.item.id == item.id
    assert (entry.run.id, entry.run.workflow, entry.run.reason) == (
        item.run_id,
        "post-to-ledger",
        item.reason,
    )
    assert entry.run.inputs["amount"] == "twelve"

    manual.retry(entry.run.id, "bob")  # e.g. after the workflow was fixed: here it parks again
    asyncio.run(_drain(worker, queue, lambda: queue.status_counts().get(ItemStatus.needs_review) == 1))
    again = queue.find_item("ledger-bot", "INV-1")
    assert (again.run_id, again.reason_code) == (item.run_id, "invalid_item")

    manual.reject(entry.run.id, "bob", "the customer sent a corrected instruction")
    rejected = queue.find_item("ledger-bot", "INV-1")
    assert rejected.status is ItemStatus.rejected
    assert runtime.store.get_run(item.run_id).status is RunStatus.rejected
    assert runtime.store.verify_audit().ok


def test_rpa_manual_list_shows_the_reference_code_and_reason(
    runtime, tmp_path: Path, store_url: str, run_rpa
) -> None:
    queue = published_queue(runtime.store, tmp_path)
    queue.enqueue("ledger-bot", "INV-9", {"reference": "INV-9", "amount": "twelve"})
    worker = Worker(runtime, queue, capacity=1, poll_interval=0.05)
    asyncio.run(_drain(worker, queue, lambda: queue.status_counts().get(ItemStatus.needs_review) == 1))
    result = run_rpa(
        "--db",
        store_url,
        "--home",
        str(tmp_path / ".rpa"),
        "manual",
        "list",
        cwd=tmp_path,
        env={"COLUMNS": "220"},
    )
    assert result.returncode == 0, result.stderr
    (header, row) = [line.split() for line in result.stdout.strip().splitlines()]
    assert header == ["run", "reference", "workflow", "step", "code", "reason"]
    assert row[1:3] == ["INV-9", "post-to-ledger"]
    assert row[3] == "invalid_item"  # no parked step: the run never started
    assert " ".join(row[4:]).startswith("cannot start the run: input 'amount'")


@pytest.mark.parametrize("finishing", [True, False], ids=["finished-meanwhile", "really-lost"])
def test_a_heartbeat_tells_a_finished_item_from_a_lost_lease(
    runtime, tmp_path: Path, finishing: bool
) -> None:
    queue = published_queue(runtime.store, tmp_path)
    queue.enqueue("ledger-bot", "HB-1", {"reference": "HB-1"})
    worker = Worker(runtime, queue, capacity=1, poll_interval=0.05)
    (claim,) = queue.claim(worker.owner, worker.lease, limit=1)
    # the item's outcome is committed, but its task has not wound down yet
    queue.finish(claim, ItemStatus.done)

    async def beat() -> bool:
        task = asyncio.create_task(asyncio.sleep(5))
        worker.active[task] = claim
        if finishing:
            worker.finishing.add(claim.item.id)
        worker.beat_once()
        await asyncio.sleep(0)
        cancelled = task.cancelled() or task.cancelling() > 0
        task.cancel()
        return cancelled

    cancelled = asyncio.run(beat())
    assert cancelled is not finishing
    assert worker.stats.lost == (0 if finishing else 1)


def test_a_heartbeat_that_fails_with_a_bug_does_not_end_the_heartbeats(runtime, tmp_path: Path) -> None:
    queue = published_queue(runtime.store, tmp_path)
    worker = Worker(runtime, queue, capacity=1, lease=timedelta(seconds=0.3))  # a beat every 0.1 s
    beats: list[str] = []

    def beat_once() -> None:
        beats.append("beat")
        if len(beats) == 1:
            raise RuntimeError("a bug in the first beat")

    worker.beat_once = beat_once  # type: ignore[method-assign]

    async def run_beats() -> None:
        task = asyncio.create_task(worker._heartbeats(asyncio.Event()))
        for _ in range(200):
            if len(beats) >= 3 or task.done():
                break
            await asyncio.sleep(0.05)
        assert not task.done(), task.exception()
        task.cancel()

    asyncio.run(run_beats())
    assert len(beats) >= 3


def test_a_runner_goes_on_working_when_reaping_fails_with_a_bug(runtime, tmp_path: Path) -> None:
    queue = published_queue(runtime.store, tmp_path)
    for n in range(2):
        queue.enqueue("ledger-bot", f"RP{n}", {"reference": f"RP{n}"})

    def broken_reap(*_args: Any) -> list[Any]:
        raise RuntimeError("a bug in reaping")

    queue.reap_expired = broken_reap  # type: ignore[method-assign]
    worker = Worker(runtime, queue, capacity=1, poll_interval=0.05)
    asyncio.run(_drain(worker, queue, lambda: queue.status_counts().get(ItemStatus.done, 0) == 2))
    assert queue.status_counts() == {ItemStatus.done: 2}


def test_a_store_outage_is_logged_when_it_begins_and_when_it_ends(runtime, tmp_path: Path) -> None:
    from loguru import logger

    queue = published_queue(runtime.store, tmp_path)
    queue.enqueue("ledger-bot", "OUT-1", {"reference": "OUT-1"})
    claim, failures = queue.claim, iter(range(6))

    def claim_while_the_store_is_down(*args: Any, **kwargs: Any) -> Any:
        if next(failures, None) is not None:
            raise StoreUnavailable("connection refused")
        return claim(*args, **kwargs)

    queue.claim = claim_while_the_store_is_down  # type: ignore[method-assign]
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(message.record["message"]), level="DEBUG")
    try:
        worker = Worker(runtime, queue, capacity=1, poll_interval=0.02, first_poll=0.001)
        asyncio.run(_drain(worker, queue, lambda: queue.status_counts().get(ItemStatus.done) == 1))
    finally:
        logger.remove(sink)
    began = [line for line in lines if line.startswith("store unavailable")]
    ended = [line for line in lines if line.startswith("store reachable again")]
    (first,) = began
    assert "(claim failed: connection refused)" in first
    assert sum(line.startswith("store still unavailable") for line in lines) == 5
    (last,) = ended
    assert "(6 call(s) failed meanwhile)" in last


def test_an_inbox_keeps_its_files_through_a_store_outage_and_says_so_twice(runtime, tmp_path: Path) -> None:
    from loguru import logger

    from orchestrator.queue.bots import load_bot_file
    from orchestrator.queue.triggers import FolderWatcher

    queue = published_queue(
        runtime.store,
        tmp_path,
        name="inbox-bot",
        triggers='[{type: folder, path: ../inbox, pattern: "*.txt", settle: 0s, poll: 20ms, input: reference}]',
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("alpha")
    os.utime(inbox / "a.txt", (1, 1))
    enqueue_many, failures = queue.enqueue_many, iter(range(4))

    def enqueue_while_the_store_is_down(*args: Any) -> Any:
        if next(failures, None) is not None:
            raise StoreUnavailable("connection refused")
        return enqueue_many(*args)

    queue.enqueue_many = enqueue_while_the_store_is_down  # type: ignore[method-assign]
    bot = load_bot_file(tmp_path / "bots" / "inbox-bot.yaml", runtime.registry)
    watcher = FolderWatcher(queue, bot, 0, bot.spec.triggers[0])
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(message.record["message"]), level="DEBUG")

    async def watch_until_enqueued() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(watcher.run(stop))
        for _ in range(500):
            if queue.list_items(bot="inbox-bot"):
                break
            await asyncio.sleep(0.02)
        stop.set()
        await task

    try:
        asyncio.run(watch_until_enqueued())
    finally:
        logger.remove(sink)
    (item,) = queue.list_items(bot="inbox-bot")
    assert item.source_path == str(inbox / "a.txt")
    assert (inbox / "a.txt").exists()  # it waited in its inbox, not in failed/
    (first,) = [line for line in lines if line.startswith("store unavailable")]
    assert (
        f"(enqueueing from {inbox} failed: connection refused); the watcher of {inbox} keeps trying" in first
    )
    (last,) = [line for line in lines if line.startswith("store reachable again")]
    assert "(4 call(s) failed meanwhile)" in last


# -- a runner finishing an item claims its next one in the same transaction -------------
def test_each_finish_claims_the_next_item_in_its_transaction(runtime, tmp_path: Path) -> None:
    queue = published_queue(runtime.store, tmp_path)
    for n in range(5):
        queue.enqueue("ledger-bot", f"R{n}", {"reference": f"R{n}"})
    worker = Worker(runtime, queue, capacity=1, poll_interval=0.05)
    claimed_alone: list[int] = []
    claim = queue.claim

    def counting_claim(*args: Any, **kwargs: Any) -> Any:
        got = claim(*args, **kwargs)
        claimed_alone.append(len(got))
        return got

    queue.claim = counting_claim  # type: ignore[method-assign]
    asyncio.run(_drain(worker, queue, lambda: queue.status_counts().get(ItemStatus.done, 0) >= 5))
    # only the first item was claimed on its own; the other four came with a finish
    assert sum(claimed_alone) == 1
    assert worker.stats.claimed == 5
    assert worker.stats.finished == {"done": 5}
    ledger = (tmp_path / "ledger.jsonl").read_text().splitlines()
    assert len(ledger) == 5
    assert runtime.store.verify_audit().ok


def test_claims_made_with_a_finish_are_handed_back_when_the_worker_stops(runtime, tmp_path: Path) -> None:
    queue = published_queue(runtime.store, tmp_path)
    queue.enqueue("ledger-bot", "R1", {"reference": "R1"})
    worker = Worker(runtime, queue, capacity=1, poll_interval=0.05)
    (claim,) = queue.claim(worker.owner, timedelta(seconds=30))
    worker._adopt([claim])  # as a finishing item's transaction would after its commit

    async def stopped_at_once() -> None:
        stop = asyncio.Event()
        stop.set()
        await worker.run(stop)

    asyncio.run(stopped_at_once())
    item = queue.find_item("ledger-bot", "R1")
    assert (item.status, item.crashes, worker.stats.released) == (ItemStatus.new, 0, 1)
    assert worker.prefetched == []


def test_after_commit_runs_only_for_a_committed_transaction(runtime) -> None:
    store = runtime.store
    called: list[str] = []
    with store.hot_tx() as tx:
        tx.append(AuditEvent(kind="test_event", actor="test", payload={}))
        tx.after_commit(lambda: called.append("committed"))
        assert called == []
    assert called == ["committed"]

    def failing_transaction() -> None:
        with store.hot_tx() as tx:
            tx.after_commit(lambda: called.append("rolled back"))
            raise RuntimeError("the transaction fails")

    with pytest.raises(RuntimeError):
        failing_transaction()
    assert called == ["committed"]


STATUS_WORKFLOW = """
name: fetch-status
inputs:
  reference: {type: string}
  url: {type: string}
steps:
  - id: fetch
    uses: do.http_get
    retry: {max_attempts: 1}
    with: {url: "${{ inputs.url }}", timeout_s: 5}
"""


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_failed_items_are_retried_together_once_the_platform_is_back(
    runtime, tmp_path: Path, store_url: str, run_rpa
) -> None:
    import http.server
    import threading

    from orchestrator.queue.bots import load_bot_file, publish

    (tmp_path / "workflows").mkdir()
    (tmp_path / "bots").mkdir()
    (tmp_path / "workflows" / "status.yaml").write_text(STATUS_WORKFLOW, encoding="utf-8")
    (tmp_path / "bots" / "status-bot.yaml").write_text(
        "name: status-bot\nworkflow: ../workflows/status.yaml\nconcurrency: 2\n", encoding="utf-8"
    )
    queue = published_queue(runtime.store, tmp_path / "ledger")
    publish(queue, load_bot_file(tmp_path / "bots" / "status-bot.yaml", runtime.registry))
    port = _free_port()  # nothing listens there yet: the platform is down
    for reference in ("S-1", "S-2"):
        queue.enqueue("status-bot", reference, {"reference": reference, "url": f"http://127.0.0.1:{port}/"})
    worker = Worker(runtime, queue, capacity=2, poll_interval=0.05)
    asyncio.run(_drain(worker, queue, lambda: queue.status_counts("status-bot").get(ItemStatus.failed) == 2))
    manual = ManualQueue(runtime.store, queue, runtime.registry)
    assert [e.item.reference for e in manual.retry_failed("bob", dry_run=True)] == ["S-2", "S-1"]
    assert manual.retry_failed("bob", reason_code="no-such-code") == []
    assert manual.retry_failed("bob", bot="ledger-bot") == []
    dry = run_rpa(
        "--db",
        store_url,
        "--home",
        str(tmp_path / ".rpa"),
        "manual",
        "retry-failed",
        "--dry-run",
        "--not-before",
        "2099-01-02T06:00+08:00",
        cwd=tmp_path,
    )
    assert dry.returncode == 0, dry.stderr
    assert "would retry 2 failed item(s); not before 2099-01-02T06:00+08:00" in dry.stdout
    assert queue.status_counts("status-bot") == {ItemStatus.failed: 2}  # a dry run changes nothing

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:  # the platform is back
        retried = manual.retry_failed("bob", bot="status-bot", note="terminal back at 02:10")
        assert sorted(e.item.reference for e in retried) == ["S-1", "S-2"]
        asyncio.run(
            _drain(worker, queue, lambda: queue.status_counts("status-bot").get(ItemStatus.done) == 2)
        )
    finally:
        server.shutdown()
        server.server_close()
    notes = [e.payload["note"] for e in runtime.store.audit_events(kind="manual_retry")]
    assert notes == ["terminal back at 02:10"] * 2


FILE_WORKFLOW = """
name: file-and-status
inputs:
  path: {type: string}
  url: {type: string}
steps:
  - id: read
    uses: do.read_file
    with: {path: "${{ inputs.path }}"}
  - id: fetch
    uses: do.http_get
    retry: {max_attempts: 1}
    with: {url: "${{ inputs.url }}", timeout_s: 5}
"""


def _file_bot_service(runtime: Any, tmp_path: Path, port: int, reference: str = "") -> Service:
    """rpa serve with one runner and a bot whose folder trigger reads inbox/*.txt and fetches
    from ``port``; ``reference``: the trigger's reference setting, e.g. ``" reference: name,"``."""
    (tmp_path / "workflows").mkdir()
    (tmp_path / "bots").mkdir()
    (tmp_path / "workflows" / "file.yaml").write_text(FILE_WORKFLOW, encoding="utf-8")
    (tmp_path / "bots" / "file-bot.yaml").write_text(
        "name: file-bot\nworkflow: ../workflows/file.yaml\n"
        "triggers: [{type: folder, path: ../inbox, pattern: '*.txt', settle: 0s, poll: 100ms, input: path,"
        f"{reference} inputs: {{url: 'http://127.0.0.1:{port}/'}}}}]\n",
        encoding="utf-8",
    )
    (tmp_path / "inbox").mkdir()
    return Service(runtime, runners=1, serve_http=False, bots_dir=tmp_path / "bots")


def _serve_until(service: Service, condition: Any) -> None:
    async def serve() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        for _ in range(600):
            await asyncio.sleep(0.05)
            if condition():
                break
        stop.set()
        await task

    asyncio.run(serve())


def test_a_retried_failed_folder_item_gets_its_file_back_then_moves_to_processed(
    runtime, tmp_path: Path
) -> None:
    """A failed item's file went to failed/; its run reads it from the inbox, so a person's
    retry puts it back there first — and once the item is done it moves to processed/."""
    import http.server
    import threading

    port = _free_port()
    service = _file_bot_service(runtime, tmp_path, port, " reference: name,")
    inbox = tmp_path / "inbox"
    (inbox / "m1.txt").write_text("MT103 ...")
    failed_file = tmp_path / "failed" / "m1.txt"
    done_file = tmp_path / "processed" / "m1.txt"
    _serve_until(
        service, lambda: failed_file.exists() and service.queue.status_counts() == {ItemStatus.failed: 1}
    )
    assert failed_file.with_name("m1.txt.reason.txt").exists()
    manual = ManualQueue(runtime.store, service.queue, runtime.registry)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (retried,) = manual.retry_failed("bob")
        assert retried.item.reference == "m1.txt"
        assert (inbox / "m1.txt").read_text() == "MT103 ..."  # back where its run reads it
        assert not failed_file.exists()
        assert not failed_file.with_name("m1.txt.reason.txt").exists()
        _serve_until(service, lambda: done_file.exists())
    finally:
        server.shutdown()
        server.server_close()
    assert service.queue.status_counts() == {ItemStatus.done: 1}
    assert not (inbox / "m1.txt").exists()


def test_an_item_enqueued_in_the_runners_process_starts_without_waiting_for_a_poll(
    runtime, tmp_path: Path
) -> None:
    # rpa serve: the API (from its thread pool), the scheduler and the folder watcher enqueue
    # through the runners' own queue. With a minute between polls, only the wake-up can start
    # the item before the test gives up.
    queue = published_queue(runtime.store, tmp_path)
    worker = Worker(runtime, queue, capacity=1, poll_interval=60, first_poll=60)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(0.3)  # the runner found the queue empty and waits for its next poll
        await asyncio.to_thread(queue.enqueue, "ledger-bot", "W-1", {"reference": "W-1"})
        deadline = asyncio.get_running_loop().time() + 20
        while queue.status_counts().get(ItemStatus.done, 0) < 1:
            assert asyncio.get_running_loop().time() < deadline, "the runner slept through the enqueue"
            await asyncio.sleep(0.05)
        stop.set()
        await task

    asyncio.run(scenario())
    assert worker.stats.finished == {"done": 1}
    assert queue._arrival_listeners == []  # a stopped runner is no longer woken


def test_a_runner_that_finds_the_queue_empty_looks_again_soon_then_less_often(
    runtime, tmp_path: Path
) -> None:
    # items enqueued by another process do not wake this one: a runner that just ran dry looks
    # again after first_poll, then twice as long each time up to poll_interval; an item found
    # starts the sequence over
    queue = published_queue(runtime.store, tmp_path)
    other_process = SQLWorkQueue(runtime.store)  # no runner listens on it
    worker = Worker(runtime, queue, capacity=1, poll_interval=0.1, first_poll=0.005)
    waits: list[float] = []
    idle = worker._idle
    stop = asyncio.Event()

    async def recording_idle(timeout: float) -> None:
        waits.append(timeout)
        if len(waits) == 7:
            other_process.enqueue("ledger-bot", "P-1", {"reference": "P-1"})
        if queue.status_counts().get(ItemStatus.done, 0) == 1 and waits.count(0.005) == 2:
            stop.set()
        await idle(min(timeout, 0.02))

    worker._idle = recording_idle  # type: ignore[method-assign]

    async def scenario() -> None:
        await asyncio.wait_for(worker.run(stop), timeout=30)

    asyncio.run(scenario())
    assert waits[:7] == [0.005, 0.01, 0.02, 0.04, 0.08, 0.1, 0.1]
    assert worker.stats.finished == {"done": 1}
    # while the item ran the loop had no room and waited for it; then it looked again soon
    after = waits[7:]
    assert 0.005 in after
    assert after.index(0.005) > 0


def test_a_runner_whose_finishing_transaction_found_no_next_item_does_not_ask_again_at_once(
    runtime, tmp_path: Path
) -> None:
    # the transaction that finishes an item also looks for the next one; when it finds none,
    # the runner waits first_poll before its next look instead of asking the database again
    # straight away (which, with several runners on a queue that keeps running dry, was one
    # empty claim transaction for every item)
    queue = published_queue(runtime.store, tmp_path)
    queue.enqueue("ledger-bot", "N-1", {"reference": "N-1"})
    events: list[tuple[str, Any]] = []
    stop = asyncio.Event()
    worker = Worker(
        runtime,
        queue,
        capacity=1,
        poll_interval=0.1,
        first_poll=0.005,
        on_finished=lambda claim, outcome: events.append(("finished", claim.item.reference)),
    )
    claim, idle = queue.claim, worker._idle

    def recording_claim(*args: Any, **kwargs: Any) -> Any:
        claims = claim(*args, **kwargs)
        events.append(("claim", len(claims)))
        return claims

    async def recording_idle(timeout: float) -> None:
        events.append(("idle", timeout))
        if events.count(("claim", 0)) == 2:
            stop.set()
        await idle(timeout)

    queue.claim = recording_claim  # type: ignore[method-assign]
    worker._idle = recording_idle  # type: ignore[method-assign]
    asyncio.run(asyncio.wait_for(worker.run(stop), timeout=30))
    assert events[0] == ("claim", 1)
    after = events[events.index(("finished", "N-1")) + 1 :]
    assert after[:4] == [("idle", 0.005), ("claim", 0), ("idle", 0.01), ("claim", 0)]


def test_a_retry_puts_back_the_items_own_file_when_another_of_that_name_failed_before(
    runtime, tmp_path: Path, store_url: str, run_rpa
) -> None:
    """Two different files named m1.txt fail one after the other (the daily file, two days
    running); the second goes to failed/ as m1.1.txt. Retrying the second item puts *its* file
    back in the inbox, not the first day's m1.txt."""
    # nothing listens on the port: every fetch fails; the reference is the content's sha256
    service = _file_bot_service(runtime, tmp_path, _free_port())
    inbox = tmp_path / "inbox"
    failed = tmp_path / "failed"
    for day, failed_count in (("day 1", 1), ("day 2", 2)):
        (inbox / "m1.txt").write_text(f"MT103 of {day}")
        _serve_until(
            service,
            lambda n=failed_count: (
                service.queue.status_counts() == {ItemStatus.failed: n} and not (inbox / "m1.txt").exists()
            ),
        )
    assert (failed / "m1.txt").read_text() == "MT103 of day 1"
    assert (failed / "m1.1.txt").read_text() == "MT103 of day 2"
    (second,) = [
        item
        for item in service.queue.list_items(bot="file-bot")
        if (item.settled_path or "").endswith("m1.1.txt")
    ]
    manual = ManualQueue(runtime.store, service.queue, runtime.registry)
    manual.retry(second.run_id, "bob")
    assert (inbox / "m1.txt").read_text() == "MT103 of day 2"  # its own file, back where its run reads it
    assert (failed / "m1.txt").read_text() == "MT103 of day 1"  # the other one stays parked
    assert not (failed / "m1.1.txt").exists()
    assert not (failed / "m1.1.txt.reason.txt").exists()
    assert (failed / "m1.txt.reason.txt").exists()
    # the item no longer names failed/m1.1.txt: its file is back in the inbox
    assert service.queue.get_item(second.id).settled_path is None
    assert service.queue.get_item(second.id).source_path == str(inbox / "m1.txt")
    # the first day's item cannot go back now: the inbox holds the second day's m1.txt, which
    # its run would read. Nothing moves, it stays failed and still says where its file is.
    (first,) = [item for item in service.queue.list_items(bot="file-bot") if item.id != second.id]
    with pytest.raises(ManualActionError, match="holds another file"):
        manual.retry(first.run_id, "bob")
    skipped: list[Any] = []
    assert manual.retry_failed("bob", skipped=skipped) == []  # the bulk retry says why it left it
    assert [(entry.item.id, "holds another file" in why) for entry, why in skipped] == [(first.id, True)]
    bulk = run_rpa(
        "--db", store_url, "--home", str(tmp_path / ".rpa"), "manual", "retry-failed", cwd=tmp_path
    )
    assert bulk.returncode == 0, bulk.stderr
    assert "sent back to the queue: 0 failed item(s)" in bulk.stdout
    assert f"not retried: {first.run_id[:12]}" in bulk.stdout
    assert "holds another file" in bulk.stdout
    assert service.queue.get_item(first.id).status is ItemStatus.failed
    assert service.queue.get_item(first.id).settled_path == str(failed / "m1.txt")
    assert (failed / "m1.txt").read_text() == "MT103 of day 1"
    assert (inbox / "m1.txt").read_text() == "MT103 of day 2"
    # a person copied the first day's file back themselves: the same content counts as restored
    (inbox / "m1.txt").write_text("MT103 of day 1")
    manual.retry(first.run_id, "bob")
    assert service.queue.get_item(first.id).status is ItemStatus.new
    assert service.queue.get_item(first.id).settled_path is None
    assert not (failed / "m1.txt").exists()


def _cut_off_before_commit(real: Any) -> Any:
    """``real`` (a queue write in a person's transaction), then the connection is lost before
    COMMIT: a crash between the run's and the item's writes cannot be timed from outside."""

    def cut_off(conn: Any, item_id: str, **kwargs: Any) -> None:
        real(conn, item_id, **kwargs)
        raise StoreUnavailable("store write failed: server closed the connection unexpectedly")

    return cut_off


def test_a_manual_action_cut_off_before_its_commit_changes_neither_the_run_nor_the_item(
    runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retry and reject write the run and its item in one transaction: cut off half way, the
    run is not left reopened (or rejected) with its item still waiting for a person, where no
    runner would claim it and the manual queue would no longer list it."""
    queue, worker, manual, entry = _one_parked_item(runtime, tmp_path, "BAD-3")

    def unchanged() -> None:
        assert runtime.store.get_run(entry.run.id).status is RunStatus.needs_review
        assert queue.get_item(entry.item.id).status is ItemStatus.needs_review
        assert [e.run.id for e in manual.entries()] == [entry.run.id]  # still in the manual queue
        assert not [e for e in runtime.store.audit_events() if e.kind.startswith("manual_")]

    with monkeypatch.context() as patch:
        patch.setattr(queue, "requeue_in", _cut_off_before_commit(queue.requeue_in))
        with pytest.raises(StoreUnavailable):
            manual.resume(entry.run.id, "bob", {"condition": "true"})
        unchanged()
        patch.setattr(queue, "reject_in", _cut_off_before_commit(queue.reject_in))
        with pytest.raises(StoreUnavailable):
            manual.reject(entry.run.id, "bob", "customer withdrew the instruction")
        unchanged()
    # an item that is no longer waiting (someone else took it meanwhile) stops the action whole
    with runtime.store.writing() as conn:
        conn.execute(ITEMS.update().where(ITEMS.c.id == entry.item.id).values(status="in_progress"))
    with pytest.raises(ManualActionError, match="not waiting for a person; nothing was changed"):
        manual.retry(entry.run.id, "bob")
    with pytest.raises(ManualActionError, match="being worked on by a runner or has ended; nothing was"):
        manual.reject(entry.run.id, "bob", "customer withdrew the instruction")
    assert runtime.store.get_run(entry.run.id).status is RunStatus.needs_review
    with runtime.store.writing() as conn:
        conn.execute(ITEMS.update().where(ITEMS.c.id == entry.item.id).values(status="needs_review"))
    unchanged()
    assert runtime.store.verify_audit().ok  # the chain did not advance over what rolled back
    manual.resume(entry.run.id, "bob", {"condition": "true"})
    asyncio.run(_drain(worker, queue, lambda: queue.status_counts() == {ItemStatus.done: 1}))
    assert [r["reference"] for r in _ledger(tmp_path)] == ["BAD-3"]
    assert runtime.store.verify_audit().ok


def test_a_retry_cut_off_before_its_commit_parks_the_file_again(
    runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _file_bot_service(runtime, tmp_path, _free_port(), " reference: name,")
    inbox = tmp_path / "inbox"
    (inbox / "m1.txt").write_text("MT103 ...")
    failed_file = tmp_path / "failed" / "m1.txt"
    reason_file = failed_file.with_name("m1.txt.reason.txt")
    _serve_until(
        service, lambda: failed_file.exists() and service.queue.status_counts() == {ItemStatus.failed: 1}
    )
    manual = ManualQueue(runtime.store, service.queue, runtime.registry)
    (item,) = service.queue.list_items(bot="file-bot")
    with monkeypatch.context() as patch:
        patch.setattr(service.queue, "requeue_in", _cut_off_before_commit(service.queue.requeue_in))
        with pytest.raises(StoreUnavailable):
            manual.retry(item.run_id, "bob")
    assert failed_file.read_text() == "MT103 ..."  # parked again, with why it failed
    assert reason_file.exists()
    assert not (inbox / "m1.txt").exists()  # the watcher finds nothing to enqueue
    assert service.queue.get_item(item.id).status is ItemStatus.failed
    assert runtime.store.get_run(item.run_id).status is RunStatus.failed
    manual.retry(item.run_id, "bob")
    assert (inbox / "m1.txt").read_text() == "MT103 ..."
    assert not failed_file.exists()
    assert not reason_file.exists()
    assert service.queue.get_item(item.id).status is ItemStatus.new
