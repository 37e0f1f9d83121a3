"""Replay: re-run a (possibly changed) workflow with every skill answering from a recording.

Each skill call the workflow makes is compared with the next call of the recording: the same
step (and ``foreach`` element), the same skill, the same arguments (with the corrections a
person made to a step in the recorded run applied, as the engine applied them). The first divergence stops
the run and is reported as a readable diff; recorded calls the workflow no longer makes, a
different final status and different outputs are reported too. Each recorded call answers
its final outcome at once (its output, or the business or technical error it ended with):
retries are listed in the recording but not played again.

The run uses the engine as it is (``RunExecutor``) on a temporary SQLite store, under the
recorded run's id so that expressions such as ``${{ run.id }}`` evaluate as they did.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from orchestrator import jsoncodec
from orchestrator.engine import EngineConfig, RunExecutor
from orchestrator.engine.clock import FakeClock
from orchestrator.errors import BusinessError, ConfigError, TechnicalError
from orchestrator.masking import MASK
from orchestrator.plugin import SkillContext, SkillSpec
from orchestrator.registry import SkillRegistry
from orchestrator.services import ServicePool
from orchestrator.spec.validate import LoadedWorkflow
from orchestrator.store.sql import open_store, sqlite_url_for
from orchestrator.toolkit.fakes import copy_registry
from orchestrator.toolkit.plan_view import value_text
from orchestrator.toolkit.recording import RecordedCall, Recording
from orchestrator.toolkit.runner import installed_registry, load_checked

TECHNICAL_KINDS = {"technical_error"}


class _Diverged(BaseException):
    """Stops the engine at the first divergence.

    A ``BaseException`` on purpose: the engine turns every ``Exception`` from a skill into a
    retry or a parked run, which would hide the divergence behind the engine's reaction.
    """


@dataclass(frozen=True)
class Mismatch:
    """One way the replayed run differs from the recording."""

    kind: str  # arguments | order | extra_call | missing_calls | status | outputs | inputs
    message: str
    step: str | None = None
    expected: Any = None
    actual: Any = None
    differences: list[str] = field(default_factory=list)


@dataclass
class ReplayReport:
    """What the replay found; ``ok`` when the workflow did exactly what was recorded."""

    workflow: str
    recording_run: str
    calls_matched: int
    calls_recorded: int
    status: str | None
    recorded_status: str
    mismatches: list[Mismatch]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def format(self) -> str:
        head = (
            f"replay of {self.workflow} against run {self.recording_run}: "
            f"{self.calls_matched} of {self.calls_recorded} recorded call(s) matched"
        )
        if self.ok:
            return f"{head}; the run ended {self.status} as recorded. OK\n"
        lines = [f"{head}; {len(self.mismatches)} difference(s):"]
        for mismatch in self.mismatches:
            lines.append(f"- {mismatch.message}")
            lines.extend(f"    {line}" for line in mismatch.differences)
        return "\n".join(lines) + "\n"

    def assert_ok(self) -> None:
        """Raise ``AssertionError`` with the readable report unless the replay matched."""
        if not self.ok:
            raise AssertionError(self.format())

    def to_dict(self) -> dict[str, Any]:
        return jsoncodec.to_jsonable(
            {
                "ok": self.ok,
                "workflow": self.workflow,
                "recording_run": self.recording_run,
                "calls_matched": self.calls_matched,
                "calls_recorded": self.calls_recorded,
                "status": self.status,
                "recorded_status": self.recorded_status,
                "mismatches": [dataclasses.asdict(m) for m in self.mismatches],
            }
        )


def _normal(value: Any) -> Any:
    """The value as the store keeps it (tagged JSON and back), so both sides compare alike."""
    return jsoncodec.loads(jsoncodec.dumps(value))


def _shown(value: Any) -> str:
    return value_text(value)


def diff_values(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Readable lines ``path: expected X, got Y`` for every place two values differ."""
    where = path or "(arguments)"
    if isinstance(expected, dict) and isinstance(actual, dict):
        lines: list[str] = []
        for key in sorted(set(expected) | set(actual), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in actual:
                lines.append(f"{sub}: expected {_shown(expected[key])}, now missing")
            elif key not in expected:
                lines.append(f"{sub}: not in the recording, now {_shown(actual[key])}")
            else:
                lines.extend(diff_values(expected[key], actual[key], sub))
        return lines
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [
                f"{where}: expected {len(expected)} element(s) {_shown(expected)}, got {len(actual)} {_shown(actual)}"
            ]
        lines = []
        for index, (old, new) in enumerate(zip(expected, actual, strict=True)):
            lines.extend(diff_values(old, new, f"{path}[{index}]"))
        return lines
    if expected == actual and type(expected) is type(actual):
        return []
    return [f"{where}: expected {_shown(expected)}, got {_shown(actual)}"]


class _MaskedSecrets:
    """Every secret reads as the mask, as it appears in the recording."""

    def get(self, name: str) -> str | None:
        return MASK

    def names(self) -> list[str]:
        return []


def _original_message(call: RecordedCall) -> str:
    """The skill's own message, without the ``step X (skill):`` prefix the engine added."""
    message = call.error or f"recorded {call.status}"
    message = re.sub(
        rf"^step {re.escape(call.label)} \({re.escape(call.skill)}\)( failed after \d+ attempt\(s\))?: ",
        "",
        message,
    )
    return re.sub(r"^(TechnicalError|BusinessError|SkillTimeout|ResourceUnavailable): ", "", message)


class _Player:
    """Answers the workflow's skill calls from the recording, in order."""

    def __init__(self, recording: Recording) -> None:
        self.overrides = recording.overrides
        self.expected = [call for call in recording.calls if call.called]
        self.position = 0
        self.mismatches: list[Mismatch] = []
        self.last: tuple[str, int | None, RecordedCall] | None = None

    def answer(self, spec: SkillSpec, ctx: SkillContext, params: BaseModel) -> Any:
        element = (ctx.step_id, ctx.item_index)
        label = ctx.step_id if ctx.item_index is None else f"{ctx.step_id}[{ctx.item_index}]"
        if self.last is not None and ctx.attempt > 1 and element == self.last[:2]:
            return self._outcome(self.last[2])  # the engine retries a recorded failure: same answer
        actual = _normal(self._corrected(spec, ctx.step_id, params))
        if self.position >= len(self.expected):
            self._stop(
                Mismatch(
                    "extra_call",
                    f"step {label} calls {spec.id}, but the recording has no more calls "
                    f"(it made {len(self.expected)})",
                    step=label,
                    actual=actual,
                )
            )
        call = self.expected[self.position]
        number = self.position + 1
        if (call.step_id, call.item_index, call.skill) != (ctx.step_id, ctx.item_index, spec.id):
            self._stop(
                Mismatch(
                    "order",
                    f"call #{number}: the recording has step {call.label} ({call.skill}) next, "
                    f"the workflow now calls step {label} ({spec.id})",
                    step=label,
                    expected={"step": call.label, "skill": call.skill},
                    actual={"step": label, "skill": spec.id},
                )
            )
        differences = diff_values(_normal(call.params), actual)
        if differences:
            self._stop(
                Mismatch(
                    "arguments",
                    f"call #{number}: step {label} ({spec.id}) is called with other arguments than recorded",
                    step=label,
                    expected=call.params,
                    actual=actual,
                    differences=differences,
                )
            )
        self.position += 1
        self.last = (ctx.step_id, ctx.item_index, call)
        return self._outcome(call)

    def _corrected(self, spec: SkillSpec, step_id: str, params: BaseModel) -> dict[str, Any]:
        """The arguments with the corrections a person made to this step in the recorded run,
        applied as the engine applied them (the replay's own run has none)."""
        corrections = self.overrides.get(step_id)
        if not corrections:
            return params.model_dump()
        try:
            return spec.params_model.model_validate({**params.model_dump(), **corrections}).model_dump()
        except ValidationError:
            return {**params.model_dump(), **corrections}

    def _stop(self, mismatch: Mismatch) -> None:
        self.mismatches.append(mismatch)
        raise _Diverged(mismatch.message)

    @staticmethod
    def _outcome(call: RecordedCall) -> Any:
        if call.status == "done":
            return call.output
        message = _original_message(call)
        if call.error_kind in TECHNICAL_KINDS:
            raise TechnicalError(message, applied=False)
        raise BusinessError(message, code=call.error_kind or "business_error")

    def bind(self, spec: SkillSpec) -> SkillSpec:
        async def play(ctx: SkillContext, params: BaseModel) -> Any:
            return self.answer(spec, ctx, params)

        async def nothing_found(ctx: SkillContext, params: BaseModel) -> None:
            return None

        play.__qualname__ = f"replay[{spec.id}]"
        verify = nothing_found if spec.verify is not None else None
        return dataclasses.replace(
            spec, func=play, verify=verify, inline=False, source=f"replay of {spec.source}"
        )


def replay_workflow(
    workflow: str | Path | LoadedWorkflow,
    recording: Recording | str | Path,
    *,
    registry: SkillRegistry | None = None,
    env: Mapping[str, str] | None = None,
    platforms: Mapping[str, Mapping[str, Any]] | None = None,
) -> ReplayReport:
    """Replay ``workflow`` against ``recording`` (see the module docstring)."""
    if not isinstance(recording, Recording):
        recording = Recording.load(recording)
    base = registry if registry is not None else installed_registry()
    loaded = load_checked(workflow, base)
    player = _Player(recording)
    replaying = copy_registry(base)
    for spec in base:
        replaying.skills[spec.id] = player.bind(spec)
    with tempfile.TemporaryDirectory(prefix="rpa-replay-") as folder:
        store = open_store(sqlite_url_for(Path(folder) / "replay.db"), synchronous="OFF")
        try:
            status, outputs = asyncio.run(
                _run(loaded, recording, replaying, store, Path(folder), env, platforms, player)
            )
        finally:
            store.close()
    if status is not None and not player.mismatches:
        _compare_end(player, recording, status, outputs)
    return ReplayReport(
        workflow=loaded.spec.name,
        recording_run=recording.run_id,
        calls_matched=player.position,
        calls_recorded=len(player.expected),
        status=status,
        recorded_status=recording.status,
        mismatches=player.mismatches,
    )


async def _run(
    loaded: LoadedWorkflow,
    recording: Recording,
    registry: SkillRegistry,
    store: Any,
    folder: Path,
    env: Mapping[str, str] | None,
    platforms: Mapping[str, Mapping[str, Any]] | None,
    player: _Player,
) -> tuple[str | None, dict[str, Any] | None]:
    executor = RunExecutor(
        store,
        registry,
        config=EngineConfig(work_dir=folder, env=dict(env or {}), platforms=dict(platforms or {})),
        services=ServicePool({}),
        secrets=_MaskedSecrets(),
        clock=FakeClock(),
        owner="replay",
    )
    try:
        record = executor.create_run(loaded, recording.inputs, run_id=recording.run_id)
    except ConfigError as exc:
        player.mismatches.append(
            Mismatch("inputs", f"the recorded inputs do not fit the workflow now: {exc}")
        )
        return None, None
    try:
        outcome = await executor.execute(record.id)
    except _Diverged:
        return None, None
    return outcome.status.value, outcome.outputs


def _compare_end(player: _Player, recording: Recording, status: str, outputs: dict[str, Any] | None) -> None:
    left = player.expected[player.position :]
    if left:
        shown = ", ".join(f"{c.label} ({c.skill})" for c in left[:10]) + (" ..." if len(left) > 10 else "")
        player.mismatches.append(
            Mismatch(
                "missing_calls",
                f"the workflow no longer makes {len(left)} recorded call(s): {shown}",
                step=left[0].label,
            )
        )
    if status != recording.status:
        player.mismatches.append(
            Mismatch(
                "status",
                f"the run ended {status}; the recorded run ended {recording.status}",
                expected=recording.status,
                actual=status,
            )
        )
    elif status == "done":
        differences = diff_values(_normal(recording.outputs or {}), _normal(outputs or {}), "outputs")
        if differences:
            player.mismatches.append(
                Mismatch(
                    "outputs",
                    "the workflow's outputs differ from the recorded run's",
                    expected=recording.outputs,
                    actual=outputs,
                    differences=differences,
                )
            )
