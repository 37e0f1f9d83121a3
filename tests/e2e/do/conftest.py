"""Fixtures for the do e2e tests: real Chromium, real Xvfb, evidence on disk."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from do_e2e_harness import CHROMIUM, EvidenceDir, SkillLoop, require, wait_for_display

from orchestrator.services import ServicePool
from skills.do.browser import browser_service
from skills.do.desktop import desktop_service
from skills.testing import service_pool


@pytest.fixture(scope="session")
def skill_loop() -> Iterator[SkillLoop]:
    require(CHROMIUM, "chromium")
    runner = SkillLoop(service_pool([browser_service]))
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture
def evidence(tmp_path: Path) -> EvidenceDir:
    folder = tmp_path / "evidence"
    folder.mkdir()
    return EvidenceDir(folder)


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """A private Xvfb (1280x800, 24-bit) for the session; stopped in finally."""
    xvfb = require("Xvfb", "xvfb")
    require("xdotool", "xdotool")
    require("xclip", "xclip")
    require("xdpyinfo", "x11-utils")
    process = None
    for number in range(181, 200):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        display = f":{number}"
        process = subprocess.Popen(
            [xvfb, display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if wait_for_display(display, process):
            break
        process.kill()
        process.wait()
        process = None
    if process is None:
        pytest.fail("could not start Xvfb on any display :181-:199")
    try:
        yield display
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def desktop_pool(xvfb_display: str) -> Iterator[ServicePool]:
    pool = service_pool([desktop_service], {"desktop": {"display": xvfb_display}})
    try:
        yield pool
    finally:
        pool.close()
