"""The SQLite hot path (``orchestrator.store.sqlite_tx``): what it writes is what SQLAlchemy
would write, what it reads comes back typed, and a failed transaction keeps nothing."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from queue_helpers import published_queue
from sqlalchemy import insert, text, update

from orchestrator.errors import StoreUnavailable, UniqueConflict
from orchestrator.models import AuditEvent
from orchestrator.queue.store import ITEMS
from orchestrator.store import open_store

SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture
def sqlite_queue(tmp_path: Path) -> Any:
    store = open_store(f"sqlite:///{tmp_path / 'rpa.db'}")
    yield published_queue(store, tmp_path)
    store.close()


def _item_row(reference: str, bot: str = "ledger-bot") -> dict[str, Any]:
    at = datetime(2026, 11, 28, 18, 30, 1, 123456, tzinfo=SHANGHAI)
    return {
        "id": uuid.uuid4().hex,
        "bot": bot,
        "reference": reference,
        "status": "new",
        "priority": 3,
        "deadline": at + timedelta(hours=2),
        "not_before": None,
        "inputs_json": '{"reference": "汇款 \' %s"}',
        "source": "api",
        "source_path": None,
        "created_by": "olga",
        "created_at": at,
        "updated_at": at,
        "sla_due_at": None,
    }


def _stored(path: Path, reference: str) -> dict[str, Any]:
    """The item's row as SQLite holds it (its text, not what a driver makes of it)."""
    with sqlite3.connect(path) as db:
        cursor = db.execute("SELECT * FROM work_items WHERE reference = ?", (reference,))
        names, values = [d[0] for d in cursor.description], cursor.fetchone()
    return {k: v for k, v in zip(names, values, strict=True) if k not in ("id", "reference")}


def test_a_row_is_written_as_sqlalchemy_writes_it_and_read_back_typed(sqlite_queue, tmp_path: Path) -> None:
    store = sqlite_queue.store
    with store.hot_tx() as tx:
        (row,) = tx.rows(sqlite_queue._sql.insert_item, _item_row("HOT-1"))
    with store.writing() as conn:
        conn.execute(insert(ITEMS).values(**_item_row("SQLALCHEMY-1")))
    hot, reference = _stored(tmp_path / "rpa.db", "HOT-1"), _stored(tmp_path / "rpa.db", "SQLALCHEMY-1")
    assert hot == reference
    assert hot["created_at"] == "2026-11-28 10:30:01.123456"  # UTC, as the store keeps every time
    # the RETURNING row comes back typed, as SQLAlchemy reads it
    assert row.created_at == datetime(2026, 11, 28, 10, 30, 1, 123456)
    assert row.deadline == datetime(2026, 11, 28, 12, 30, 1, 123456)
    assert (row.priority, row.touched_by_person, row.inputs_json) == (3, False, '{"reference": "汇款 \' %s"}')
    assert sqlite_queue.find_item("ledger-bot", "HOT-1").created_at == datetime(
        2026, 11, 28, 10, 30, 1, 123456, tzinfo=UTC
    )


def test_a_fence_that_misses_keeps_nothing_of_its_transaction(sqlite_queue) -> None:
    store = sqlite_queue.store

    class Lost(Exception):
        pass

    missing = update(ITEMS).where(ITEMS.c.id == "no-such-item").values(status="done")

    def insert_then_miss() -> None:
        with store.hot_tx() as tx:
            tx.rows(sqlite_queue._sql.insert_item, _item_row("FENCED-1"))
            tx.append(AuditEvent(kind="probe", actor="test", payload={}))
            tx.write_one(missing, {}, Lost)

    with pytest.raises(Lost):
        insert_then_miss()
    assert sqlite_queue.find_item("ledger-bot", "FENCED-1") is None
    assert list(store.audit_events(kind="probe")) == []
    # with RETURNING, the rows changed are counted once read
    with store.hot_tx() as tx:
        (row,) = tx.rows(sqlite_queue._sql.insert_item, _item_row("FENCED-2"))
        tx.write_one(
            update(ITEMS).where(ITEMS.c.id == row.id).values(priority=9).returning(ITEMS.c.id), {}, Lost
        )
    with pytest.raises(Lost), store.hot_tx() as tx:
        tx.write_one(missing.returning(ITEMS.c.id), {}, Lost)
    assert sqlite_queue.find_item("ledger-bot", "FENCED-2").priority == 9
    assert store.verify_audit().ok


