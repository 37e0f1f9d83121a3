"""Tables of the work queue (SQLModel). The claim query has a partial index of its own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ColumnElement, Index, Text, UniqueConstraint, and_, text
from sqlmodel import Field, SQLModel

from orchestrator.queue.models import ItemStatus
from orchestrator.store.tables import timestamp_column

#: the statuses that set finished_at
FINAL_STATUSES = frozenset(status.value for status in ItemStatus if status.is_final)


class BotRow(SQLModel, table=True):
    """A published bot: its spec and the digest of its workflow's source."""

    __tablename__ = "bots"

    name: str = Field(primary_key=True, max_length=200)
    spec_json: str = Field(sa_column=Column(Text, nullable=False))
    workflow_digest: str = Field(max_length=64)
    source_file: str = Field(sa_column=Column(Text, nullable=False))
    enabled: bool = True
    published_at: datetime = Field(sa_column=timestamp_column(nullable=False))


class WorkItemRow(SQLModel, table=True):
    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("bot", "reference", name="uq_work_items_bot_reference"),
        # the claim query, in its order — as UiPath Orchestrator's queues: items with a deadline
        # first, by priority and then the earliest deadline; then the items without one, by
        # priority and then first in, first out (partial: stays small with 100k done items)
        Index(
            "ix_work_items_claim_order",
            text("(deadline IS NULL)"),
            text("priority DESC"),
            "deadline",
            "created_at",
            postgresql_where=text("status = 'new'"),
            sqlite_where=text("status = 'new'"),
        ),
        Index(
            "ix_work_items_lease",
            "lease_until",
            postgresql_where=text("status = 'in_progress'"),
            sqlite_where=text("status = 'in_progress'"),
        ),
        Index("ix_work_items_bot_status", "bot", "status"),
        # The two status-led indexes below are partial on finished_at so that the claim query
        # (status = 'new', which implies neither predicate) can only use ix_work_items_claim_order.
        # With a plain (status, …) index beside it, PostgreSQL planned the claim on a table
        # without statistics yet as "read every new item by status, then sort", once per claim.
        #
        # the dashboard's throughput and FTE counts: a covering range scan by status and finish time
        Index(
            "ix_work_items_finished",
            "status",
            "finished_at",
            "bot",
            "straight_through",
            postgresql_where=text("finished_at IS NOT NULL"),
            sqlite_where=text("finished_at IS NOT NULL"),
        ),
        # open items (new, in progress, waiting for a person) by status: backlogs and listings;
        # queries reach it through ``status_is`` (which adds the finished_at IS NULL it needs)
        Index(
            "ix_work_items_open",
            "status",
            "created_at",
            postgresql_where=text("finished_at IS NULL"),
            sqlite_where=text("finished_at IS NULL"),
        ),
        Index("ix_work_items_created", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    bot: str = Field(max_length=200)
    reference: str = Field(max_length=400)
    status: str = Field(max_length=20)
    priority: int = 0
    deadline: datetime | None = Field(default=None, sa_column=timestamp_column())
    not_before: datetime | None = Field(default=None, sa_column=timestamp_column())
    inputs_json: str = Field(sa_column=Column(Text, nullable=False))
    source: str = Field(default="api", max_length=200)
    source_path: str | None = Field(default=None, sa_column=Column(Text))
    created_by: str | None = Field(default=None, max_length=200)
    attempts: int = 0
    crashes: int = 0
    token: int = 0
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(default=None, sa_column=timestamp_column())
    run_id: str | None = Field(default=None, max_length=40, index=True)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    reason_code: str | None = Field(default=None, max_length=100)
    parked_step: str | None = Field(default=None, max_length=200)
    straight_through: bool | None = None
    touched_by_person: bool = False
    created_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    updated_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    sla_due_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    # where a folder item's file went when the item ended (processed/ or failed/, renamed there
    # when a file of that name was already in it), so a retry can put that very file back
    settled_path: str | None = Field(default=None, sa_column=Column(Text))


#: indexes of earlier versions, dropped when a store is opened (replaced by the partial ones above;
#: ``ix_work_items_claim`` ordered the claim by priority and age only, deadlines aside)
RETIRED_INDEXES = ("ix_work_items_status_finished", "ix_work_items_finished_cover", "ix_work_items_claim")


def status_is(*statuses: str) -> ColumnElement[bool]:
    """``status IN statuses``, plus ``finished_at IS NULL`` when every status is an open one.

    Open items never have a finish time, so the extra condition changes no answer; it is what
    lets the partial index ``ix_work_items_open`` serve the query.
    """
    column = WorkItemRow.__table__.c  # type: ignore[attr-defined]
    clause = column.status == statuses[0] if len(statuses) == 1 else column.status.in_(statuses)
    if not set(statuses) & FINAL_STATUSES:
        clause = and_(clause, column.finished_at.is_(None))
    return clause


class DuplicateRow(SQLModel, table=True):
    """A work item that was offered again with a business reference already in the queue."""

    __tablename__ = "work_item_duplicates"
    __table_args__ = (Index("ix_duplicates_bot_at", "bot", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    bot: str = Field(max_length=200)
    reference: str = Field(max_length=400)
    item_id: str = Field(max_length=40)
    source: str = Field(max_length=200)
    source_path: str | None = Field(default=None, sa_column=Column(Text))
    at: datetime = Field(sa_column=timestamp_column(nullable=False))


class SlotRow(SQLModel, table=True):
    """One unit of a capacity: a bot's concurrency (``bot:<name>``) or a resource (``res:<name>``).

    Holding a slot is a lease with a fencing token: each acquisition increments ``token``, and
    a holder proves it still owns the slot by presenting the token it got.
    """

    __tablename__ = "slots"
    __table_args__ = (Index("ix_slots_holder", "holder_item"),)

    capacity: str = Field(primary_key=True, max_length=250)
    slot: int = Field(primary_key=True)
    holder_item: str | None = Field(default=None, max_length=40)
    holder_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(default=None, sa_column=timestamp_column())
    token: int = 0


class TriggerStateRow(SQLModel, table=True):
    """When each schedule trigger last fired (to coalesce fires missed during downtime)."""

    __tablename__ = "trigger_state"

    trigger_id: str = Field(primary_key=True, max_length=300)
    last_fire_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    fires: int = 0


class RunnerRow(SQLModel, table=True):
    """A runner process and its last heartbeat."""

    __tablename__ = "runners"

    id: str = Field(primary_key=True, max_length=200)
    host: str = Field(max_length=200)
    pid: int
    capacity: int = 1
    busy: int = 0
    started_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    heartbeat_at: datetime = Field(sa_column=timestamp_column(nullable=False, index=True))
    stopped_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    version: str = Field(default="", max_length=40)
