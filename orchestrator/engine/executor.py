"""Runs a workflow step by step with a durable checkpoint after every step, and resumes runs.

``RunExecutor.create_run`` stores the workflow's exact source and the typed inputs;
``RunExecutor.execute`` takes the run's lease, reloads its checkpoints and carries on from the
first step that is not done (see ``elements.py`` for the per-step rules). A heartbeat timer
extends the lease while the run executes; a runner that loses the lease stops at once
(``LeaseLostError``) without writing anything more.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from loguru import logger as default_logger

from orchestrator.abc import RunStore
from orchestrator.enums import RunStatus, StepStatus
from orchestrator.errors import ConfigError, ExpressionError, LeaseLostError, RpaError
from orchestrator.events import EngineEvent, RunFinished, RunStarted
from orchestrator.expressions import render
from orchestrator.masking import Masker
from orchestrator.models import SINGLE, AuditEvent, Fence, RunRecord, StepRecord
from orchestrator.owners import owner_is_dead
from orchestrator.plugin import EvidenceSink, SkillSpec
from orchestrator.registry import SkillRegistry
from orchestrator.retry import RetryPolicy
from orchestrator.secrets import EnvSecretSource, SecretSource, SecretsView
from orchestrator.spec.validate import LoadedWorkflow, load_workflow_text
from orchestrator.spec.workflow import StepSpec, coerce_input

from .calls import empty_output, restore_output
from .clock import Clock, SystemClock
from .elements import ElementResult, ElementRunner, ElementServices, evaluate_condition
from .resources import ResourceLocks


@dataclass
class EngineConfig:
    """Engine settings (built from ``Settings`` at the edge)."""

    lease: timedelta = timedelta(seconds=30)
    default_retry: RetryPolicy = field(default_factory=RetryPolicy)
    default_timeout: timedelta | None = timedelta(minutes=10)
    work_dir: Path = field(default_factory=Path.cwd)
    platforms: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    evidence: EvidenceSink | None = None
    resources: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    status: RunStatus
    reason: str | None = None
    reason_code: str | None = None
    outputs: dict[str, Any] | None = None
    parked_step: str | None = None


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class RunExecutor:
    """Creates and executes runs against a ``RunStore`` and a ``SkillRegistry``."""

    def __init__(
        self,
        store: RunStore,
        registry: SkillRegistry,
        *,
        config: EngineConfig | None = None,
        services: Any = None,
        secrets: SecretSource | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        owner: str | None = None,
        on_event: Callable[[EngineEvent], None] | None = None,
        logger: Any = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.config = config or EngineConfig()
        self.services = services
        self.secrets = secrets or EnvSecretSource()
        self.clock = clock or SystemClock()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography  # nosec B311
        self.owner = owner or default_owner()
        self.on_event = on_event
        self.logger = logger or default_logger
        self._definitions: dict[str, LoadedWorkflow] = {}
        self.locks = ResourceLocks(self.config.resources)

    # -- creating runs ---------------------------------------------------------------------
    def create_run(
        self,
        workflow: LoadedWorkflow,
        inputs: Mapping[str, Any] | None = None,
        *,
        work_item_id: str | None = None,
        run_id: str | None = None,
        acquire: bool = False,
        on_create: Callable[[Any, str], None] | None = None,
    ) -> RunRecord:
        """Check and type the inputs, keep the workflow source, and store a pending run.

        With ``acquire`` the run is created already owned by this executor (one transaction
        instead of two); pass ``fence=executor.fence_for(run)`` to ``execute`` then.
        """
        typed = self.typed_inputs(workflow, inputs or {})
        self.store.save_workflow_source(workflow.digest, workflow.spec.name, workflow.file, workflow.source)
        self._remember(workflow)
        new_id = run_id or uuid.uuid4().hex
        also = None if on_create is None else (lambda tx: on_create(tx, new_id))
        return self.store.create_run(
            new_id,
            workflow.spec.name,
            workflow.digest,
            typed,
            work_item_id=work_item_id,
            owner=self.owner if acquire else None,
            lease_until=self.clock.now() + self.config.lease if acquire else None,
            also=also,
        )

    def create_run_in(
        self,
        tx: Any,
        workflow: LoadedWorkflow,
        inputs: Mapping[str, Any],
        *,
        work_item_id: str,
        run_id: str | None = None,
    ) -> RunRecord:
        """A run of a stored ``workflow``, created acquired inside a transaction the caller holds.

        A runner creates an item's run in the transaction that claims the item. The workflow
        came from the store (``definition``), so its source is already kept there. Raises
        ``ConfigError`` before writing anything when the inputs do not fit the workflow.
        """
        typed = self.typed_inputs(workflow, inputs)
        return self.store.insert_run(
            tx,
            run_id or uuid.uuid4().hex,
            workflow.spec.name,
            workflow.digest,
            typed,
            work_item_id,
            owner=self.owner,
            lease_until=self.clock.now() + self.config.lease,
        )

    def fence_for(self, run: RunRecord) -> Fence:
        """The fence of a run this executor created with ``acquire=True``."""
        if run.owner != self.owner:
            raise LeaseLostError(f"run {run.id} is not owned by {self.owner}")
        return Fence(run_id=run.id, owner=self.owner, epoch=run.epoch)

    @staticmethod
    def typed_inputs(workflow: LoadedWorkflow, given: Mapping[str, Any]) -> dict[str, Any]:
        declared = workflow.spec.inputs
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise ConfigError(
                f"unknown input(s) {', '.join(unknown)} for workflow {workflow.spec.name!r}; "
                f"declared: {', '.join(sorted(declared)) or 'none'}"
            )
        typed: dict[str, Any] = {}
        problems = []
        for name, spec in declared.items():
            value = given.get(name, spec.default)
            if value is None:
                if spec.is_required:
                    problems.append(f"input {name!r} is required ({spec.type})")
                typed[name] = None
                continue
            try:
                typed[name] = coerce_input(spec, value)
            except ValueError as exc:
                first = exc.errors()[0]["msg"] if hasattr(exc, "errors") else str(exc)
                problems.append(f"input {name!r}: expected {spec.type}, got {value!r} ({first})")
        if problems:
            raise ConfigError("; ".join(problems))
        return typed

    def _remember(self, workflow: LoadedWorkflow) -> None:
        if len(self._definitions) >= 64:
            self._definitions.pop(next(iter(self._definitions)))
        self._definitions[workflow.digest] = workflow

    def definition(self, digest: str) -> LoadedWorkflow:
        """A stored workflow definition by content hash, parsed once per executor."""
        cached = self._definitions.get(digest)
        if cached is not None:
            return cached
        stored = self.store.get_workflow_source(digest)
        if stored is None:
            raise RpaError(f"workflow definition {digest[:12]} is not in the store")
        file, source = stored
        loaded = load_workflow_text(source, file, self.registry)
        self._remember(loaded)
        return loaded

    def load_run_workflow(self, run: RunRecord) -> LoadedWorkflow:
        """The run's own workflow definition (by content hash)."""
        try:
            return self.definition(run.workflow_digest)
        except RpaError as exc:
            raise RpaError(f"run {run.id}: {exc}") from None

    # -- executing runs --------------------------------------------------------------------
    async def execute(
        self,
        run_id: str,
        *,
        force: bool = False,
        fence: Fence | None = None,
        on_finish: FinishHook | None = None,
        created: RunRecord | None = None,
    ) -> RunOutcome:
        """Run (or resume) a run until it is done, failed or parked.

        ``fence`` and ``created``: the run was just created already acquired
        (``create_run(acquire=True)``), so it has no checkpoints to reload.
        ``on_finish(tx, outcome)`` runs inside the transaction that records
        the run's final (or parked) status — a runner records its work item's outcome there, so
        the two can never disagree after a crash.
        """
        prior_owner_alive = False
        if fence is None:
            lease_until = self.clock.now() + self.config.lease
            previous_owner = self.store.get_run(run_id).owner
            fence = self.store.acquire_run(run_id, self.owner, lease_until, force=force)
            prior_owner_alive = previous_owner not in (None, self.owner) and not owner_is_dead(previous_owner)
        fresh = created is not None and fence is not None and created.id == run_id
        run = created if fresh and created is not None else self.store.get_run(run_id)
        try:
            workflow = self.load_run_workflow(run)
        except RpaError as exc:
            outcome = RunOutcome(run_id, RunStatus.failed, str(exc), "workflow_unavailable")
            self.store.finish_run(
                fence,
                RunStatus.failed,
                reason=str(exc),
                reason_code="workflow_unavailable",
                audit=AuditEvent(
                    kind="run_failed", run_id=run_id, actor=self.owner, payload={"reason": str(exc)}
                ),
                also=_bind(on_finish, outcome),
            )
            return outcome
        main = asyncio.current_task()
        assert main is not None
        keeper = _LeaseKeeper(
            max(self.config.lease.total_seconds() / 3, 0.05),
            lambda: self.store.extend_lease(fence, self.clock.now() + self.config.lease),
            main,
        )
        try:
            return await self._execute(run, fence, workflow, prior_owner_alive, on_finish, fresh)
        except asyncio.CancelledError:
            error = keeper.error
            if isinstance(error, LeaseLostError):
                raise error from None
            if error is not None and not isinstance(error, RpaError):
                # a bug while extending the lease is reported as one (a runner records an
                # internal error and the item goes to a person), not as a stop from outside
                main.uncancel()
                raise error from None
            # stopped from outside (shutdown) or the store unreachable: give the run up so
            # another runner can resume it
            with contextlib.suppress(RpaError):
                self.store.release_run(fence)
            raise
        finally:
            keeper.stop()

    def _emit(self, event: EngineEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    async def _execute(
        self,
        run: RunRecord,
        fence: Fence,
        workflow: LoadedWorkflow,
        prior_owner_alive: bool = False,
        on_finish: FinishHook | None = None,
        fresh: bool = False,
    ) -> RunOutcome:
        spec = workflow.spec
        records = {} if fresh else {(r.step_id, r.item_index): r for r in self.store.get_steps(run.id)}
        masker = Masker()
        secrets = SecretsView(self.secrets, masker)
        inputs = self.typed_inputs(workflow, run.inputs)
        scope: dict[str, Any] = {
            "inputs": inputs,
            "steps": {},
            "secrets": secrets,
            "env": dict(self.config.env),
            "run": {"id": run.id, "workflow": spec.name, "work_item_id": run.work_item_id},
        }
        env = ElementServices(
            store=self.store,
            registry=self.registry,
            fence=fence,
            masker=masker,
            clock=self.clock,
            rng=self.rng,
            services=self.services,
            evidence=self.config.evidence,
            secrets=secrets,
            platforms=self.config.platforms,
            work_dir=self.config.work_dir,
            workflow=spec.name,
            default_retry=self.config.default_retry,
            default_timeout=self.config.default_timeout,
            emit=self._emit,
            logger=self.logger,
            touch=lambda: None,
            overrides=run.overrides,
            prior_owner_alive=prior_owner_alive,
            locks=self.locks,
            on_finish=on_finish,
        )
        self._emit(RunStarted(run.id, spec.name, tuple(s.id for s in spec.steps), resumed=bool(records)))
        last = spec.steps[-1] if spec.steps else None
        for step in spec.steps:
            skill = self.registry.get(step.uses)
            assert skill is not None  # the workflow was validated against this registry
            if step is last and step.foreach is None:
                env.deferred = []  # its "done" checkpoint commits with the run's outcome
            outcome = await self._run_step(env, step, skill, scope, records)
            if outcome is not None:
                return outcome
        try:
            outputs = render(spec.outputs, scope)
        except ExpressionError as exc:
            return self._park(env, fence, f"outputs: {exc.message}", "expression_error", None, None)
        outputs = masker.mask_value(outputs)
        deferred = _take_deferred(env)
        self.store.finish_run(
            fence,
            RunStatus.done,
            outputs=outputs,
            steps=[record for record, _event in deferred],
            step_events=[event for _record, event in deferred],
            audit=AuditEvent(
                kind="run_done",
                run_id=run.id,
                actor=self.owner,
                at=self.clock.now(),
                payload={"outputs": outputs},
            ),
            also=_bind(env.on_finish, RunOutcome(run.id, RunStatus.done, outputs=outputs)),
        )
        self._emit(RunFinished(run.id, RunStatus.done, None))
        return RunOutcome(run.id, RunStatus.done, outputs=outputs)

    async def _run_step(
        self,
        env: ElementServices,
        step: StepSpec,
        skill: SkillSpec,
        scope: dict[str, Any],
        records: dict[tuple[str, int], StepRecord],
    ) -> RunOutcome | None:
        """Run one step (all its elements); a returned outcome ends the run."""
        single = records.get((step.id, SINGLE))
        if single is not None and single.status in (StepStatus.done, StepStatus.skipped, StepStatus.failed):
            scope["steps"][step.id] = (
                restore_output(skill, single.output)
                if single.status is StepStatus.done
                else empty_output(skill)
            )
            return None
        try:
            wanted = evaluate_condition(step, scope)
            items = render(step.foreach, scope) if wanted and step.foreach is not None else None
        except ExpressionError as exc:
            return self._park(
                env, env.fence, f"step {step.id}: {exc.message}", "expression_error", step, None
            )
        if not wanted:
            record = StepRecord(
                env.fence.run_id,
                step.id,
                SINGLE,
                StepStatus.skipped,
                skill.id,
                skill.effect.value,
                finished_at=self.clock.now(),
            )
            self.store.save_step(
                env.fence,
                record,
                AuditEvent(
                    kind="step_skipped",
                    run_id=env.fence.run_id,
                    step_id=step.id,
                    actor=self.owner,
                    at=self.clock.now(),
                ),
            )
            scope["steps"][step.id] = empty_output(skill)
            return None
        if step.foreach is None:
            result = await ElementRunner(env, step, skill, SINGLE).run(scope, single)
            scope["steps"][step.id] = (
                result.output if result.status is StepStatus.done else empty_output(skill)
            )
            return self._after_element(env, step, result)
        if not isinstance(items, list):
            shown = type(items).__name__ if items is not None else "nothing"
            return self._park(
                env,
                env.fence,
                f"step {step.id}: foreach expected a list, got {shown}",
                "expression_error",
                step,
                None,
            )
        outputs: list[dict[str, Any] | None] = []
        for index, item in enumerate(items):
            existing = records.get((step.id, index))
            if existing is not None and existing.status in (StepStatus.done, StepStatus.failed):
                outputs.append(
                    restore_output(skill, existing.output) if existing.status is StepStatus.done else None
                )
                continue
            element_scope = {**scope, "item": item, "index": index}
            result = await ElementRunner(env, step, skill, index).run(element_scope, existing)
            outcome = self._after_element(env, step, result)
            if outcome is not None:
                return outcome
            outputs.append(result.output if result.status is StepStatus.done else None)
        scope["steps"][step.id] = {"items": outputs}
        return None

    def _after_element(
        self, env: ElementServices, step: StepSpec, result: ElementResult
    ) -> RunOutcome | None:
        if result.status is StepStatus.needs_review:
            return self._park(
                env,
                env.fence,
                result.reason or "needs review",
                result.code or "needs_review",
                step,
                result.record,
                evidence=result.evidence,
            )
        if result.status is StepStatus.failed and result.fail_run:
            reason = result.reason or "failed"
            audit = AuditEvent(
                kind="run_failed",
                run_id=env.fence.run_id,
                step_id=step.id,
                actor=self.owner,
                at=self.clock.now(),
                payload={"reason": reason, "code": result.code, **_evidence(result.evidence)},
            )
            if result.record is not None:
                self.store.save_step(env.fence, result.record)
            self.store.finish_run(
                env.fence,
                RunStatus.failed,
                reason=reason,
                reason_code=result.code,
                parked_step=step.id,
                audit=audit,
                also=_bind(
                    env.on_finish, RunOutcome(env.fence.run_id, RunStatus.failed, reason, result.code)
                ),
            )
            self._emit(RunFinished(env.fence.run_id, RunStatus.failed, reason))
            return RunOutcome(env.fence.run_id, RunStatus.failed, reason, result.code)
        return None

    def _park(
        self,
        env: ElementServices,
        fence: Fence,
        reason: str,
        code: str,
        step: StepSpec | None,
        record: StepRecord | None,
        evidence: list[dict[str, str]] | None = None,
    ) -> RunOutcome:
        """Park the run for a person; the step row and the run status change in one transaction."""
        reason = env.masker.mask(reason)
        audit = AuditEvent(
            kind="run_parked",
            run_id=fence.run_id,
            step_id=step.id if step else None,
            actor=self.owner,
            at=self.clock.now(),
            payload={"reason": reason, "code": code, **_evidence(evidence)},
        )
        deferred = _take_deferred(env)
        self.store.finish_run(
            fence,
            RunStatus.needs_review,
            reason=reason,
            reason_code=code,
            parked_step=step.id if step else None,
            audit=audit,
            steps=[r for r, _e in deferred] + ([record] if record is not None else []),
            step_events=[e for _r, e in deferred],
            also=_bind(
                env.on_finish,
                RunOutcome(
                    fence.run_id, RunStatus.needs_review, reason, code, parked_step=step.id if step else None
                ),
            ),
        )
        self._emit(RunFinished(fence.run_id, RunStatus.needs_review, reason))
        return RunOutcome(
            fence.run_id, RunStatus.needs_review, reason, code, parked_step=step.id if step else None
        )


FinishHook = Callable[[Any, RunOutcome], None]  # (the store's StoreTx, the outcome)


def _take_deferred(env: ElementServices) -> list[tuple[StepRecord, AuditEvent]]:
    deferred, env.deferred = env.deferred or [], None
    return deferred


def _evidence(refs: list[dict[str, str]] | None) -> dict[str, Any]:
    """Evidence (failure screenshots) of the step that ended the run, for its audit event."""
    return {"evidence": refs} if refs else {}


def _bind(hook: FinishHook | None, outcome: RunOutcome) -> Callable[[Any], None] | None:
    if hook is None:
        return None
    return lambda tx: hook(tx, outcome)


class _LeaseKeeper:
    """Extends a run's lease every ``interval`` seconds while the run executes (a timer on the
    event loop, not a task: a task per run cost two more turns of the loop per item).

    When extending fails — the lease was lost, or the store is unreachable — it keeps the
    error and cancels the run's task, which raises ``LeaseLostError`` or gives the run up.
    """

    def __init__(self, interval: float, extend: Callable[[], None], main: asyncio.Task[Any]) -> None:
        self.error: BaseException | None = None
        self._interval = interval
        self._extend = extend
        self._main = main
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = self._loop.call_later(interval, self._beat)

    def _beat(self) -> None:
        self._timer = None
        try:
            self._extend()
        except Exception as exc:
            self.error = exc
            self._main.cancel()
            return
        self._timer = self._loop.call_later(self._interval, self._beat)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