def test_a_reference_offered_twice_raises_a_unique_conflict_and_keeps_nothing(sqlite_queue) -> None:
    store = sqlite_queue.store
    with store.hot_tx() as tx:
        tx.rows(sqlite_queue._sql.insert_new_item, _item_row("TWICE-1"))

    def offer_again() -> None:
        with store.hot_tx() as tx:
            tx.append(AuditEvent(kind="probe", actor="test", payload={}))
            tx.rows(sqlite_queue._sql.insert_new_item, _item_row("TWICE-1"))

    with pytest.raises(UniqueConflict, match="UNIQUE constraint failed"):
        offer_again()
    assert list(store.audit_events(kind="probe")) == []
    assert store.verify_audit().ok


def test_a_runner_limited_to_some_bots_sees_only_their_items(sqlite_queue, tmp_path: Path) -> None:
    published_queue(sqlite_queue.store, tmp_path / "other", name="other-bot")
    for bot in ("ledger-bot", "other-bot"):
        sqlite_queue.enqueue(bot, f"{bot}-1", {"reference": "R"})
    now = datetime.now(UTC)
    with sqlite_queue.store.hot_tx() as tx:
        mine = tx.rows(sqlite_queue._sql.candidates_of_bots, {"now": now, "lim": 10, "bots": ["other-bot"]})
        both = tx.rows(
            sqlite_queue._sql.candidates_of_bots, {"now": now, "lim": 10, "bots": ["other-bot", "ledger-bot"]}
        )
    assert [r.bot for r in mine] == ["other-bot"]
    with sqlite_queue.store.hot_tx() as tx:  # plain SQL's rows come back as SQLite gives them
        (echo,) = tx.rows(text("SELECT :n + 1 AS n, :word AS word"), {"n": 41, "word": "汇款"})
    assert (echo.n, echo.word) == (42, "汇款")
    assert sorted(r.bot for r in both) == ["ledger-bot", "other-bot"]


def test_a_database_locked_by_another_process_is_a_store_unavailable(sqlite_queue, tmp_path: Path) -> None:
    store = sqlite_queue.store
    other = sqlite3.connect(tmp_path / "rpa.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    store._fast.connection.execute("PRAGMA busy_timeout=100")  # not 30 s
    try:
        with pytest.raises(StoreUnavailable, match="locked"), store.hot_tx() as tx:
            tx.append(AuditEvent(kind="probe", actor="test", payload={}))
    finally:
        other.execute("ROLLBACK")
        other.close()
        store._fast.connection.execute("PRAGMA busy_timeout=30000")
    with store.hot_tx() as tx:
        tx.append(AuditEvent(kind="probe", actor="test", payload={}))
    assert len(list(store.audit_events(kind="probe"))) == 1
    assert store.verify_audit().ok


def test_a_datetime_is_written_as_sqlalchemys_sqlite_type_writes_it() -> None:
    from zoneinfo import ZoneInfo

    from sqlalchemy.dialects import sqlite

    from orchestrator.store.sqlite_fastpath import sqlite_datetime

    write = sqlite.DATETIME().bind_processor(sqlite.dialect())
    moments = [
        datetime(2026, 11, 28, 18, 30, 1, 123456, tzinfo=SHANGHAI),
        datetime(2026, 11, 28, 10, 30, tzinfo=UTC),  # no microseconds: still six digits
        datetime(2026, 11, 28, 10, 30, 1, 5, tzinfo=ZoneInfo("Etc/UTC")),
        datetime(2026, 11, 28, 10, 30, 1, 5, tzinfo=ZoneInfo("Asia/Shanghai")),
        datetime(2026, 11, 28, 10, 30, 1),  # naive: taken as UTC
        datetime(1, 1, 1, tzinfo=UTC),
    ]
    for moment in moments:
        utc = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        assert sqlite_datetime(moment) == write(utc)
    assert sqlite_datetime(None) is None
