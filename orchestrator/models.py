"""Plain records the store hands to the engine, the CLI and the API (no ORM objects leak out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestrator.enums import RunStatus, StepStatus

SINGLE = -1
"""``item_index`` of a step without ``foreach``."""


@dataclass(frozen=True)
class Fence:
    """Proof of ownership of a run: every write checks the run's epoch still equals ``epoch``."""

    run_id: str
    owner: str
    epoch: int


@dataclass
class RunRecord:
    id: str
    workflow: str
    workflow_digest: str
    status: RunStatus
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None = None
    reason: str | None = None
    reason_code: str | None = None
    parked_step: str | None = None
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    owner: str | None = None
    epoch: int = 0
    lease_until: datetime | None = None
    work_item_id: str | None = None
    executions: int = 0
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class StepRecord:
    run_id: str
    step_id: str
    item_index: int
    status: StepStatus
    skill: str
    effect: str
    attempts: int = 0
    idempotency_key: str | None = None
    params: Any = None
    output: Any = None
    error: str | None = None
    error_kind: str | None = None
    adopted: bool = False
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float | None = None
    # the JSON of params/output when the writer already serialised it (saves a second dumps)
    params_text: str | None = field(default=None, repr=False, compare=False)
    output_text: str | None = field(default=None, repr=False, compare=False)

    @property
    def is_single(self) -> bool:
        return self.item_index == SINGLE


@dataclass
class AuditEvent:
    """One audit event as appended (``chain``/``seq``/hashes are filled by the store)."""

    kind: str
    run_id: str | None = None
    step_id: str | None = None
    actor: str = "engine"
    payload: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    chain: str | None = None
    seq: int | None = None
    prev_hash: str | None = None
    hash: str | None = None


@dataclass(frozen=True)
class AuditProblem:
    chain: str
    seq: int
    reason: str


@dataclass
class AuditReport:
    """Result of checking every audit chain."""

    chains: int
    events: int
    problems: list[AuditProblem]

    @property
    def ok(self) -> bool:
        return not self.problems
