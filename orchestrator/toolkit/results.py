"""What an offline run did, read back from the store, with assertions that explain themselves.

Every failed assertion prints the run's status, its reason and one line per step row, so a
test failure says what happened without a debugger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator import jsoncodec
from orchestrator.enums import RunStatus, StepStatus
from orchestrator.events import EngineEvent
from orchestrator.models import SINGLE, RunRecord, StepRecord
from orchestrator.toolkit.fakes import FakeCall, FakeSkill


def _label(step: StepRecord) -> str:
    return step.step_id if step.item_index == SINGLE else f"{step.step_id}[{step.item_index}]"


def _short(value: Any, limit: int = 120) -> str:
    text = jsoncodec.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _matches(expected: Any, actual: Any) -> bool:
    """``expected`` is contained in ``actual``: mappings by the keys given, other values equal."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and _matches(value, actual[key]) for key, value in expected.items()
        )
    return bool(expected == actual)


@dataclass
class WorkflowRun:
    """The outcome of one offline run: the run row, its step rows, the fakes' calls."""

    run: RunRecord
    steps: list[StepRecord]
    fakes: dict[str, FakeSkill] = field(default_factory=dict)
    retry_delays: list[float] = field(default_factory=list)
    events: list[EngineEvent] = field(default_factory=list)

    # -- reading -------------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.run.id

    @property
    def status(self) -> RunStatus:
        return self.run.status

    @property
    def outputs(self) -> dict[str, Any]:
        """The workflow's outputs (empty unless the run is done)."""
        return dict(self.run.outputs or {})

    @property
    def reason(self) -> str | None:
        """Why the run failed or was parked."""
        return self.run.reason

    @property
    def reason_code(self) -> str | None:
        return self.run.reason_code

    @property
    def manual_reason(self) -> str | None:
        """The reason shown in the manual queue, when the run is parked there."""
        return self.run.reason if self.run.status is RunStatus.needs_review else None

    def step(self, step_id: str, item: int | None = None) -> StepRecord:
        """The row of one step (``item``: the index of a foreach element)."""
        index = SINGLE if item is None else item
        for record in self.steps:
            if record.step_id == step_id and record.item_index == index:
                return record
        label = step_id if item is None else f"{step_id}[{item}]"
        raise AssertionError(f"step {label} has no row (it never started)\n{self.describe()}")

    def items(self, step_id: str) -> list[StepRecord]:
        """The rows of a foreach step's elements, in order."""
        return sorted(
            (r for r in self.steps if r.step_id == step_id and r.item_index != SINGLE),
            key=lambda r: r.item_index,
        )

    def calls(self, skill_id: str) -> list[FakeCall]:
        """The calls a faked skill received, in order."""
        fake = self.fakes.get(skill_id)
        if fake is None:
            faked = ", ".join(sorted(self.fakes)) or "none"
            raise AssertionError(f"{skill_id} was not faked in this run (faked: {faked})")
        return list(fake.calls)

    def describe(self) -> str:
        """The run in a few lines: status, reason, outputs and every step row."""
        lines = [f"run {self.run.id} of {self.run.workflow}: {self.run.status.value}"]
        if self.run.reason:
            lines.append(f"  reason ({self.run.reason_code}): {self.run.reason}")
        if self.run.outputs:
            lines.append(f"  outputs: {_short(self.run.outputs, 300)}")
        for record in self.steps:
            line = (
                f"  {_label(record):<24} {record.status.value:<12} attempts={record.attempts} {record.skill}"
            )
            if record.adopted:
                line += " (adopted)"
            if record.error:
                line += f"  error: {_short(record.error)}"
            lines.append(line)
        return "\n".join(lines)

    # -- asserting -----------------------------------------------------------------------
    def _fail(self, message: str) -> None:
        raise AssertionError(f"{message}\n{self.describe()}")

    def assert_status(
        self,
        status: RunStatus | str,
        *,
        reason: str | None = None,
        code: str | None = None,
        step: str | None = None,
    ) -> WorkflowRun:
        """The run ended in ``status``; ``reason`` must appear in its reason, ``code`` equal its
        reason code, ``step`` name the step it stopped at."""
        wanted = RunStatus(status)
        if self.run.status is not wanted:
            self._fail(f"expected the run to be {wanted.value}, but it is {self.run.status.value}")
        if reason is not None and reason not in (self.run.reason or ""):
            self._fail(f"expected the reason to contain {reason!r}, found {self.run.reason!r}")
        if code is not None and code != self.run.reason_code:
            self._fail(f"expected reason code {code!r}, found {self.run.reason_code!r}")
        if step is not None and step != self.run.parked_step:
            self._fail(f"expected the run to stop at step {step!r}, it stopped at {self.run.parked_step!r}")
        return self

    def assert_done(self, outputs: Mapping[str, Any] | None = None) -> WorkflowRun:
        """The run is done (and its outputs contain ``outputs``)."""
        self.assert_status(RunStatus.done)
        if outputs is not None and not _matches(outputs, self.outputs):
            self._fail(f"expected outputs containing {_short(dict(outputs), 300)}")
        return self

    def assert_parked(
        self, reason: str | None = None, *, code: str | None = None, step: str | None = None
    ) -> WorkflowRun:
        """The run waits in the manual queue (status ``needs_review``)."""
        return self.assert_status(RunStatus.needs_review, reason=reason, code=code, step=step)

    def assert_failed(
        self, reason: str | None = None, *, code: str | None = None, step: str | None = None
    ) -> WorkflowRun:
        return self.assert_status(RunStatus.failed, reason=reason, code=code, step=step)

    def assert_step(
        self,
        step_id: str,
        status: StepStatus | str | None = None,
        *,
        item: int | None = None,
        attempts: int | None = None,
        output: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        error: str | None = None,
        adopted: bool | None = None,
    ) -> StepRecord:
        """Check one step row; ``output``/``params`` are matched on the keys given."""
        record = self.step(step_id, item)
        label = _label(record)
        if status is not None and record.status is not StepStatus(status):
            self._fail(f"expected step {label} to be {StepStatus(status).value}, it is {record.status.value}")
        if attempts is not None and record.attempts != attempts:
            self._fail(f"expected step {label} to take {attempts} attempt(s), it took {record.attempts}")
        if output is not None and not _matches(output, record.output):
            self._fail(
                f"expected step {label} output containing {_short(dict(output))}, found {_short(record.output)}"
            )
        if params is not None and not _matches(params, record.params):
            self._fail(
                f"expected step {label} arguments containing {_short(dict(params))}, found {_short(record.params)}"
            )
        if error is not None and error not in (record.error or ""):
            self._fail(f"expected step {label} error to contain {error!r}, found {record.error!r}")
        if adopted is not None and record.adopted is not adopted:
            self._fail(f"expected step {label} adopted={adopted}, found adopted={record.adopted}")
        return record

    def assert_not_run(self, step_id: str) -> WorkflowRun:
        """The step never called its skill (no row, or skipped)."""
        rows = [r for r in self.steps if r.step_id == step_id]
        if any(r.status is not StepStatus.skipped for r in rows):
            self._fail(f"expected step {step_id} not to run")
        return self
