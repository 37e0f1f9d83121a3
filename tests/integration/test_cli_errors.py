"""Mistakes on the command line get a usage message and exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--no-such-option"], "No such option"),
        (["validate"], "Missing argument"),
        (["runs", "--status", "bogus"], "Invalid value for '--status'"),
        (["show", "no-such-run"], "no run with id"),
        (["run", "missing.yaml"], "cannot read file"),
        (["resume"], "give a RUN_ID or --all"),
        (["schema", "nonsense"], "unknown schema kind"),
        (["demo", "--scenario", "nope"], "unknown scenario"),
        (
            ["manual", "retry", "some-run", "--not-before", "tomorrow"],
            "--not-before: 'tomorrow' is not a time",
        ),
        (["enqueue", "some-bot", "-r", "R-1", "--not-before", "25:00"], "expected HH:MM (the next one)"),
    ],
)
def test_usage_mistakes_exit_2_without_a_traceback(
    args: list[str], expected: str, tmp_path: Path, run_rpa
) -> None:
    result = run_rpa(*args, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert expected in output
    assert "Traceback" not in output
    assert "internal error" not in output
