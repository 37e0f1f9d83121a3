"""Bot files: a workflow put on triggers, with concurrency, resources, retry defaults and an SLA.

::

    name: rmb-inbound
    workflow: ../workflows/rmb_inbound.yaml      # relative to this file
    triggers:
      - type: folder                             # one work item per new file
        path: ../inbox/rmb
        pattern: "*.xml"
      - type: cron
        cron: "*/10 9-16 * * 1-5"
        timezone: Asia/Shanghai                  # the default
        calendar: ../calendars/cn-2026.yaml      # skip holidays
      - type: interval
        every: 5m
      - type: api                                # POST /api/bots/<name>/items
    concurrency: 2
    resources: {clearing-terminal: 1}
    sla: 30m
    minutes_saved_per_item: 6
"""

from __future__ import annotations

import re
from datetime import time as dtime
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator.registry import SkillRegistry
from orchestrator.spec.diagnostics import Diagnostic, validate_model
from orchestrator.spec.validate import check_workflow
from orchestrator.spec.workflow import WORKFLOW_NAME, Duration, RetrySpec
from orchestrator.spec.yamlsource import LocatedYaml, load_yaml_file

DEFAULT_TIMEZONE = "Asia/Shanghai"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (expected an IANA name such as Asia/Shanghai)"
        ) from None
    return value


def _time_of_day(value: Any) -> dtime:
    text = str(value).strip()
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?", text)
    if not match:
        raise ValueError(f"expected a time of day HH:MM, got {value!r}")
    return dtime(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


class CronTriggerSpec(_Model):
    """Fires on a crontab schedule in a time zone, optionally only on business days."""

    type: Literal["cron"]
    cron: str = Field(description="Five crontab fields: minute hour day-of-month month day-of-week.")
    timezone: str = Field(DEFAULT_TIMEZONE, description="IANA time zone of the schedule.")
    calendar: str | None = Field(None, description="Business-day calendar file (holidays are skipped).")
    inputs: dict[str, Any] = Field(
        default_factory=dict, description="Inputs of the item this trigger enqueues."
    )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _timezone(value)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        if len(value.split()) != 5:
            raise ValueError(f"expected 5 crontab fields (minute hour day month weekday), got {value!r}")
        try:
            CronTrigger.from_crontab(value, timezone=DEFAULT_TIMEZONE)
        except ValueError as exc:
            raise ValueError(f"invalid crontab {value!r}: {exc}") from None
        return value


class IntervalTriggerSpec(_Model):
    """Fires every fixed interval."""

    type: Literal["interval"]
    every: Duration = Field(description="Interval such as '5m'.")
    inputs: dict[str, Any] = Field(
        default_factory=dict, description="Inputs of the item this trigger enqueues."
    )

    @field_validator("every")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() < 1:
            raise ValueError("an interval must be at least 1s")
        return value


class FolderTriggerSpec(_Model):
    """One work item per new file in a watched folder; the file moves to processed/ or failed/."""

    type: Literal["folder"]
    path: str = Field(description="Inbox folder (relative to the bot file).")
    pattern: str = Field("*", description="Glob of the files to pick up, e.g. '*.xml'.")
    settle: Duration = Field(
        timedelta(seconds=1), description="A file must be unchanged this long to be picked."
    )
    poll: Duration = Field(timedelta(seconds=2), description="How often the folder is scanned.")
    input: str = Field("file", description="Workflow input that receives the file's path.")
    reference: Literal["name", "sha256"] = Field(
        "sha256", description="Business reference of the item: the file's content hash (default) or name."
    )
    inputs: dict[str, Any] = Field(default_factory=dict, description="Other inputs of the items.")


class ApiTriggerSpec(_Model):
    """Items are enqueued through the HTTP API."""

    type: Literal["api"]


TriggerSpec = Annotated[
    CronTriggerSpec | IntervalTriggerSpec | FolderTriggerSpec | ApiTriggerSpec, Field(discriminator="type")
]


class BotSpec(_Model):
    """A bot file."""

    name: str = Field(pattern=WORKFLOW_NAME, description="Bot name (lower case, digits, - and _).")
    description: str = Field("", description="What this digital employee does.")
    workflow: str = Field(description="Workflow file, relative to the bot file.")
    inputs: dict[str, Any] = Field(default_factory=dict, description="Inputs given to every run.")
    triggers: list[TriggerSpec] = Field(default_factory=list, description="What creates work items.")
    concurrency: int = Field(
        1, ge=1, le=1000, description="Most items of this bot in progress at once (all runners)."
    )
    resources: dict[str, int] = Field(
        default_factory=dict, description="Resources each item holds while it runs."
    )
    retry: RetrySpec | None = Field(None, description="Default retry policy of the workflow's steps.")
    sla: Duration | None = Field(None, description="Time from enqueue to done an item should take.")
    minutes_saved_per_item: float = Field(
        0, ge=0, le=10_000, description="Manual minutes one done item saves."
    )
    priority: int = Field(0, ge=-100, le=100, description="Default priority of items (higher first).")
    max_crashes: int = Field(
        3, ge=1, le=100, description="Runner crashes after which an item is quarantined."
    )
    cutoff: (
        Annotated[dtime, Field(description="No new items after this time of day (clearing cut-off).")] | None
    ) = None
    cutoff_timezone: str = Field(DEFAULT_TIMEZONE, description="Time zone of the cut-off.")
    enabled: bool = Field(True, description="A disabled bot's triggers do not fire.")

    @field_validator("cutoff", mode="before")
    @classmethod
    def _cutoff(cls, value: Any) -> Any:
        return None if value is None else _time_of_day(value)

    @field_validator("cutoff_timezone")
    @classmethod
    def _cutoff_tz(cls, value: str) -> str:
        return _timezone(value)

    @field_validator("resources")
    @classmethod
    def _resources(cls, value: dict[str, int]) -> dict[str, int]:
        for name, count in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9_\-]*", name):
                raise ValueError(f"resource name {name!r} must be lower-case letters, digits, - and _")
            if count < 1:
                raise ValueError(f"resource {name!r} needs a count of at least 1")
        return value


