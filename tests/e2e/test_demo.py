"""The main job: ``rpa demo`` on a small batch, as a user runs it after the README's install."""

from __future__ import annotations

import re
from pathlib import Path


def test_rpa_demo_runs_both_scenarios_and_prints_the_summary(tmp_path: Path, run_rpa) -> None:
    workspace = tmp_path / "demo"
    result = run_rpa(
        "demo", "--size", "18", "--seed", "11", "--keep", str(workspace), cwd=tmp_path, timeout=900
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Traceback" not in output
    rows = {
        m.group(1): m.groups()[1:]
        for m in re.finditer(
            r"│ (rmb|cnaps)\s+│\s+(\d+) │\s+(\d+) │.*?│\s+(\d+)/(\d+) │\s+(\d+)/(\d+) │\s+(\d+) │", output
        )
    }
    assert set(rows) == {"rmb", "cnaps"}, output[-4000:]
    for name, (items, _done, clean_stp, clean, caught, defects, wrong) in rows.items():
        assert int(items) > 0, name
        assert clean_stp == clean, f"{name}: a clean item did not go straight through"
        assert caught == defects, f"{name}: a defect was not caught"
        assert wrong == "0", f"{name}: wrong postings"
    assert "items/min" in output
    assert "FTE hours saved" in output
    assert (workspace / "rpa.yaml").is_file()
    assert (workspace / ".rpa" / "rpa.db").is_file()
