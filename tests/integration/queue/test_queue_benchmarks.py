"""The queue benchmarks still run (small sizes; the figures are in docs/benchmarks.md)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
from queue_item_cost import main as item_cost


def test_item_cost_benchmark_measures_a_backlog(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(sys, "argv", ["queue_item_cost.py", "--sqlite", "--items", "30"])
    item_cost()
    out = capsys.readouterr().out
    assert "sqlite: 30 queued items, one runner:" in out
    ratio = re.search(r"^ratio=(\d+\.\d+)$", out, re.M)
    assert ratio is not None, out
    assert float(ratio[1]) > 0


def test_throughput_benchmark_prints_rates_cpu_and_ratio(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from queue_throughput import main as throughput

    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/none"  # SQLite only: quick and self-contained
    argv = ["queue_throughput.py", "--items", "40", "--procs", "1", "--repeat", "1", "--pg", unreachable]
    monkeypatch.setattr(sys, "argv", argv)
    throughput()
    out = capsys.readouterr().out
    assert "measuring SQLite only" in out
    median_row = re.search(
        r"^\s+sqlite\s+1\s+(\d+\.\d)\s+(\d+\.\d)\s+\d+\.\d\d \|\s+(\d+\.\d\d)\s+(\d+\.\d\d)\s+n/a\s+(\S+) \|"
        r"\s+(\d+\.\d\d)\s+n/a\s+(\S+) \|\s+(\d+\.\d\d)\s+(\d+\.\d\d)$",
        out.split("medians of 1 round(s):")[1],
        re.M,
    )
    assert median_row is not None, out
    runners_rate, raw_rate, runners_ms, enqueue_ms = (float(median_row[i]) for i in range(1, 5))
    assert runners_rate > 0
    assert raw_rate > 0
    assert runners_ms > 0  # the runner processes' CPU reached the table …
    assert enqueue_ms > 0  # … and the enqueuing process's
    looks, empty_looks = float(median_row[8]), float(median_row[9])
    assert looks >= empty_looks > 0  # the runner looked at the empty queue before the items came
    ratio = re.search(r"^ratio=(\d+\.\d+)$", out, re.M)
    assert ratio is not None, out
    assert abs(float(ratio[1]) - runners_rate / raw_rate) < 0.01


def test_pickup_latency_benchmark_compares_polls_backoff_and_wake(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from queue_pickup_latency import main as pickup_latency

    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    argv = ["queue_pickup_latency.py", "--items", "3", "--gap", "0.05", "--pg", unreachable]
    monkeypatch.setattr(sys, "argv", argv)
    pickup_latency()
    out = capsys.readouterr().out
    medians = {
        mode: float(found[1])
        for mode in ("fixed polls", "backoff", "wake")
        if (found := re.search(rf"^sqlite\s+{mode}\s+(\d+\.\d)\s", out, re.M))
    }
    assert set(medians) == {"fixed polls", "backoff", "wake"}, out
    assert all(ms > 0 for ms in medians.values()), out  # the behaviours themselves: test_worker_and_manual.py
    ratio = re.search(r"^ratio=(\d+\.\d)$", out, re.M)
    assert ratio is not None, out
