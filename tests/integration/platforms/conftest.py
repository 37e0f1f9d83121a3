"""Fixtures for the example-platform tests: running platforms, signed-in clients, a private Xvfb."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from examples.platforms.launch import PlatformHandle, run_platform


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformHandle]:
    """One portal (default options) shared by a test module; tests use distinct references."""
    with run_platform("portal", data_dir=tmp_path_factory.mktemp("portal")) as handle:
        yield handle


@pytest.fixture
def portal_client(portal: PlatformHandle) -> Iterator[httpx.Client]:
    """A client signed in as ``bot``, with the portal's faults switched off before and after."""
    with httpx.Client(base_url=portal.base_url, timeout=10) as client:
        client.delete("/_faults").raise_for_status()
        response = client.post("/login", data={"username": "bot", "password": "bot-password"})
        assert response.status_code == 303, response.text
        yield client
        client.delete("/_faults").raise_for_status()


@pytest.fixture(scope="module")
def reporting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformHandle]:
    with run_platform("reporting", data_dir=tmp_path_factory.mktemp("reporting")) as handle:
        yield handle


@pytest.fixture
def reporting_client(reporting: PlatformHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=reporting.base_url, timeout=10) as client:
        client.delete("/_faults").raise_for_status()
        yield client
        client.delete("/_faults").raise_for_status()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
