"""One step element (a step, or one ``foreach`` element): recovery, retries, checkpoint.

The rules (DESIGN.md, "Break-point recovery"):

* a row in status ``done``/``skipped`` is never run again; its output is reloaded;
* effect ``once`` writes ``started`` durably *before* calling the skill;
* a ``once`` element found ``started`` after a crash is *in doubt*: with a verify it asks the
  platform and adopts the result when the effect is there, else runs it; without a verify it
  is parked for a person ("in doubt at step X on platform Y") — never repeated blindly;
* a ``once`` attempt that fails with an unknown outcome (``TechnicalError.applied`` not
  ``False``) is treated the same way before any retry;
* ``BusinessError`` is not retried (unless its code is listed in the retry policy);
  any other error is retried with exponential backoff and full jitter.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from orchestrator import jsoncodec
from orchestrator.enums import Effect, OnError, StepStatus
from orchestrator.errors import BusinessError, ExpressionError, LeaseLostError, SkillTimeout, TechnicalError
from orchestrator.events import EngineEvent, StepFinished, StepStarted
from orchestrator.expressions import render, truthy
from orchestrator.masking import Masker
from orchestrator.models import AuditEvent, Fence, StepRecord
from orchestrator.plugin import EvidenceRef, EvidenceSink, PlatformInfo, SkillContext, SkillSpec
from orchestrator.registry import SkillRegistry
from orchestrator.retry import RetryPolicy
from orchestrator.spec.workflow import StepSpec

from .calls import invoke, validated_result
from .resources import ResourceLocks


@dataclass
class ElementResult:
    """What happened to one element."""

    status: StepStatus  # done, failed (continue), needs_review (park), or "failed" with fail_run
    output: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    code: str | None = None
    fail_run: bool = False
    record: StepRecord | None = None
    evidence: list[dict[str, str]] = field(default_factory=list)


class _RecordingEvidence:
    """Forwards evidence to the real sink and remembers it for the step's audit event."""

    def __init__(self, sink: EvidenceSink | None) -> None:
        self.sink = sink
        self.refs: list[EvidenceRef] = []

    def save(self, name: str, data: bytes, media_type: str) -> EvidenceRef:
        if self.sink is None:
            raise TechnicalError("no evidence store is configured")
        ref = self.sink.save(name, data, media_type)
        self.refs.append(ref)
        return ref


@dataclass
class ElementServices:
    """Everything an element needs from its run; built once per run by the executor."""

    store: Any  # RunStore
    registry: SkillRegistry
    fence: Fence
    masker: Masker
    clock: Any
    rng: random.Random
    services: Any
    evidence: EvidenceSink | None
    secrets: Mapping[str, str]
    platforms: Mapping[str, Mapping[str, Any]]
    work_dir: Any
    workflow: str
    default_retry: RetryPolicy
    default_timeout: timedelta | None
    emit: Callable[[EngineEvent], None]
    logger: Any
    touch: Callable[[], None]
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    prior_owner_alive: bool = False
    locks: ResourceLocks | None = None
    on_finish: Any = None
    # set by the executor for a workflow's last step: its "done" checkpoint is written in the
    # transaction that finishes the run instead of one of its own (its pre-effect checkpoint,
    # which is what resume and `once` rely on, is still written before the skill is called)
    deferred: list[tuple[StepRecord, AuditEvent]] | None = None

    def save_done(self, record: StepRecord, event: AuditEvent) -> None:
        if self.deferred is not None:
            self.deferred.append((record, event))
        else:
            self.store.save_step(self.fence, record, event)


def _now(clock: Any) -> datetime:
    return clock.now() if clock is not None else datetime.now(UTC)


