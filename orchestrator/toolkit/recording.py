"""Recordings of finished runs: every skill call's arguments and answer, in the order made.

A recording is read from the store's step rows (one per step, or per ``foreach`` element, in
the order they were first written) and the audit trail's retry events. The store only holds
masked values, so a recording never contains a secret. The file is JSON with exact types
tagged as the store writes them (``{"$decimal": "12345.60"}``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator import jsoncodec
from orchestrator.abc import RunStore
from orchestrator.enums import RunStatus, StepStatus
from orchestrator.errors import RpaError
from orchestrator.models import SINGLE, StepRecord

FORMAT = "rpa-recording/1"


class RecordingError(RpaError):
    """A run cannot be recorded, or a recording file cannot be read."""


@dataclass(frozen=True)
class RecordedCall:
    """One step element of the recorded run and what its skill answered."""

    step_id: str
    item_index: int | None
    skill: str
    effect: str
    status: str
    called: bool  # False when the skill was never called (skipped, or stopped before the call)
    attempts: int
    params: Any
    output: Any
    error: str | None = None
    error_kind: str | None = None
    adopted: bool = False
    idempotency_key: str | None = None
    retries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.step_id if self.item_index is None else f"{self.step_id}[{self.item_index}]"


@dataclass
class Recording:
    """A finished run: its inputs, outcome, workflow source and every skill call."""

    run_id: str
    workflow: str
    workflow_digest: str
    workflow_file: str
    workflow_source: str
    status: str
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None
    reason: str | None
    reason_code: str | None
    calls: list[RecordedCall]
    recorded_at: str = ""
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # a person's corrections by step

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["calls"] = [asdict(call) for call in self.calls]
        return {"format": FORMAT, **jsoncodec.to_tagged(data)}

    def save(self, path: str | Path) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        target.write_text(text, encoding="utf-8")

    @classmethod
    def from_dict(cls, data: Any, source: str = "recording") -> Recording:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise RecordingError(f"{source}: expected a recording of format {FORMAT!r}, found {found!r}")
        try:
            calls = [RecordedCall(**call) for call in data["calls"]]
            optional = ("calls", "recorded_at", "overrides")
            fields = {k: data[k] for k in cls.__dataclass_fields__ if k not in optional}
            return cls(
                **fields,
                calls=calls,
                recorded_at=data.get("recorded_at", ""),
                overrides=dict(data.get("overrides") or {}),
            )
        except (KeyError, TypeError) as exc:
            raise RecordingError(f"{source}: malformed recording ({type(exc).__name__}: {exc})") from None

    @classmethod
    def load(cls, path: str | Path) -> Recording:
        source = Path(path)
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise RecordingError(f"cannot read recording {source}: {exc.strerror or exc}") from None
        try:
            data = jsoncodec.loads(text)
        except json.JSONDecodeError as exc:
            raise RecordingError(f"{source}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
        return cls.from_dict(data, str(source))


def _called(row: StepRecord) -> bool:
    return row.status is not StepStatus.skipped and row.params is not None


def _retries(store: RunStore, run_id: str) -> dict[tuple[str, int], list[dict[str, Any]]]:
    found: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for event in store.audit_events(run_id=run_id, kind="step_retrying", limit=100_000):
        index = event.payload.get("index", SINGLE)
        found.setdefault((event.step_id or "", index), []).append(
            {"attempt": event.payload.get("attempt"), "error": event.payload.get("error")}
        )
    return found


def record_run(store: RunStore, run_id: str) -> Recording:
    """The recording of a finished run (done, failed, parked or rejected)."""
    run = store.get_run(run_id)
    if run.status in (RunStatus.pending, RunStatus.running):
        raise RecordingError(
            f"run {run_id} is {run.status.value}: only a finished run (done, failed, needs_review, "
            "rejected) can be recorded"
        )
    stored = store.get_workflow_source(run.workflow_digest)
    file, source = stored if stored is not None else ("", "")
    retries = _retries(store, run_id)
    calls = [
        RecordedCall(
            step_id=row.step_id,
            item_index=None if row.item_index == SINGLE else row.item_index,
            skill=row.skill,
            effect=row.effect,
            status=row.status.value,
            called=_called(row),
            attempts=row.attempts,
            params=row.params,
            output=row.output,
            error=row.error,
            error_kind=row.error_kind,
            adopted=row.adopted,
            idempotency_key=row.idempotency_key,
            retries=retries.get((row.step_id, row.item_index), []),
        )
        for row in store.get_steps(run_id)
    ]
    return Recording(
        run_id=run.id,
        workflow=run.workflow,
        workflow_digest=run.workflow_digest,
        workflow_file=file,
        workflow_source=source,
        status=run.status.value,
        inputs=dict(run.inputs),
        outputs=run.outputs,
        reason=run.reason,
        reason_code=run.reason_code,
        calls=calls,
        recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        overrides={step: dict(values) for step, values in (getattr(run, "overrides", None) or {}).items()},
    )
