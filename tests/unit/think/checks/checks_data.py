"""Shared sample data for the checks tests (a plain module: conftest modules must not be imported)."""

from __future__ import annotations

from pathlib import Path

import pytest

from examples.shared_data import shared_data_dir

SHARED_DATA = shared_data_dir()


def shared_file(relative: str) -> Path:
    """The path of a shared data file, or skip the test saying which file is missing."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"shared data file {path} is missing, so this test cannot run")
    return path
