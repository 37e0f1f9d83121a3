"""Offline workflow runs: the real engine on a temporary SQLite store, with chosen skills faked.

``WorkflowRunner.run`` loads and validates the workflow against the skill registry, swaps the
faked skills for fakes (same parameter and result models), runs it with ``RunExecutor`` under
a clock that never sleeps (retry delays are recorded instead), and returns a ``WorkflowRun``
that reads the run and its step rows back from the store, with assertion helpers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.engine import EngineConfig, RunExecutor
from orchestrator.engine.clock import FakeClock
from orchestrator.errors import WorkflowError
from orchestrator.events import EngineEvent
from orchestrator.evidence import FileEvidenceSink
from orchestrator.registry import SkillRegistry
from orchestrator.services import ServicePool
from orchestrator.spec.validate import LoadedWorkflow, load_workflow, load_workflow_text
from orchestrator.store.sql import SQLRunStore, open_store, sqlite_url_for
from orchestrator.toolkit.fakes import FakeSetupError, FakeSpec, registry_with_fakes
from orchestrator.toolkit.results import WorkflowRun

if TYPE_CHECKING:
    from orchestrator.toolkit.recording import Recording
    from orchestrator.toolkit.replay import ReplayReport


@cache
def installed_registry() -> SkillRegistry:
    """The registry of every installed skill plugin, loaded once per process."""
    return SkillRegistry.from_entry_points()


class DictSecretSource:
    """Secrets given as a mapping (tests never read the environment or a vault)."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self.values = dict(values or {})

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def names(self) -> list[str]:
        return sorted(self.values)


def load_checked(workflow: str | Path | LoadedWorkflow, registry: SkillRegistry) -> LoadedWorkflow:
    """Load and validate a workflow; every problem is in the error's message."""
    if isinstance(workflow, LoadedWorkflow):
        return workflow
    try:
        return load_workflow(Path(workflow), registry)
    except WorkflowError as exc:
        lines = "\n".join(f"  {d}" for d in exc.diagnostics)
        raise WorkflowError(f"{exc}:\n{lines}", exc.diagnostics) from None


def skills_used(workflow: LoadedWorkflow) -> set[str]:
    """Every skill a workflow's steps (and their verify calls) name."""
    used = set()
    for step in workflow.spec.steps:
        used.add(step.uses)
        if step.verify is not None:
            used.add(step.verify.uses)
    return used


