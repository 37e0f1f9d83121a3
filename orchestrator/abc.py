"""Contracts between the engine and its backends. Each docstring states the whole contract."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from orchestrator.enums import RunStatus, StepStatus
from orchestrator.models import AuditEvent, AuditReport, Fence, RunRecord, StepRecord


class RunStore(ABC):
    """Durable state of runs, their steps and the audit trail.

    Every method that changes a run takes a ``Fence``: the write happens only while the run's
    ``epoch`` still equals ``fence.epoch`` (checked in the same transaction); otherwise it
    raises ``LeaseLostError`` and nothing is written. A runner that lost its lease therefore
    cannot checkpoint anything.

    Audit events written together with a state change are committed in the same transaction,
    so a checkpoint and its audit event exist together or not at all. Values handed to the
    store are already masked (secrets never reach it).
    """

    # -- workflow definitions --------------------------------------------------------------
    @abstractmethod
    def save_workflow_source(self, digest: str, name: str, file: str, source: str) -> None:
        """Keep a workflow's exact source under its SHA-256 (idempotent)."""

    @abstractmethod
    def get_workflow_source(self, digest: str) -> tuple[str, str] | None:
        """``(file, source)`` of a stored workflow, or ``None``."""

    # -- runs ------------------------------------------------------------------------------
    @abstractmethod
    def create_run(
        self,
        run_id: str,
        workflow: str,
        digest: str,
        inputs: dict[str, Any],
        work_item_id: str | None = None,
        *,
        owner: str | None = None,
        lease_until: datetime | None = None,
        also: Any = None,
    ) -> RunRecord:
        """Insert a run and append a ``run_created`` audit event (``also(tx)``, given the
        transaction's ``StoreTx``, runs in the same transaction).

        Without ``owner`` the run is ``pending``; with one it is created already acquired by
        that owner (status ``running``, epoch 1, the lease until ``lease_until``), which saves
        a runner the separate acquisition.
        """

    @abstractmethod
    def get_run(self, run_id: str) -> RunRecord:
        """The run, or ``RunNotFound``."""

    @abstractmethod
    def list_runs(
        self, status: RunStatus | None = None, workflow: str | None = None, limit: int = 50
    ) -> list[RunRecord]:
        """Newest first, optionally filtered."""

    @abstractmethod
    def acquire_run(self, run_id: str, owner: str, lease_until: datetime, *, force: bool = False) -> Fence:
        """Take ownership of a run: bump its epoch, set owner and lease, status ``running``.

        Refused (``LeaseLostError``) when another owner holds an unexpired lease, unless
        ``force``. Terminal runs cannot be acquired (``RpaError``).
        """

    @abstractmethod
    def extend_lease(self, fence: Fence, lease_until: datetime) -> None:
        """Push the lease forward; ``LeaseLostError`` if the fence is stale."""

    @abstractmethod
    def release_run(self, fence: Fence) -> None:
        """Give the run up without changing its status (graceful shutdown)."""

    @abstractmethod
    def finish_run(
        self,
        fence: Fence,
        status: RunStatus,
        *,
        outputs: dict[str, Any] | None = None,
        reason: str | None = None,
        reason_code: str | None = None,
        parked_step: str | None = None,
        audit: AuditEvent | None = None,
        steps: Sequence[StepRecord] = (),
        also: Any = None,
        step_events: Sequence[AuditEvent] = (),
    ) -> None:
        """Set a final (or parked) status and clear the lease, with its audit event and the
        step rows that explain it, all in one transaction. ``step_events`` are the audit events
        of those step rows (written before ``audit``). ``also(tx)`` (a ``StoreTx``)
        runs inside that transaction (a runner records its work item's outcome there)."""

    @abstractmethod
    def find_interrupted_runs(self, now: datetime) -> list[RunRecord]:
        """Runs in ``running``/``pending`` whose lease expired (or that never had one)."""

    # -- steps -----------------------------------------------------------------------------
    @abstractmethod
    def get_steps(self, run_id: str) -> list[StepRecord]:
        """All step rows of a run, in the order they were first written."""

    @abstractmethod
    def save_step(self, fence: Fence, step: StepRecord, audit: AuditEvent | None = None) -> None:
        """Insert or replace the row of ``(run_id, step_id, item_index)`` (and its audit event)."""

    @abstractmethod
    def save_steps(self, fence: Fence, steps: Sequence[StepRecord], audit: Sequence[AuditEvent] = ()) -> None:
        """Several rows in one transaction."""

    # -- audit -----------------------------------------------------------------------------
    @abstractmethod
    def append_audit(self, events: Sequence[AuditEvent]) -> None:
        """Append events (not tied to a run state change) to this writer's chain."""

    @abstractmethod
    def audit_events(
        self, run_id: str | None = None, kind: str | None = None, limit: int = 1000
    ) -> list[AuditEvent]:
        """Events in time order, optionally filtered."""

    @abstractmethod
    def verify_audit(self) -> AuditReport:
        """Recompute every chain: each event must hold the hash of its predecessor in its
        chain and of its own content, and sequence numbers must have no gap."""

    @abstractmethod
    def step_status_counts(self, run_id: str) -> dict[StepStatus, int]:
        """How many step rows of the run are in each status."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
