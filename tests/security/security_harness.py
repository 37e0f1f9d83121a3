"""Helpers of the security tests: the real engine on SQLite in this process, a request recorder."""

from __future__ import annotations

import asyncio
import random
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.engine import EngineConfig, RunExecutor, RunOutcome
from orchestrator.registry import SkillRegistry
from orchestrator.secrets import SecretSource
from orchestrator.spec.validate import load_workflow
from orchestrator.store import open_store


class EngineHarness:
    """Runs workflow text on the real engine and a real SQLite store, in this process."""

    def __init__(
        self,
        tmp_path: Path,
        functions: list[Any],
        secrets: SecretSource | None = None,
        db: Path | None = None,
    ) -> None:
        self.tmp_path = tmp_path
        self.registry = SkillRegistry.from_functions(functions)
        self.db = db or tmp_path / "rpa.db"
        self.db.parent.mkdir(parents=True, exist_ok=True)
        self.store = open_store(f"sqlite:///{self.db}")
        self.secrets = secrets

    def run(self, body: str, inputs: dict[str, Any] | None = None) -> RunOutcome:
        path = self.tmp_path / "wf.yaml"
        path.write_text(textwrap.dedent(body), encoding="utf-8")
        workflow = load_workflow(path, self.registry)
        extra = {"secrets": self.secrets} if self.secrets is not None else {}
        executor = RunExecutor(
            self.store,
            self.registry,
            config=EngineConfig(work_dir=self.tmp_path),
            rng=random.Random(7),
            **extra,
        )
        record = executor.create_run(workflow, inputs or {})
        return asyncio.run(executor.execute(record.id))

    def close(self) -> None:
        self.store.close()


@dataclass
class Recorder:
    """What a local HTTP server saw: one entry per request (method, path, headers)."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
