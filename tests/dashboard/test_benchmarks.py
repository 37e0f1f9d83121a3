"""The dashboard benchmark's seeder and runner still work (small sizes; the figures are in docs)."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import text

from orchestrator.dashboard.config import DashboardSettings
from orchestrator.dashboard.queries.overview import overview
from orchestrator.store import open_store

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from dashboard_queries import main as run_benchmark  # noqa: E402
from seed_dashboard import seed  # noqa: E402


def test_the_seeded_store_is_consistent(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'rpa.db'}")
    try:
        counts = seed(store, items=800, steps=2400)
        assert counts["items"] == 800
        assert counts["steps"] >= 2400
        assert store.verify_audit().ok  # chained and hashed like the store's own events
        with store.reading() as conn:
            done_24h = conn.execute(
                text("SELECT count(*) FROM work_items WHERE status = 'done' AND finished_at >= :since"),
                {"since": overview(store, DashboardSettings()).window_start.strftime("%Y-%m-%d %H:%M:%S.%f")},
            ).scalar_one()
        assert overview(store, DashboardSettings()).total.done == done_24h
    finally:
        store.close()


def test_the_benchmark_runs_end_to_end(tmp_path: Path, capsys) -> None:
    code = run_benchmark(
        ["--home", str(tmp_path), "--items", "400", "--steps", "1200", "--rounds", "1", "--explain"]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "ratio=" in printed
    assert "full scans of large tables: 0" in printed
