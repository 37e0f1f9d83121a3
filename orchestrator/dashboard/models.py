"""The dashboard's JSON answers (``/api/dashboard/...``): what each page shows, typed for OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class BotOverview(BaseModel):
    bot: str = Field(description="Bot name ('all' for the total).")
    enabled: bool = Field(description="Whether the bot's triggers fire.")
    done: int = Field(description="Items done in the window.")
    failed: int = Field(description="Items failed in the window.")
    rejected: int = Field(description="Items rejected by a person in the window.")
    straight_through: int = Field(description="Items done in the window without a person.")
    needs_review: int = Field(description="Items waiting for a person now.")
    queued: int = Field(description="Items waiting for a runner now (queue depth).")
    in_progress: int = Field(description="Items being worked on now (runs in flight).")
    oldest_waiting_at: datetime | None = Field(description="Enqueue time of the oldest queued item.")
    oldest_waiting_seconds: float | None = Field(description="Age of the oldest queued item.")
    sla_breached: int = Field(description="Open items past their SLA.")
    sla_at_risk: int = Field(description="Open items whose SLA is due soon.")
    success_rate: float | None = Field(description="done ÷ (done + failed + rejected); null without items.")
    straight_through_rate: float | None = Field(description="straight_through ÷ done; null without items.")
    done_today: int = Field(description="Items done since midnight (dashboard time zone).")
    done_month: int = Field(description="Items done since the first of the month.")
    minutes_saved_per_item: float = Field(description="From the bot file (0 for the total).")
    fte_hours_today: float = Field(description="done_today × minutes_saved_per_item ÷ 60.")
    fte_hours_month: float = Field(description="done_month × minutes_saved_per_item ÷ 60.")
    hourly_done: list[int] = Field(description="Items done per hour, oldest hour first (see hour_starts).")


class RunnerSummary(BaseModel):
    up: int = Field(description="Runners with a recent heartbeat.")
    registered: int = Field(description="Runner rows in the store (including stopped ones).")
    capacity: int = Field(description="Items the live runners can work on at once.")
    busy: int = Field(description="Items the live runners are working on.")
    utilisation: float | None = Field(description="busy ÷ capacity; null without live runners.")


class Overview(BaseModel):
    generated_at: datetime = Field(description="When these figures were read (UTC).")
    timezone: str = Field(description="Time zone of 'today' and 'this month'.")
    window_hours: float = Field(description="Window of the done/failed counts and the rates.")
    window_start: datetime
    today_start: datetime
    month_start: datetime
    hour_starts: list[datetime] = Field(description="Start of each hour of hourly_done (UTC).")
    bots: list[BotOverview]
    total: BotOverview
    runs_in_flight: int = Field(description="Runs executing now.")
    runs_pending: int = Field(description="Runs created or sent back, not started yet.")
    runs_waiting_for_person: int = Field(description="Runs parked in the manual queue.")
    runners: RunnerSummary
    formulas: dict[str, str] = Field(description="How each derived figure is computed.")


class ItemView(BaseModel):
    id: str
    bot: str
    reference: str
    status: str
    priority: int
    attempts: int
    crashes: int
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    sla_due_at: datetime | None
    run_id: str | None
    reason: str | None
    reason_code: str | None
    parked_step: str | None
    straight_through: bool | None
    touched_by_person: bool


class ItemPage(BaseModel):
    items: list[ItemView]
    limit: int
    offset: int
    has_more: bool


class RunView(BaseModel):
    id: str
    workflow: str
    status: str
    bot: str | None = Field(description="Bot of the run's work item, if it has one.")
    reference: str | None = Field(description="Business reference of the run's work item.")
    work_item_id: str | None
    executions: int = Field(description="How many times a runner picked the run up.")
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    reason: str | None
    reason_code: str | None
    parked_step: str | None


class RunPage(BaseModel):
    runs: list[RunView]
    limit: int
    offset: int
    has_more: bool


class StepView(BaseModel):
    step_id: str
    item_index: int
    label: str = Field(description="step id, with [index] for foreach elements.")
    skill: str
    effect: str
    status: str
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: float | None
    offset_ms: float | None = Field(description="Start relative to the run's first step (timeline).")
    error: str | None
    error_kind: str | None
    adopted: bool = Field(description="The result was found on the platform by verify, not redone.")
    params: Any = Field(description="Arguments as stored (secrets masked).")
    output: Any = Field(description="Result as stored (secrets masked).")


class EvidenceView(BaseModel):
    file: str = Field(description="File name in the evidence folder.")
    name: str = Field(description="Name the skill gave it.")
    step_id: str | None
    sha256: str | None = Field(description="Content hash recorded in the audit trail, when recorded.")
    verified: bool = Field(description="The file's content matches the recorded hash.")
    media_type: str
    size: int
    url: str


class AuditView(BaseModel):
    id: int
    at: datetime | None
    kind: str
    actor: str
    run_id: str | None
    step_id: str | None
    payload: Any
    chain: str
    seq: int


class FormField(BaseModel):
    name: str
    description: str
    kind: str = Field(description="text, number, checkbox or json")
    value: str = Field(description="The current value as the form shows it.")
    required: bool


class ManualView(BaseModel):
    run_id: str
    workflow: str
    reason: str | None
    reason_code: str | None
    step: str | None
    skill: str | None
    arguments: Any
    item: ItemView | None
    waiting_since: datetime | None
    actions: list[str] = Field(description="Actions the caller may take (none for viewers).")
    maker: str | None = Field(description="Maker of an instruction awaiting four-eyes approval.")
    fields: list[FormField] = Field(description="The correction form of the parked step's arguments.")


class RunDetail(BaseModel):
    run: RunView
    inputs: Any
    outputs: Any
    overrides: Any = Field(description="Corrections people made to step arguments.")
    item: ItemView | None
    steps: list[StepView]
    audit: list[AuditView]
    evidence: list[EvidenceView]
    manual: ManualView | None = Field(description="Present while the run waits for a person.")


class AuditPage(BaseModel):
    events: list[AuditView]
    limit: int
    offset: int
    has_more: bool


class AuditProblemView(BaseModel):
    chain: str
    seq: int
    reason: str


class VerifyResult(BaseModel):
    ok: bool
    chains: int
    events: int
    problems: list[AuditProblemView]
    checked_at: datetime
    seconds: float = Field(description="How long the check took.")


class HotSpot(BaseModel):
    skill: str
    step_id: str
    executions: int = Field(description="Step rows finished in the period.")
    retries: int = Field(description="Attempts beyond the first, summed over those rows.")
    retry_events: int = Field(description="step_retrying audit events in the period.")
    failed: int
    needs_review: int
    avg_ms: float | None = Field(description="Mean duration of the last attempt.")


class HotSpots(BaseModel):
    since: datetime
    hours: float
    spots: list[HotSpot]


class LeaseView(BaseModel):
    capacity: str
    slot: int
    token: int
    lease_until: datetime | None


class RunnerView(BaseModel):
    id: str
    host: str
    pid: int
    capacity: int
    busy: int
    started_at: datetime | None
    heartbeat_at: datetime | None
    heartbeat_age_seconds: float | None
    stopped_at: datetime | None
    up: bool
    leases: list[LeaseView]


class SlotView(BaseModel):
    capacity: str
    slot: int
    holder_item: str | None
    holder_owner: str | None
    token: int
    held: bool


class SystemView(BaseModel):
    runners: list[RunnerView]
    slots: list[SlotView]


class Me(BaseModel):
    user: str
    role: str
    via: str
