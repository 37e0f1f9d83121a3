"""SQLModel table definitions (the schema). Queries live in the store modules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _ts(index: bool = False, nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), index=index, nullable=nullable)


class WorkflowSourceRow(SQLModel, table=True):
    __tablename__ = "workflow_sources"

    digest: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    file: str = Field(sa_column=Column(Text, nullable=False))
    source: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_ts(nullable=False))


class RunRow(SQLModel, table=True):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_status_created", "status", "created_at"),
        Index("ix_runs_workflow_created", "workflow", "created_at"),
        Index("ix_runs_status_lease", "status", "lease_until"),
        Index("ix_runs_created", "created_at"),  # the dashboard's newest runs first
    )

    id: str = Field(primary_key=True, max_length=40)
    workflow: str = Field(max_length=200)
    workflow_digest: str = Field(max_length=64)
    status: str = Field(max_length=20)
    inputs_json: str = Field(sa_column=Column(Text, nullable=False))
    outputs_json: str | None = Field(default=None, sa_column=Column(Text))
    overrides_json: str | None = Field(default=None, sa_column=Column(Text))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    reason_code: str | None = Field(default=None, max_length=100)
    parked_step: str | None = Field(default=None, max_length=200)
    owner: str | None = Field(default=None, max_length=200)
    epoch: int = 0
    lease_until: datetime | None = Field(default=None, sa_column=_ts())
    work_item_id: str | None = Field(default=None, max_length=40, index=True)
    executions: int = 0
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=_ts())
    finished_at: datetime | None = Field(default=None, sa_column=_ts(index=True))
    updated_at: datetime = Field(sa_column=_ts(nullable=False))


class StepRow(SQLModel, table=True):
    __tablename__ = "step_states"
    __table_args__ = (
        UniqueConstraint("run_id", "step_id", "item_index", name="uq_step_states_run_step_item"),
        Index("ix_step_states_finished", "finished_at"),
        Index("ix_step_states_skill_status", "skill", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(max_length=40)
    step_id: str = Field(max_length=200)
    item_index: int = -1
    status: str = Field(max_length=20)
    skill: str = Field(max_length=200)
    effect: str = Field(max_length=20)
    attempts: int = 0
    idempotency_key: str | None = Field(default=None, sa_column=Column(Text))
    params_json: str | None = Field(default=None, sa_column=Column(Text))
    output_json: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))
    error_kind: str | None = Field(default=None, max_length=100)
    adopted: bool = False
    started_at: datetime | None = Field(default=None, sa_column=_ts())
    finished_at: datetime | None = Field(default=None, sa_column=_ts())
    duration_ms: float | None = None


class AuditRow(SQLModel, table=True):
    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("chain", "seq", name="uq_audit_chain_seq"),
        Index("ix_audit_run", "run_id"),
        Index("ix_audit_at", "at"),
        Index("ix_audit_kind_at", "kind", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=200)
    seq: int
    at: datetime = Field(sa_column=_ts(nullable=False))
    run_id: str | None = Field(default=None, max_length=40)
    step_id: str | None = Field(default=None, max_length=200)
    kind: str = Field(max_length=60)
    actor: str = Field(max_length=200)
    payload_json: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
