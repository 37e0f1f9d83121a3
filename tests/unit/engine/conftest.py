from __future__ import annotations

import asyncio
import random
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import engine_probes as probes
import pytest

from orchestrator.engine import EngineConfig, RunExecutor, RunOutcome
from orchestrator.engine.clock import FakeClock
from orchestrator.registry import SkillRegistry
from orchestrator.spec.validate import load_workflow
from skills.think.basics import evaluate


@pytest.fixture(autouse=True)
def _reset_probes() -> None:
    probes.CALLS.clear()
    probes.PLATFORM.clear()


@pytest.fixture
def registry() -> SkillRegistry:
    return SkillRegistry.from_functions([*probes.ALL, evaluate])


class Harness:
    def __init__(self, store: Any, registry: SkillRegistry, tmp_path: Path) -> None:
        self.store = store
        self.registry = registry
        self.tmp_path = tmp_path
        self.clock = FakeClock()

    def executor(self, **kwargs: Any) -> RunExecutor:
        config = EngineConfig(work_dir=self.tmp_path, platforms={"ledger": {"base_url": "http://x"}})
        return RunExecutor(
            self.store, self.registry, config=config, clock=self.clock, rng=random.Random(7), **kwargs
        )

    def workflow(self, body: str, name: str = "wf.yaml") -> Any:
        path = self.tmp_path / name
        path.write_text(textwrap.dedent(body), encoding="utf-8")
        return load_workflow(path, self.registry)

    def run(self, body: str, inputs: dict[str, Any] | None = None, **kwargs: Any) -> RunOutcome:
        executor = self.executor(**kwargs)
        record = executor.create_run(self.workflow(body), inputs or {})
        return asyncio.run(executor.execute(record.id))


@pytest.fixture
def harness(store: Any, registry: SkillRegistry, tmp_path: Path) -> Harness:
    return Harness(store, registry, tmp_path)


@pytest.fixture
def sqlite_harness(sqlite_store: Any, registry: SkillRegistry, tmp_path: Path) -> Harness:
    return Harness(sqlite_store, registry, tmp_path)


Factory = Callable[..., Harness]