def check_bot(doc: LocatedYaml, registry: SkillRegistry) -> tuple[BotSpec | None, list[Diagnostic]]:
    """Validate a bot file, and the workflow it names (its problems are reported in its own file)."""
    if doc.errors:
        return None, sorted(doc.errors)
    if not isinstance(doc.data, dict):
        return None, [
            doc.diagnostic((), "expected a bot: a mapping with name, workflow and triggers", "schema")
        ]
    spec, diagnostics = validate_model(BotSpec, doc)
    base = Path(doc.file).parent
    data = doc.data
    workflow_ref = data.get("workflow")
    if isinstance(workflow_ref, str):
        workflow_path = base / workflow_ref
        if not workflow_path.is_file():
            diagnostics.append(
                doc.diagnostic(("workflow",), f"workflow file {workflow_ref!r} does not exist", "file")
            )
        else:
            wf_doc = load_yaml_file(workflow_path)
            wf_spec, wf_diagnostics = check_workflow(wf_doc, registry)
            if wf_diagnostics:
                diagnostics.append(
                    doc.diagnostic(
                        ("workflow",),
                        f"workflow {workflow_ref!r} has {len(wf_diagnostics)} problem(s)",
                        "workflow",
                    )
                )
                diagnostics.extend(wf_diagnostics)
            elif wf_spec is not None:
                diagnostics.extend(_check_inputs(doc, wf_spec, data))
    for index, trigger in enumerate(data.get("triggers") or []):
        if not isinstance(trigger, dict):
            continue
        if trigger.get("type") == "cron" and isinstance(trigger.get("calendar"), str):
            calendar = base / trigger["calendar"]
            if not calendar.is_file():
                diagnostics.append(
                    doc.diagnostic(
                        ("triggers", index, "calendar"),
                        f"calendar file {trigger['calendar']!r} does not exist",
                        "file",
                    )
                )
            else:
                from orchestrator.calendars import load_calendar

                try:
                    load_calendar(calendar)
                except Exception as exc:  # a broken calendar is reported at the trigger
                    diagnostics.append(doc.diagnostic(("triggers", index, "calendar"), str(exc), "file"))
    return (spec if not diagnostics else None), sorted(set(diagnostics))  # type: ignore[return-value]


def _check_inputs(doc: LocatedYaml, workflow: Any, data: dict[str, Any]) -> list[Diagnostic]:
    diagnostics = []
    declared = workflow.inputs
    for name in data.get("inputs") or {}:
        if name not in declared:
            diagnostics.append(
                doc.diagnostic(
                    ("inputs", name),
                    f"workflow has no input {name!r} (inputs: {', '.join(sorted(declared)) or 'none'})",
                    "unknown-field",
                    key=True,
                )
            )
    for index, trigger in enumerate(data.get("triggers") or []):
        if isinstance(trigger, dict) and trigger.get("type") == "folder":
            field = trigger.get("input", "file")
            if field not in declared:
                diagnostics.append(
                    doc.diagnostic(
                        ("triggers", index, "input"),
                        f"workflow has no input {field!r} to receive the file",
                        "value",
                    )
                )
    return diagnostics


def load_bot(path: str | Path, registry: SkillRegistry) -> BotSpec:
    from orchestrator.errors import WorkflowError

    doc = load_yaml_file(path)
    spec, diagnostics = check_bot(doc, registry)
    if spec is None or diagnostics:
        raise WorkflowError(f"{path}: {len(diagnostics)} problem(s)", diagnostics)
    return spec


def bot_schema() -> dict[str, Any]:
    schema = BotSpec.model_json_schema(by_alias=True)
    schema.update(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://digital-employee.example/schema/bot.schema.json",
            "title": "Digital Employee bot",
        }
    )
    return schema
