"""Helpers of the do e2e tests: skip reasons, a real evidence sink, a long-lived skill loop."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from orchestrator.plugin import spec_of
from orchestrator.services import ServicePool
from skills import EvidenceRef, PlatformInfo, SkillContext
from skills.testing import make_context

CHROMIUM = "/usr/bin/chromium"


def require(program: str, package: str) -> str:
    """The program's path, or skip the test saying what is missing (fail when RPA_REQUIRE_E2E=1)."""
    path = program if os.path.isabs(program) else shutil.which(program)
    if path and os.path.exists(path):
        return path
    reason = f"skipped because {program} is missing (Debian package {package})"
    if os.environ.get("RPA_REQUIRE_E2E") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


class EvidenceDir:
    """A real evidence sink: files in a folder, with their SHA-256 (what the audit trail records)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.saved: list[EvidenceRef] = []

    def save(self, name: str, data: bytes, media_type: str) -> EvidenceRef:
        path = self.folder / name
        path.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        ref = EvidenceRef(name=name, path=str(path), sha256=digest, media_type=media_type)
        self.saved.append(ref)
        return ref


class SkillLoop:
    """Runs async skills on one long-lived event loop in a thread, as the engine does.

    Playwright objects belong to the loop that made them, so every browser call of a test
    session goes through this one loop and shares one browser service.
    """

    def __init__(self, pool: ServicePool) -> None:
        self.pool = pool
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Any, timeout: float = 120) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def context(
        self,
        func: Any,
        *,
        platform: PlatformInfo,
        secrets: Mapping[str, str] | None = None,
        evidence: EvidenceDir | None = None,
        attempt: int = 1,
    ) -> SkillContext:
        ctx = make_context(func, services=self.pool, platform=platform, secrets=secrets, attempt=attempt)
        ctx.evidence = evidence
        return ctx

    def call(self, func: Any, params: Mapping[str, Any], **context: Any) -> BaseModel | None:
        """Validate ``params``, run the skill on the loop, validate and return its result."""
        spec = spec_of(func)
        assert spec is not None
        model = spec.params_model.model_validate(dict(params))
        result = self.run(func(self.context(func, **context), model))
        return None if result is None else spec.result_model.model_validate(result.model_dump())

    def verify(self, func: Any, params: Mapping[str, Any], **context: Any) -> BaseModel | None:
        """Run the skill's verify companion on the loop."""
        spec = spec_of(func)
        assert spec is not None
        assert spec.verify is not None
        model = spec.params_model.model_validate(dict(params))
        return self.run(spec.verify(self.context(func, **context), model))

    def close(self) -> None:
        self.run(self.pool.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def wait_for_display(display: str, process: subprocess.Popen[bytes]) -> bool:
    for _ in range(100):
        if process.poll() is not None:
            return False
        done = subprocess.run(["xdpyinfo", "-display", display], capture_output=True)
        if done.returncode == 0:
            return True
        threading.Event().wait(0.05)
    return False
