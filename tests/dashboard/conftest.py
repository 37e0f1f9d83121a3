"""Fixtures of the dashboard tests: a served dashboard over a really processed store, Chromium."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dash_helpers import (
    PORTAL_SECRET,
    ServedDashboard,
    add_users,
    enqueue_items,
    make_runtime,
    wait_for,
    write_bots,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-default-browser-check",
]


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedDashboard]:
    """20 items of two example bots processed by real runners, the dashboard served over them."""
    folder = tmp_path_factory.mktemp("served")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RPA_SECRET_PORTAL_PASSWORD", PORTAL_SECRET)
        runtime = make_runtime(folder, poll_seconds=1)
        add_users(runtime)
        dashboard = ServedDashboard(runtime, write_bots(folder)).start()
        try:
            enqueue_items(dashboard.queue)
            wait_for(dashboard.settled, 180, "the runners to process the 20 items")
            yield dashboard
        finally:
            dashboard.stop()
            asyncio.run(runtime.aclose())


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (no downloaded browser), headless.

    Module-scoped: Playwright's sync API keeps an event loop running in the main thread while
    it is open, and later tests call ``asyncio.run``.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"skipped because {CHROMIUM} is missing (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