class ElementRunner:
    """Runs one element of a step to a final state, writing every checkpoint through the store."""

    def __init__(self, env: ElementServices, step: StepSpec, spec: SkillSpec, index: int) -> None:
        self.env = env
        self.step = step
        self.spec = spec
        self.index = index
        self.evidence = _RecordingEvidence(env.evidence)
        self.existing_started_at: datetime | None = None

    # -- helpers ---------------------------------------------------------------------------
    @property
    def label(self) -> str:
        return self.step.id if self.index < 0 else f"{self.step.id}[{self.index}]"

    def policy(self) -> RetryPolicy:
        if self.step.on_error is OnError.fail:
            return RetryPolicy(max_attempts=1)
        if self.step.retry is not None:
            return self.step.retry.to_policy()
        return self.spec.retry or self.env.default_retry

    def timeout(self) -> timedelta | None:
        return self.step.timeout or self.spec.timeout or self.env.default_timeout

    def record(self, status: StepStatus, **fields: Any) -> StepRecord:
        base = {
            "run_id": self.env.fence.run_id,
            "step_id": self.step.id,
            "item_index": self.index,
            "status": status,
            "skill": self.spec.id,
            "effect": self.spec.effect.value,
        }
        base.update(fields)
        if base.get("error"):
            base["error"] = self.env.masker.mask(str(base["error"]))
        return StepRecord(**base)

    def _evidence_list(self) -> list[dict[str, str]]:
        return [{"name": r.name, "sha256": r.sha256} for r in self.evidence.refs]

    def audit(self, kind: str, payload: dict[str, Any]) -> AuditEvent:
        payload = {"skill": self.spec.id, "index": self.index, **payload}
        if self.evidence.refs:
            payload["evidence"] = [{"name": r.name, "sha256": r.sha256} for r in self.evidence.refs]
        return AuditEvent(
            kind=kind,
            run_id=self.env.fence.run_id,
            step_id=self.step.id,
            actor=self.env.fence.owner,
            payload=self.env.masker.mask_value(payload),
            at=_now(self.env.clock),
        )

    def context(self, attempt: int, key: str) -> SkillContext:
        platform = None
        if self.step.platform:
            platform = PlatformInfo(self.step.platform, dict(self.env.platforms.get(self.step.platform, {})))
        return SkillContext(
            run_id=self.env.fence.run_id,
            step_id=self.step.id,
            skill_id=self.spec.id,
            attempt=attempt,
            idempotency_key=key,
            workflow=self.env.workflow,
            item_index=None if self.index < 0 else self.index,
            platform=platform,
            services=self.env.services,
            evidence=self.evidence,
            work_dir=self.env.work_dir,
            secrets=self.env.secrets,
            logger=self.env.logger,
            heartbeat=self.env.touch,
        )

    # -- the element -----------------------------------------------------------------------
    async def run(self, scope: Mapping[str, Any], existing: StepRecord | None) -> ElementResult:
        try:
            params_raw = render(self.step.with_, scope)
            corrections = self.env.overrides.get(self.step.id)
            if corrections:  # a person's corrections (validated and audited when they were made)
                params_raw = {**params_raw, **corrections}
            params = self.spec.params_model.model_validate(params_raw)
            key = self._idempotency_key(scope)
        except ExpressionError as exc:
            return self.park(f"step {self.label}: {exc.message}", "expression_error", existing)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()[:5]
            )
            return self.park(
                f"step {self.label}: invalid arguments for {self.spec.id}: {problems}",
                "invalid_arguments",
                existing,
            )
        masked_params = self.env.masker.mask_value(params.model_dump())
        attempts = existing.attempts if existing else 0
        self.existing_started_at = existing.started_at if existing else None
        once = self.spec.effect is Effect.once
        if once and existing is not None and existing.status in (StepStatus.started, StepStatus.retrying):
            # retrying after "not applied", or because a person decided so: no verify needed
            safe_retry = existing.status is StepStatus.retrying and existing.error_kind in (
                "not_applied",
                "operator",
            )
            if not safe_retry:
                resolved = await self._resolve_in_doubt(params, key, attempts, masked_params, scope)
                if resolved is not None:
                    return resolved
        return await self._attempt_loop(params, key, attempts, masked_params, scope)

    def _idempotency_key(self, scope: Mapping[str, Any]) -> str:
        if self.step.idempotency_key is not None:
            value = render(self.step.idempotency_key, scope)
            if value is None or value == "":
                raise ExpressionError("idempotency_key evaluated to nothing", self.step.idempotency_key)
            return str(value)
        return f"{self.env.fence.run_id}:{self.label}"

    async def _resolve_in_doubt(
        self, params: Any, key: str, attempts: int, masked_params: Any, scope: Mapping[str, Any]
    ) -> ElementResult | None:
        """An effect that may or may not have happened: verify, or park. ``None`` = run it."""
        if not self._has_verify():
            platform = self.step.platform or "its platform"
            return self.park(
                f"in doubt at step {self.label} on platform {platform}: the step was started but its "
                "outcome was not recorded and it has no verify; check the platform, then retry or "
                "mark it done",
                "in_doubt",
                None,
                attempts=attempts,
                params=masked_params,
                key=key,
            )
        await self._outwait_previous_attempt()
        found = await self._verify(params, key, attempts, scope)
        if found is None:
            return None
        if isinstance(found, ElementResult):
            return found
        now = _now(self.env.clock)
        record = self.record(
            StepStatus.done,
            attempts=attempts,
            idempotency_key=key,
            params=masked_params,
            output=self.env.masker.mask_value(found),
            adopted=True,
            finished_at=now,
        )
        event = self.audit("step_adopted", {"idempotency_key": key, "output_sha256": _digest(found)})
        self.env.store.save_step(self.env.fence, record, event)
        self.env.emit(
            StepFinished(
                self.env.fence.run_id, self.step.id, self.index, StepStatus.done, attempts, 0.0, adopted=True
            )
        )
        return ElementResult(StepStatus.done, output=found, record=record)

    async def _outwait_previous_attempt(self) -> None:
        """If the runner that started this step may still be alive (its lease merely expired),
        wait until its attempt's deadline has passed: a lookup made earlier could miss an
        effect its still-running call is about to make."""
        started = self.existing_started_at
        if not self.env.prior_owner_alive or started is None:
            return
        deadline = started + (self.timeout() or timedelta(minutes=10)) + timedelta(seconds=2)
        wait = (deadline - _now(self.env.clock)).total_seconds()
        if wait > 0:
            self.env.logger.bind(run_id=self.env.fence.run_id, step_id=self.label).warning(
                "step was started by a runner that may still be alive; waiting {:.1f}s for its attempt to end "
                "before verifying",
                wait,
            )
            await self.env.clock.sleep(wait)

    async def _call(self, func: Any, spec: SkillSpec, ctx: SkillContext, params: Any) -> Any:
        """Invoke a skill (or its verify) holding the resources it declares."""
        if self.env.locks is None or not spec.resources:
            return await invoke(func, spec, ctx, params, self.timeout())
        async with self.env.locks.hold(spec.resources):
            return await invoke(func, spec, ctx, params, self.timeout())

    def _has_verify(self) -> bool:
        return self.step.verify is not None or self.spec.verify is not None

    async def _verify(
        self, params: Any, key: str, attempts: int, scope: Mapping[str, Any]
    ) -> dict[str, Any] | ElementResult | None:
        """The effect's result when it is already on the platform, ``None`` when it is not."""
        policy = self.policy()
        for verify_attempt in range(1, policy.max_attempts + 1):
            ctx = self.context(attempts, key)
            try:
                if self.step.verify is not None:
                    vspec = self.env.registry.get(self.step.verify.uses)
                    assert vspec is not None  # validated at load
                    vparams = vspec.params_model.model_validate(render(self.step.verify.with_, scope))
                    raw = await self._call(vspec.func, vspec, ctx, vparams)
                    checked = validated_result(vspec, raw)
                    if not checked.get("found"):
                        return None
                    known = self.spec.result_model.model_fields
                    return validated_result(self.spec, {k: v for k, v in checked.items() if k in known})
                assert self.spec.verify is not None
                raw = await self._call(self.spec.verify, self.spec, ctx, params)
                return None if raw is None else validated_result(self.spec, raw)
            except (LeaseLostError, asyncio.CancelledError):
                raise
            except BusinessError as exc:
                return self.park(
                    f"step {self.label}: verify failed: {exc.message}",
                    exc.code,
                    None,
                    attempts=attempts,
                    key=key,
                )
            except Exception as exc:  # any verify failure: retry it, then park (never guess)
                if verify_attempt < policy.max_attempts:
                    await self.env.clock.sleep(policy.delay(verify_attempt, self.env.rng).total_seconds())
                    continue
                return self.park(
                    f"in doubt at step {self.label}: verify could not reach the platform: {exc}",
                    "verify_failed",
                    None,
                    attempts=attempts,
                    key=key,
                )
        return None

    async def _attempt_loop(
        self, params: Any, key: str, attempts: int, masked_params: Any, scope: Mapping[str, Any]
    ) -> ElementResult:
        policy = self.policy()
        once = self.spec.effect is Effect.once
        first_of_this_execution = attempts + 1
        while True:
            attempt = attempts + 1
            started = _now(self.env.clock)
            if once:
                self.env.store.save_step(
                    self.env.fence,
                    self.record(
                        StepStatus.started,
                        attempts=attempt,
                        idempotency_key=key,
                        params=masked_params,
                        started_at=started,
                    ),
                )
            self.env.emit(StepStarted(self.env.fence.run_id, self.step.id, self.index, attempt))
            t0 = time.perf_counter()
            try:
                raw = await self._call(self.spec.func, self.spec, self.context(attempt, key), params)
                output = validated_result(self.spec, raw)
            except (LeaseLostError, asyncio.CancelledError):
                raise
            except BusinessError as exc:
                elapsed = (time.perf_counter() - t0) * 1000
                if exc.code in policy.retry_business_codes and policy.allows_another(
                    attempt - first_of_this_execution + 1
                ):
                    await self._backoff(
                        attempt,
                        exc,
                        "business",
                        masked_params,
                        key,
                        started,
                        elapsed,
                        policy,
                        first_of_this_execution,
                    )
                    attempts = attempt
                    continue
                return self._business_failure(exc, attempt, key, masked_params, started, elapsed)
            except Exception as raised:  # TechnicalError, timeouts and any unexpected exception
                exc: BaseException = raised
                if once and isinstance(exc, SkillTimeout) and exc.pending is not None:
                    late = await self._await_late_call(exc)
                    if isinstance(late, dict):
                        elapsed = (time.perf_counter() - t0) * 1000
                        return self._done(late, attempt, key, masked_params, started, elapsed)
                    if isinstance(late, BusinessError):
                        elapsed = (time.perf_counter() - t0) * 1000
                        return self._business_failure(late, attempt, key, masked_params, started, elapsed)
                    if late is None:
                        platform = self.step.platform or "its platform"
                        return self.park(
                            f"in doubt at step {self.label} on platform {platform}: the call is still running "
                            f"long after its timeout; check the platform, then retry or mark it done",
                            "in_doubt",
                            None,
                            attempts=attempt,
                            params=masked_params,
                            key=key,
                            error=_describe(exc),
                        )
                    exc = late
                elapsed = (time.perf_counter() - t0) * 1000
                applied = exc.applied if isinstance(exc, TechnicalError) else None
                if once and applied is not False:
                    if not self._has_verify():
                        platform = self.step.platform or "its platform"
                        return self.park(
                            f"in doubt at step {self.label} on platform {platform}: the attempt failed with "
                            f"{_describe(exc)} and may have reached the platform; it has no verify, so it is "
                            "not repeated",
                            "in_doubt",
                            None,
                            attempts=attempt,
                            params=masked_params,
                            key=key,
                            error=_describe(exc),
                        )
                    found = await self._verify(params, key, attempt, scope)
                    if isinstance(found, ElementResult):
                        return found
                    if found is not None:
                        return self._done(found, attempt, key, masked_params, started, elapsed, adopted=True)
                if policy.allows_another(attempt - first_of_this_execution + 1):
                    await self._backoff(
                        attempt,
                        exc,
                        "not_applied" if applied is False else "technical",
                        masked_params,
                        key,
                        started,
                        elapsed,
                        policy,
                        first_of_this_execution,
                    )
                    attempts = attempt
                    continue
                return self._technical_failure(exc, attempt, key, masked_params, started, elapsed)
            return self._done(output, attempt, key, masked_params, started, (time.perf_counter() - t0) * 1000)

    async def _await_late_call(self, timeout: SkillTimeout) -> dict[str, Any] | BaseException | None:
        """Wait for a timed-out threaded ``once`` call: its late result, its error, or None.

        Verifying while the call may still reach the platform would be blind: the lookup could
        miss an effect that lands a moment later, and the retry would make it twice.
        """
        pending: Any = timeout.pending
        limit = max(60.0, 4 * (self.timeout() or timedelta(seconds=60)).total_seconds())
        done, _ = await asyncio.wait({pending}, timeout=limit)
        if not done:
            return None
        try:
            return validated_result(self.spec, pending.result())
        except BaseException as late:  # the late call's own failure decides what happens next
            return late

    async def _backoff(
        self,
        attempt: int,
        exc: BaseException,
        kind: str,
        masked_params: Any,
        key: str,
        started: datetime,
        elapsed: float,
        policy: RetryPolicy,
        first: int,
    ) -> None:
        error = _describe(exc)
        record = self.record(
            StepStatus.retrying,
            attempts=attempt,
            idempotency_key=key,
            params=masked_params,
            error=error,
            error_kind=kind,
            started_at=started,
            duration_ms=elapsed,
        )
        delay = policy.delay(attempt - first + 1, self.env.rng).total_seconds()
        event = self.audit("step_retrying", {"attempt": attempt, "error": error, "delay_s": round(delay, 3)})
        self.env.store.save_step(self.env.fence, record, event)
        self.env.emit(
            StepFinished(
                self.env.fence.run_id,
                self.step.id,
                self.index,
                StepStatus.retrying,
                attempt,
                elapsed,
                error=self.env.masker.mask(error),
            )
        )
        self.env.logger.bind(run_id=self.env.fence.run_id, step_id=self.label).warning(
            "attempt {} of {} failed ({}); retrying in {:.2f}s",
            attempt,
            self.spec.id,
            self.env.masker.mask(error),
            delay,
        )
        await self.env.clock.sleep(delay)

    def _done(
        self,
        output: dict[str, Any],
        attempt: int,
        key: str,
        masked_params: Any,
        started: datetime,
        elapsed: float,
        *,
        adopted: bool = False,
    ) -> ElementResult:
        stored_output = self.env.masker.mask_value(output)
        params_text = jsoncodec.dumps(masked_params)
        output_text = jsoncodec.dumps(stored_output)
        record = self.record(
            StepStatus.done,
            attempts=attempt,
            idempotency_key=key,
            params=masked_params,
            output=stored_output,
            adopted=adopted,
            started_at=started,
            finished_at=_now(self.env.clock),
            duration_ms=elapsed,
            params_text=params_text,
            output_text=output_text,
        )
        event = self.audit(
            "step_adopted" if adopted else "step_done",
            {
                "attempts": attempt,
                "effect": self.spec.effect.value,
                "idempotency_key": key,
                "params_sha256": jsoncodec.sha256_text(params_text),
                "output_sha256": jsoncodec.sha256_text(output_text),
                "duration_ms": round(elapsed, 3),
            },
        )
        self.env.save_done(record, event)
        self.env.emit(
            StepFinished(
                self.env.fence.run_id,
                self.step.id,
                self.index,
                StepStatus.done,
                attempt,
                elapsed,
                adopted=adopted,
            )
        )
        return ElementResult(StepStatus.done, output=output, record=record)

    def park(
        self,
        reason: str,
        code: str,
        existing: StepRecord | None,
        *,
        attempts: int | None = None,
        params: Any = None,
        key: str | None = None,
        error: str | None = None,
    ) -> ElementResult:
        """Leave the element for a person; the executor parks the run in the same transaction."""
        reason = self.env.masker.mask(reason)
        record = self.record(
            StepStatus.needs_review,
            attempts=attempts if attempts is not None else (existing.attempts if existing else 0),
            idempotency_key=key,
            params=params,
            error=error or reason,
            error_kind=code,
            finished_at=_now(self.env.clock),
        )
        self.env.emit(
            StepFinished(
                self.env.fence.run_id,
                self.step.id,
                self.index,
                StepStatus.needs_review,
                record.attempts,
                0.0,
                error=reason,
            )
        )
        return ElementResult(
            StepStatus.needs_review, reason=reason, code=code, record=record, evidence=self._evidence_list()
        )

    def _business_failure(
        self,
        exc: BusinessError,
        attempt: int,
        key: str,
        masked_params: Any,
        started: datetime,
        elapsed: float,
    ) -> ElementResult:
        reason = f"step {self.label} ({self.spec.id}): {exc.message}"
        if self.step.on_error in (OnError.retry, OnError.manual):
            return self.park(reason, exc.code, None, attempts=attempt, params=masked_params, key=key)
        return self._failed(reason, exc.code, attempt, key, masked_params, started, elapsed)

    def _technical_failure(
        self,
        exc: BaseException,
        attempt: int,
        key: str,
        masked_params: Any,
        started: datetime,
        elapsed: float,
    ) -> ElementResult:
        reason = f"step {self.label} ({self.spec.id}) failed after {attempt} attempt(s): {_describe(exc)}"
        if self.step.on_error is OnError.manual:
            return self.park(reason, "technical_error", None, attempts=attempt, params=masked_params, key=key)
        return self._failed(reason, "technical_error", attempt, key, masked_params, started, elapsed)

    def _failed(
        self,
        reason: str,
        code: str,
        attempt: int,
        key: str,
        masked_params: Any,
        started: datetime,
        elapsed: float,
    ) -> ElementResult:
        reason = self.env.masker.mask(reason)
        record = self.record(
            StepStatus.failed,
            attempts=attempt,
            idempotency_key=key,
            params=masked_params,
            error=reason,
            error_kind=code,
            started_at=started,
            finished_at=_now(self.env.clock),
            duration_ms=elapsed,
        )
        self.env.emit(
            StepFinished(
                self.env.fence.run_id,
                self.step.id,
                self.index,
                StepStatus.failed,
                attempt,
                elapsed,
                error=reason,
            )
        )
        fail_run = self.step.on_error is not OnError.continue_
        if not fail_run:
            event = self.audit("step_failed", {"attempts": attempt, "error": reason, "on_error": "continue"})
            self.env.store.save_step(self.env.fence, record, event)
        return ElementResult(
            StepStatus.failed,
            reason=reason,
            code=code,
            fail_run=fail_run,
            record=record,
            evidence=self._evidence_list(),
        )


def evaluate_condition(step: StepSpec, scope: Mapping[str, Any]) -> bool:
    if step.if_ is None:
        return True
    if isinstance(step.if_, bool):
        return step.if_
    return truthy(render(step.if_, scope))


def _describe(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {message}"


def _digest(value: Any) -> str:
    return jsoncodec.sha256_text(jsoncodec.dumps(value))
