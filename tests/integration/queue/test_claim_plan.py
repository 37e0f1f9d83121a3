"""The claim query's plan, and how an older store's indexes and columns are brought up to date."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from queue_helpers import published_queue
from sqlalchemy import text

from orchestrator.queue.tables import RETIRED_INDEXES
from orchestrator.store import open_store

# the benchmark's own EXPLAIN of the runners' statement
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
from claim_explain import claim_plan, handover_claim_plan, seed


def test_claim_reads_the_claim_index_in_order_before_the_table_has_statistics(store, tmp_path: Path) -> None:
    # a store just created, then a burst of work: no ANALYZE has run yet. A plan that reads the
    # new items through another status index and sorts them costs a sort of the whole backlog
    # on every claim.
    queue = published_queue(store, tmp_path)
    for n in range(400):
        queue.enqueue("ledger-bot", f"R{n}", {"reference": f"R{n}"})
    plan = claim_plan(store)
    assert "ix_work_items_claim_order" in plan, plan
    assert "Sort" not in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_claim_plan_with_statistics(store) -> None:
    seed(store, done=2000, new=50, analyze=True)
    plan = claim_plan(store)
    assert "ix_work_items_claim_order" in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize("analyze", [False, True], ids=["no-statistics", "analyzed"])
def test_the_claim_with_handed_over_slots_reads_its_indexes(pg_url: str, analyze: bool) -> None:
    # PostgreSQL only (SQLite has no data-modifying CTEs: it claims the usual way). Many bots'
    # slots, so that a scan of the slot table would show.
    store = open_store(pg_url)
    try:
        seed(store, done=2000, new=50, analyze=False)
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO slots (capacity, slot, token) "
                    "SELECT 'bot:b' || (g / 64), g % 64, 0 FROM generate_series(1, 5000) g"
                )
            )
            if analyze:
                conn.execute(text("ANALYZE"))
        plan = handover_claim_plan(store)
    finally:
        store.close()
    assert "Index Scan using ix_work_items_claim_order on work_items" in plan, plan
    assert "Index Scan using slots_pkey on slots" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert "Sort" not in plan, plan


def test_opening_an_older_store_replaces_its_retired_indexes(store_url: str) -> None:
    first = open_store(store_url)
    with first.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_work_items_open"))
        conn.execute(text("DROP INDEX ix_work_items_claim_order"))  # before deadlines ordered the claim
        conn.execute(
            text(
                "CREATE INDEX ix_work_items_claim ON work_items (priority DESC, created_at) "
                "WHERE status = 'new'"
            )
        )
        conn.execute(text("CREATE INDEX ix_work_items_status_finished ON work_items (status, finished_at)"))
        conn.execute(
            text(
                "CREATE INDEX ix_work_items_finished_cover ON work_items "
                "(status, finished_at, bot, straight_through)"
            )
        )
    first.close()

    reopened = open_store(store_url)
    names = reopened.index_names("work_items")
    reopened.close()
    assert not names & set(RETIRED_INDEXES)
    assert {"ix_work_items_open", "ix_work_items_finished", "ix_work_items_claim_order"} <= names


def test_opening_an_older_store_adds_the_work_item_columns_it_lacks(store_url: str, tmp_path: Path) -> None:
    first = open_store(store_url)
    queue = published_queue(first, tmp_path)
    old = queue.enqueue("ledger-bot", "OLD-1", {"reference": "OLD-1"}).item
    with first.engine.begin() as conn:
        conn.execute(text("ALTER TABLE work_items DROP COLUMN settled_path"))  # before files were tracked
    first.close()

    reopened = open_store(store_url)
    again = open_store(store_url)  # a second process opening it meanwhile finds nothing to add
    queue = published_queue(reopened, tmp_path)
    assert queue.get_item(old.id).settled_path is None  # the item made before is read as it was
    queue.record_settled_file(old.id, tmp_path / "failed" / "m1.1.txt")
    assert queue.get_item(old.id).settled_path == str(tmp_path / "failed" / "m1.1.txt")
    new = queue.enqueue("ledger-bot", "NEW-1", {"reference": "NEW-1"}).item
    assert new.settled_path is None
    again.close()
    reopened.close()


def test_the_dashboard_brings_back_the_run_tables_indexes_it_reads(store) -> None:
    from orchestrator.dashboard.tables import ensure_schema

    with store.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_runs_created"))
    ensure_schema(store)
    assert "ix_runs_created" in store.index_names("runs")
