"""Plain records of the work queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.models import RunRecord


class ItemStatus(StrEnum):
    """Lifecycle of a work item: new → in_progress → done | needs_review | failed | rejected."""

    new = "new"
    in_progress = "in_progress"
    done = "done"
    needs_review = "needs_review"
    failed = "failed"
    rejected = "rejected"

    @property
    def is_final(self) -> bool:
        return self in {ItemStatus.done, ItemStatus.failed, ItemStatus.rejected}


@dataclass
class WorkItem:
    id: str
    bot: str
    reference: str
    status: ItemStatus
    inputs: dict[str, Any]
    priority: int = 0
    deadline: datetime | None = None
    not_before: datetime | None = None
    source: str = "api"
    source_path: str | None = None
    created_by: str | None = None
    attempts: int = 0
    crashes: int = 0
    token: int = 0
    lease_owner: str | None = None
    lease_until: datetime | None = None
    run_id: str | None = None
    reason: str | None = None
    reason_code: str | None = None
    parked_step: str | None = None
    straight_through: bool | None = None
    touched_by_person: bool = False
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    sla_due_at: datetime | None = None
    settled_path: str | None = None


@dataclass(frozen=True)
class Offer:
    """One item offered to a bot's queue (``SQLWorkQueue.enqueue`` / ``enqueue_many``)."""

    reference: str
    inputs: dict[str, Any]
    priority: int | None = None
    deadline: datetime | None = None
    not_before: datetime | None = None
    source: str = "api"
    source_path: str | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class EnqueueResult:
    """The item the reference maps to, and whether this call created it."""

    item: WorkItem
    created: bool


@dataclass(frozen=True)
class Claim:
    """A claimed item with the fencing tokens of everything held for it."""

    item: WorkItem
    owner: str
    token: int
    slots: tuple[tuple[str, int, int], ...] = field(default_factory=tuple)  # (capacity, slot, token)
    run: RunRecord | None = None  # the run created (acquired) in the claiming transaction


@dataclass(frozen=True)
class Duplicate:
    bot: str
    reference: str
    item_id: str
    source: str
    source_path: str | None
    at: datetime


@dataclass(frozen=True)
class PublishedBot:
    name: str
    spec: dict[str, Any]
    workflow_digest: str
    source_file: str
    enabled: bool
