"""SQLModel table definitions (the schema). Queries live in the store modules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Dialect, Index, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that writes every aware value in UTC.

    SQLite has no time zones: SQLAlchemy stores the wall-clock time and drops the offset, so
    18:00+08:00 would read back as 18:00 UTC. Every time the store writes is UTC (naive values
    are taken as UTC, as they are read back); a time with another offset — a deadline given
    as Shanghai time through the API — is converted first. PostgreSQL keeps the instant either way.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value


def timestamp_column(index: bool = False, nullable: bool = True) -> Column:  # type: ignore[type-arg]
    """A timestamp column of the store's tables (UTC; see ``UTCDateTime``)."""
    return Column(UTCDateTime(), index=index, nullable=nullable)


class WorkflowSourceRow(SQLModel, table=True):
    __tablename__ = "workflow_sources"

    digest: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    file: str = Field(sa_column=Column(Text, nullable=False))
    source: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=timestamp_column(nullable=False))


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
    lease_until: datetime | None = Field(default=None, sa_column=timestamp_column())
    work_item_id: str | None = Field(default=None, max_length=40, index=True)
    executions: int = 0
    created_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column(index=True))
    updated_at: datetime = Field(sa_column=timestamp_column(nullable=False))


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
    started_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column())
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
    at: datetime = Field(sa_column=timestamp_column(nullable=False))
    run_id: str | None = Field(default=None, max_length=40)
    step_id: str | None = Field(default=None, max_length=200)
    kind: str = Field(max_length=60)
    actor: str = Field(max_length=200)
    payload_json: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
