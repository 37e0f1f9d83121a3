"""Engine events (past tense), for live views, metrics and hooks. Not the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.enums import RunStatus, StepStatus


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    workflow: str
    step_ids: tuple[str, ...]
    resumed: bool


@dataclass(frozen=True)
class StepStarted:
    run_id: str
    step_id: str
    item_index: int
    attempt: int


@dataclass(frozen=True)
class StepFinished:
    run_id: str
    step_id: str
    item_index: int
    status: StepStatus
    attempts: int
    duration_ms: float
    error: str | None = None
    adopted: bool = False


@dataclass(frozen=True)
class RunFinished:
    run_id: str
    status: RunStatus
    reason: str | None


EngineEvent = RunStarted | StepStarted | StepFinished | RunFinished
