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
