"""The work queue's contract, written once and run on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from queue_helpers import published_queue

from orchestrator.enums import RunStatus
from orchestrator.queue.models import ItemStatus, Offer

LEASE = timedelta(seconds=30)


def test_enqueue_is_idempotent_and_duplicates_are_recorded(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path)
    first = queue.enqueue("ledger-bot", "MSG-1", {"reference": "MSG-1"}, source="api")
    again = queue.enqueue(
        "ledger-bot", "MSG-1", {"reference": "MSG-1"}, source="folder:x", source_path="/in/b.xml"
    )
    assert first.created
    assert not again.created
    assert again.item.id == first.item.id
    (dup,) = queue.duplicates("ledger-bot")
    assert (dup.reference, dup.item_id, dup.source_path) == ("MSG-1", first.item.id, "/in/b.xml")
    # the same file seen again by the watcher is not a duplicate
    queue.enqueue("ledger-bot", "MSG-2", {"reference": "MSG-2"}, source="folder:x", source_path="/in/c.xml")
    queue.enqueue("ledger-bot", "MSG-2", {"reference": "MSG-2"}, source="folder:x", source_path="/in/c.xml")
    assert len(queue.duplicates("ledger-bot")) == 1
    kinds = [e.kind for e in store.audit_events()]
    assert kinds.count("item_duplicate") == 1
    # a duplicate offered alone left nothing behind (on PostgreSQL it is first tried as new,
    # in one round trip, and fails): the next offer is enqueued and the chain has no gap
    after = queue.enqueue("ledger-bot", "MSG-3", {"reference": "MSG-3"}, source="api")
    assert after.created
    assert queue.get_item(after.item.id).reference == "MSG-3"
    kinds = [e.kind for e in store.audit_events()]
    assert (kinds.count("item_enqueued"), kinds.count("item_duplicate")) == (3, 1)
    assert store.verify_audit().ok


def test_enqueue_many_is_one_enqueue_per_offer(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path)
    existing = queue.enqueue("ledger-bot", "OLD", {"reference": "OLD"}, source="api").item
    results = queue.enqueue_many(
        "ledger-bot",
        [
            Offer("A", {"reference": "A"}, priority=7, source="folder:x", source_path="/in/a.xml"),
            Offer("OLD", {"reference": "OLD"}, source="folder:x", source_path="/in/old.xml"),
            Offer("B", {"reference": "B"}, source="folder:x", source_path="/in/b.xml"),
            Offer("A", {"reference": "A"}, source="folder:x", source_path="/in/a-copy.xml"),
        ],
    )
    assert [r.created for r in results] == [True, False, True, False]
    assert results[1].item.id == existing.id
    assert results[3].item.id == results[0].item.id
    assert results[0].item.priority == 7
    assert results[0].item.source_path == "/in/a.xml"
    assert sorted(d.reference for d in queue.duplicates("ledger-bot")) == ["A", "OLD"]
    kinds = [e.kind for e in store.audit_events()]
    assert (kinds.count("item_enqueued"), kinds.count("item_duplicate")) == (3, 2)
    assert store.verify_audit().ok
    assert queue.enqueue_many("ledger-bot", []) == []
    # a large batch: its audit events are written in several multi-row statements, chained
    batch = queue.enqueue_many("ledger-bot", [Offer(f"C{n}", {"reference": f"C{n}"}) for n in range(40)])
    assert all(r.created for r in batch)
    events = [e for e in store.audit_events() if e.kind == "item_enqueued"]
    assert len(events) == 43
    assert store.verify_audit().ok


def test_claim_order_priority_and_postponement(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, concurrency=10)
    queue.enqueue("ledger-bot", "low", {"reference": "low"}, priority=0)
    queue.enqueue(
        "ledger-bot",
        "later",
        {"reference": "later"},
        priority=9,
        not_before=datetime.now(UTC) + timedelta(hours=1),
    )
    queue.enqueue("ledger-bot", "high", {"reference": "high"}, priority=5)
    claims = queue.claim("runner-a", LEASE, limit=5)
    assert [c.item.reference for c in claims] == ["high", "low"]
    assert all(c.item.status is ItemStatus.in_progress and c.item.attempts == 1 for c in claims)


def _enqueue_with_deadlines(queue) -> list[str]:
    """Items offered in this order; returns the order they must be claimed in (UiPath's: items
    with a deadline first, by priority and then the earliest deadline; then the others, by
    priority and then first in, first out)."""
    now = datetime.now(UTC)
    offers = [  # (reference, priority, deadline in hours)
        ("plain-low", 0, None),
        ("plain-high", 5, None),
        ("due-3h-low", 0, 3),
        ("due-2h-low", 0, 2),
        ("plain-low-2", 0, None),
        ("due-5h-high", 5, 5),
    ]
    for reference, priority, hours in offers:
        deadline = None if hours is None else now + timedelta(hours=hours)
        queue.enqueue("ledger-bot", reference, {"reference": reference}, priority=priority, deadline=deadline)
    return ["due-5h-high", "due-2h-low", "due-3h-low", "plain-high", "plain-low", "plain-low-2"]


def test_items_with_a_deadline_are_claimed_first(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, concurrency=10)
    expected = _enqueue_with_deadlines(queue)
    claimed = [queue.claim("runner-a", LEASE, limit=1)[0].item.reference for _ in expected]
    assert claimed == expected


def test_the_next_item_claimed_with_a_finish_respects_deadlines(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, concurrency=1)  # one slot, handed from item to item
    expected = _enqueue_with_deadlines(queue)
    (claim,) = queue.claim("runner-a", LEASE)
    claimed = [claim.item.reference]
    while len(claimed) < len(expected):
        (claim,) = _finish_and_claim_next(queue, claim)
        claimed.append(claim.item.reference)
    assert claimed == expected


def test_a_deadline_sooner_than_the_bots_sla_is_the_items_due_time(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, sla="2h")
    soon, late = datetime.now(UTC) + timedelta(minutes=30), datetime.now(UTC) + timedelta(hours=5)
    by_deadline = queue.enqueue("ledger-bot", "D1", {"reference": "D1"}, deadline=soon).item
    by_sla = queue.enqueue("ledger-bot", "D2", {"reference": "D2"}, deadline=late).item
    plain = queue.enqueue("ledger-bot", "D3", {"reference": "D3"}).item
    assert abs(queue.get_item(by_deadline.id).sla_due_at - soon) < timedelta(seconds=1)
    two_hours = plain.created_at + timedelta(hours=2)
    assert abs(queue.get_item(plain.id).sla_due_at - two_hours) < timedelta(seconds=1)
    assert abs(queue.get_item(by_sla.id).sla_due_at - (by_sla.created_at + timedelta(hours=2))) < timedelta(
        seconds=1
    )
    assert queue.get_item(by_sla.id).deadline is not None


def test_times_with_another_offset_keep_their_instant(store, tmp_path: Path) -> None:
    """Shanghai time in, the same instant out (SQLite has no time zones: it is stored as UTC)."""
    shanghai = timezone(timedelta(hours=8))
    queue = published_queue(store, tmp_path)
    in_a_minute = (datetime.now(UTC) + timedelta(minutes=1)).astimezone(shanghai)
    deadline = datetime(2026, 11, 28, 18, 0, tzinfo=shanghai)
    item = queue.enqueue(
        "ledger-bot", "TZ", {"reference": "TZ"}, deadline=deadline, not_before=in_a_minute
    ).item
    stored = queue.get_item(item.id)
    assert stored.deadline == deadline  # 10:00 UTC
    assert stored.not_before == in_a_minute
    assert queue.claim("runner-a", LEASE, limit=1) == []  # postponed for another minute, not 8 hours ago


def test_bot_concurrency_cap_holds_across_runners(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, concurrency=2)
    for n in range(5):
        queue.enqueue("ledger-bot", f"R{n}", {"reference": f"R{n}"})
    a = queue.claim("runner-a", LEASE, limit=5)
    b = queue.claim("runner-b", LEASE, limit=5)
    assert len(a) + len(b) == 2
    queue.finish(a[0], ItemStatus.done)
    c = queue.claim("runner-b", LEASE, limit=5)
    assert len(c) == 1
    assert queue.active_bot_items("ledger-bot") == 2


def test_resources_are_shared_between_bots(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, name="bot-a", concurrency=5, resources="{terminal: 1}")
    other = published_queue(store, tmp_path / "b", name="bot-b", concurrency=5, resources="{terminal: 1}")
    assert other is not None
    queue.enqueue("bot-a", "A1", {"reference": "A1"})
    queue.enqueue("bot-b", "B1", {"reference": "B1"})
    first = queue.claim("runner-a", LEASE, limit=5)
    assert len(first) == 1
    assert queue.claim("runner-b", LEASE, limit=5) == []  # the terminal is busy
    queue.finish(first[0], ItemStatus.done)
    assert len(queue.claim("runner-b", LEASE, limit=5)) == 1


def test_fencing_a_runner_that_lost_its_lease_cannot_finish(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path)
    queue.enqueue("ledger-bot", "F1", {"reference": "F1"})
    (stale,) = queue.claim("runner-a", timedelta(milliseconds=50), limit=1)
    time.sleep(0.15)
    (reaped,) = queue.reap_expired()
    assert reaped.id == stale.item.id
    (fresh,) = queue.claim("runner-b", LEASE, limit=1)
    assert fresh.token > stale.token
    assert queue.heartbeat([stale], LEASE) == [stale]
    import pytest

    from orchestrator.errors import LeaseLostError

    with pytest.raises(LeaseLostError):
        queue.finish(stale, ItemStatus.done)
    queue.finish(fresh, ItemStatus.done)
    item = queue.get_item(fresh.item.id)
    assert (item.status, item.crashes, item.attempts) == (ItemStatus.done, 1, 2)


@pytest.mark.parametrize("with_run", [True, False], ids=["run-created", "died-before-its-run"])
def test_poison_item_is_quarantined_after_repeated_crashes(store, tmp_path: Path, with_run: bool) -> None:
    queue = published_queue(store, tmp_path, max_crashes=2)
    queue.enqueue("ledger-bot", "P1", {"reference": "P1"})

    def start_run(tx, item, run_id):  # as a runner does on a first claim
        return store.insert_run(tx, run_id, "post-to-ledger", "digest", item.inputs, item.id, owner="runner")

    for expected in (ItemStatus.new, ItemStatus.needs_review):
        lease = timedelta(milliseconds=20)
        queue.claim("runner", lease, limit=1, start_run=start_run if with_run else None)
        time.sleep(0.08)
        queue.reap_expired()
        assert queue.find_item("ledger-bot", "P1").status is expected
    item = queue.find_item("ledger-bot", "P1")
    assert item.reason_code == "poison"
    assert "stopped 2 time(s)" in item.reason
    # its run waits for a person too (made for it if it had none): the manual queue lists it,
    # and `rpa resume --all` does not run it again
    run = store.get_run(item.run_id)
    assert (run.status, run.reason_code, run.reason, run.owner) == (
        RunStatus.needs_review,
        "poison",
        item.reason,
        None,
    )
    assert run.work_item_id == item.id
    assert item.run_id not in [r.id for r in store.find_interrupted_runs(datetime.now(UTC))]
    assert store.verify_audit().ok


def test_release_puts_the_item_back_without_a_crash(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, concurrency=1)
    queue.enqueue("ledger-bot", "G1", {"reference": "G1"})
    (claim,) = queue.claim("runner", LEASE, limit=1)
    queue.release(claim)
    item = queue.get_item(claim.item.id)
    assert (item.status, item.crashes) == (ItemStatus.new, 0)
    assert len(queue.claim("runner-2", LEASE, limit=1)) == 1  # its slot was freed


def test_a_first_claim_creates_and_links_its_run_in_the_claiming_transaction(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, concurrency=5)
    queue.enqueue("ledger-bot", "S1", {"reference": "S1"})
    queue.enqueue("ledger-bot", "S2", {"reference": "S2"})
    made: list[str] = []

    def start_run(tx, item, run_id):
        if item.reference == "S2":
            return None  # e.g. inputs that do not fit: left to the runner
        run = store.insert_run(tx, run_id, "wf", "digest", {}, item.id, owner="runner-a")
        made.append(item.reference)
        return run

    claims = {c.item.reference: c for c in queue.claim("runner-a", LEASE, limit=5, start_run=start_run)}
    assert made == ["S1"]
    run = claims["S1"].run
    assert run is not None
    assert claims["S1"].item.run_id == run.id
    assert queue.get_item(claims["S1"].item.id).run_id == run.id
    assert store.get_run(run.id).owner == "runner-a"
    assert claims["S2"].run is None
    assert queue.get_item(claims["S2"].item.id).run_id is None
    kinds = [e.kind for e in store.audit_events() if e.kind in ("item_claimed", "run_created")]
    assert kinds.count("run_created") == 1
    assert kinds.count("item_claimed") == 2


def test_a_failed_run_creation_leaves_the_item_unclaimed(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path)
    queue.enqueue("ledger-bot", "X1", {"reference": "X1"})

    def broken(tx, item, run_id):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        queue.claim("runner-a", LEASE, limit=1, start_run=broken)
    # nothing of the claim committed: the item is still new and claimable
    assert queue.find_item("ledger-bot", "X1").status is ItemStatus.new
    assert len(queue.claim("runner-b", LEASE, limit=1)) == 1


def test_a_runner_limited_to_some_bots_claims_only_theirs(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, name="bot-a", concurrency=5)
    published_queue(store, tmp_path / "b", name="bot-b", concurrency=5)
    queue.enqueue("bot-a", "A1", {"reference": "A1"})
    queue.enqueue("bot-b", "B1", {"reference": "B1"})
    queue.enqueue("bot-b", "B2", {"reference": "B2"})
    only_b = queue.claim("runner-b", LEASE, bots=["bot-b"], limit=5)
    assert sorted(c.item.reference for c in only_b) == ["B1", "B2"]
    assert queue.claim("runner-x", LEASE, bots=["bot-c"], limit=5) == []
    assert [c.item.reference for c in queue.claim("runner-a", LEASE, bots=["bot-a", "bot-c"], limit=5)] == [
        "A1"
    ]


def test_a_full_bot_at_the_head_of_the_queue_does_not_starve_the_others(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, name="bot-a", concurrency=1)
    published_queue(store, tmp_path / "b", name="bot-b", concurrency=1)
    for n in range(4):
        queue.enqueue("bot-a", f"A{n}", {"reference": f"A{n}"}, priority=9)
    queue.enqueue("bot-b", "B0", {"reference": "B0"}, priority=0)
    (first,) = queue.claim("runner-1", LEASE, limit=1)
    assert first.item.reference == "A0"
    # bot-a is at its cap: the next claim looks past its waiting items to bot-b's
    (second,) = queue.claim("runner-2", LEASE, limit=1)
    assert second.item.reference == "B0"
    assert queue.claim("runner-3", LEASE, limit=1) == []


# -- a finishing item hands its slots to the next item claimed in its transaction ------------
def _slot_holders(queue) -> dict[tuple[str, int], tuple[str | None, int]]:
    from sqlalchemy import select

    from orchestrator.queue.statements import SLOTS

    with queue.store.reading() as conn:
        rows = conn.execute(select(SLOTS.c.capacity, SLOTS.c.slot, SLOTS.c.holder_item, SLOTS.c.token)).all()
    return {(row.capacity, row.slot): (row.holder_item, row.token) for row in rows}


def _finish_and_claim_next(queue, claim, owner: str = "runner-a"):
    with queue.store.hot_tx() as tx:
        queue.finish_in(tx, claim, ItemStatus.done, keep_slots=True)
        return queue.claim_in(tx, owner, LEASE, limit=1, handover=claim.slots)


def test_a_finished_items_slots_move_to_the_next_item_of_its_bot(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, concurrency=1, resources="{terminal: 1}")
    for n in range(3):
        queue.enqueue("ledger-bot", f"H{n}", {"reference": f"H{n}"})
    (first,) = queue.claim("runner-a", LEASE)
    (second,) = _finish_and_claim_next(queue, first)
    assert second.item.reference == "H1"
    # the same slots, held by the next item under new tokens
    assert [(cap, slot) for cap, slot, _ in second.slots] == [(cap, slot) for cap, slot, _ in first.slots]
    holders = _slot_holders(queue)
    for (cap, slot, old_token), (_, _, new_token) in zip(first.slots, second.slots, strict=True):
        assert new_token == old_token + 1
        assert holders[(cap, slot)] == (second.item.id, new_token)
    # the caps still hold: the finished item's stale tokens free nothing
    with queue.store.hot_tx() as tx:
        queue.free_slots_in(tx, first)
    assert queue.claim("runner-b", LEASE, limit=5) == []
    queue.finish(second, ItemStatus.done)
    (third,) = queue.claim("runner-b", LEASE, limit=5)
    assert third.item.reference == "H2"
    assert queue.active_bot_items("ledger-bot") == 1


def test_handed_over_slots_that_the_next_item_does_not_need_are_freed(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, name="bot-a", concurrency=1, resources="{terminal: 1}")
    published_queue(store, tmp_path / "b", name="bot-b", concurrency=1)
    queue.enqueue("bot-a", "A0", {"reference": "A0"}, priority=5)
    queue.enqueue("bot-b", "B0", {"reference": "B0"}, priority=3)
    queue.enqueue("bot-a", "A1", {"reference": "A1"}, priority=0)
    (first,) = queue.claim("runner-a", LEASE)
    (second,) = _finish_and_claim_next(queue, first)
    assert second.item.reference == "B0"  # another bot: the terminal and bot-a's slot go back
    assert {holder for holder, _ in _slot_holders(queue).values()} == {None, second.item.id}
    (third,) = queue.claim("runner-b", LEASE, limit=5)
    assert third.item.reference == "A1"


def test_slots_lost_to_another_runner_cannot_be_handed_over(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, concurrency=1)
    queue.enqueue("ledger-bot", "L0", {"reference": "L0"})
    queue.enqueue("ledger-bot", "L1", {"reference": "L1"})
    (stale,) = queue.claim("runner-a", timedelta(milliseconds=50))
    time.sleep(0.15)
    queue.reap_expired()
    (fresh,) = queue.claim("runner-b", LEASE)  # L0 again, its slot under a new token
    assert fresh.item.id == stale.item.id
    with queue.store.hot_tx() as tx:  # runner-a still believes it holds L0 and its slot
        assert queue.claim_in(tx, "runner-a", LEASE, limit=1, handover=stale.slots) == []
    assert _slot_holders(queue)[(fresh.slots[0][0], fresh.slots[0][1])] == (fresh.item.id, fresh.slots[0][2])
    assert queue.get_item(fresh.item.id).lease_owner == "runner-b"
    assert queue.find_item("ledger-bot", "L1").status is ItemStatus.new


class _CountingTx:
    """A transaction that counts the statements whose results were read."""

    def __init__(self, tx) -> None:
        self._tx = tx
        self.reads = 0

    def rows(self, *args, **kwargs):
        self.reads += 1
        return self._tx.rows(*args, **kwargs)

    def rows_many(self, statements):
        self.reads += len(statements)
        return self._tx.rows_many(statements)

    def __getattr__(self, name: str):
        return getattr(self._tx, name)


def test_a_claim_with_handed_over_slots_reads_one_statement_on_postgresql(store, tmp_path: Path) -> None:
    queue = published_queue(store, tmp_path, concurrency=1, resources="{terminal: 1}")
    for n in range(2):
        queue.enqueue("ledger-bot", f"S{n}", {"reference": f"S{n}"})
    (first,) = queue.claim("runner-a", LEASE)
    with queue.store.hot_tx() as tx:
        counting = _CountingTx(tx)
        queue.finish_in(counting, first, ItemStatus.done, keep_slots=True)
        (second,) = queue.claim_in(counting, "runner-a", LEASE, limit=1, handover=first.slots)
    assert second.item.reference == "S1"
    # PostgreSQL: one statement (candidate, slots and item); SQLite: the candidate query, then
    # the two slots and the item
    assert counting.reads == (4 if store.is_sqlite else 1)
    # and when the queue is empty, the same statement says so: no candidate query follows
    with queue.store.hot_tx() as tx:
        counting = _CountingTx(tx)
        queue.finish_in(counting, second, ItemStatus.done, keep_slots=True)
        assert queue.claim_in(counting, "runner-a", LEASE, limit=1, handover=second.slots) == []
    assert counting.reads == 1
    assert {holder for holder, _ in _slot_holders(queue).values()} == {None}