class WorkflowRunner:
    """Runs workflows offline in ``work_dir`` (its files, the SQLite store and evidence).

    Args:
        work_dir: Folder the run's file skills work in; the store is ``work_dir/.rpa/rpa.db``.
        registry: Skills to run against (default: every installed plugin).
        secrets: Values of ``secrets.NAME`` for every run of this runner.
        platforms: The ``platforms`` settings handed to steps (``platform: NAME``).
        env: Values of ``env.NAME`` in expressions.
    """

    def __init__(
        self,
        work_dir: str | Path,
        *,
        registry: SkillRegistry | None = None,
        secrets: Mapping[str, str] | None = None,
        platforms: Mapping[str, Mapping[str, Any]] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.work_dir = Path(work_dir).resolve()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.registry = registry if registry is not None else installed_registry()
        self.secrets = dict(secrets or {})
        self.platforms = {k: dict(v) for k, v in (platforms or {}).items()}
        self.env = dict(env or {})
        self._store: SQLRunStore | None = None

    @property
    def store(self) -> SQLRunStore:
        """The runner's SQLite store (created on first use)."""
        if self._store is None:
            home = self.work_dir / ".rpa"
            home.mkdir(parents=True, exist_ok=True)
            self._store = open_store(sqlite_url_for(home / "rpa.db"), synchronous="NORMAL")
        return self._store

    def load(self, workflow: str | Path | LoadedWorkflow) -> LoadedWorkflow:
        """The workflow, validated against this runner's registry."""
        return load_checked(workflow, self.registry)

    def run(
        self,
        workflow: str | Path | LoadedWorkflow,
        inputs: Mapping[str, Any] | None = None,
        *,
        fakes: Mapping[str, FakeSpec] | None = None,
        only_fakes: bool = False,
        secrets: Mapping[str, str] | None = None,
        run_id: str | None = None,
    ) -> WorkflowRun:
        """Run ``workflow`` to its end (done, failed or parked) and return what happened.

        Args:
            workflow: A workflow file (or an already loaded workflow).
            inputs: The run's inputs, converted to their declared types as ``rpa run`` does.
            fakes: Skill id → fake: ``fake(...)``, an output mapping, a function or an exception.
            only_fakes: Refuse to start when a step uses a skill that is not faked (a test
                that must never touch a real file, browser or platform).
            secrets: Secrets for this run (added to the runner's).
            run_id: Id of the run (default: a new random id).
        """
        return asyncio.run(
            self.arun(workflow, inputs, fakes=fakes, only_fakes=only_fakes, secrets=secrets, run_id=run_id)
        )

    async def arun(
        self,
        workflow: str | Path | LoadedWorkflow,
        inputs: Mapping[str, Any] | None = None,
        *,
        fakes: Mapping[str, FakeSpec] | None = None,
        only_fakes: bool = False,
        secrets: Mapping[str, str] | None = None,
        run_id: str | None = None,
    ) -> WorkflowRun:
        """``run`` for tests that already have an event loop."""
        loaded = self.load(workflow)
        registry, installed = self._registry_for(loaded, fakes, only_fakes)
        executor, clock, events, services = self._executor(registry, secrets)
        record = executor.create_run(loaded, dict(inputs or {}), run_id=run_id)
        return await self._execute(executor, record.id, installed, clock, events, services)

    def resume(
        self,
        run: WorkflowRun | str,
        *,
        fakes: Mapping[str, FakeSpec] | None = None,
        only_fakes: bool = False,
        secrets: Mapping[str, str] | None = None,
    ) -> WorkflowRun:
        """Carry on an interrupted run, or one a person sent back from the manual queue
        (``self.store.reopen_run(...)``), from its checkpoints, as ``rpa resume`` does."""
        run_id = run.run_id if isinstance(run, WorkflowRun) else run
        return asyncio.run(self._resume(run_id, fakes, only_fakes, secrets))

    async def _resume(
        self,
        run_id: str,
        fakes: Mapping[str, FakeSpec] | None,
        only_fakes: bool,
        secrets: Mapping[str, str] | None,
    ) -> WorkflowRun:
        record = self.store.get_run(run_id)
        stored = self.store.get_workflow_source(record.workflow_digest)
        if stored is None:
            raise WorkflowError(f"run {run_id}: its workflow definition is not in the store")
        file, source = stored
        loaded = load_workflow_text(source, file, self.registry)
        registry, installed = self._registry_for(loaded, fakes, only_fakes)
        executor, clock, events, services = self._executor(registry, secrets)
        return await self._execute(executor, run_id, installed, clock, events, services, force=True)

    def _registry_for(
        self, loaded: LoadedWorkflow, fakes: Mapping[str, FakeSpec] | None, only_fakes: bool
    ) -> tuple[SkillRegistry, dict[str, Any]]:
        registry, installed = registry_with_fakes(self.registry, fakes or {})
        if only_fakes:
            real = sorted(
                skill
                for skill in skills_used(loaded)
                if (spec := registry.get(skill)) and spec.id not in installed
            )
            if real:
                raise FakeSetupError(
                    f"only_fakes=True but {loaded.spec.name} uses skills that are not faked: {', '.join(real)}"
                )
        return registry, dict(installed)

    def _executor(
        self, registry: SkillRegistry, secrets: Mapping[str, str] | None
    ) -> tuple[RunExecutor, FakeClock, list[EngineEvent], ServicePool]:
        clock = FakeClock()
        events: list[EngineEvent] = []
        services = ServicePool(registry.services, self._service_settings())
        executor = RunExecutor(
            self.store,
            registry,
            config=EngineConfig(
                work_dir=self.work_dir,
                platforms=self.platforms,
                env=self.env,
                evidence=FileEvidenceSink(self.work_dir / ".rpa" / "evidence"),
            ),
            services=services,
            secrets=DictSecretSource({**self.secrets, **(secrets or {})}),
            clock=clock,
            owner=f"workflow-runner:{uuid.uuid4().hex[:6]}",
            on_event=events.append,
        )
        return executor, clock, events, services

    async def _execute(
        self,
        executor: RunExecutor,
        run_id: str,
        installed: dict[str, Any],
        clock: FakeClock,
        events: list[EngineEvent],
        services: ServicePool,
        *,
        force: bool = False,
    ) -> WorkflowRun:
        try:
            await executor.execute(run_id, force=force)
        finally:
            await services.aclose()
        return WorkflowRun(
            run=self.store.get_run(run_id),
            steps=self.store.get_steps(run_id),
            fakes=installed,
            retry_delays=list(clock.sleeps),
            events=events,
        )

    def record(self, run: WorkflowRun | str) -> Recording:
        """The recording of a finished run of this runner (see ``rpa record``)."""
        from orchestrator.toolkit.recording import record_run

        return record_run(self.store, run.run_id if isinstance(run, WorkflowRun) else run)

    def replay(
        self, workflow: str | Path | LoadedWorkflow, recording: Recording | str | Path
    ) -> ReplayReport:
        """Replay ``workflow`` against a recording with this runner's skills (see ``rpa replay``)."""
        from orchestrator.toolkit.replay import replay_workflow

        return replay_workflow(
            workflow, recording, registry=self.registry, env=self.env, platforms=self.platforms
        )

    def _service_settings(self) -> dict[str, Any]:
        return {
            "platforms": self.platforms,
            "file_roots": [],
            "home": str(self.work_dir / ".rpa"),
            "work_dir": str(self.work_dir),
        }

    def close(self) -> None:
        """Close the store."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> WorkflowRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
