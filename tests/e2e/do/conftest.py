"""Fixtures for the do e2e tests: real Chromium, real Xvfb, evidence on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from do_e2e_harness import CHROMIUM, EvidenceDir, SkillLoop, require

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
def desktop_pool(xvfb_display: str) -> Iterator[ServicePool]:
    pool = service_pool([desktop_service], {"desktop": {"display": xvfb_display}})
    try:
        yield pool
    finally:
        pool.close()
