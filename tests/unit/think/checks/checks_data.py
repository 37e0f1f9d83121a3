"""Shared sample data for the checks tests (a plain module: conftest modules must not be imported)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = (Path(__file__).resolve().parents[4] / "../shared/data").resolve()


def shared_file(relative: str) -> Path:
    """The path of a shared data file, or skip the test saying which file is missing."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"shared data file {path} is missing, so this test cannot run")
    return path
