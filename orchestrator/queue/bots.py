"""Bot files → published bots: validated, with their workflow's source stored by digest.

Runners read bots and workflows from the database, so a runner on another machine needs no
copy of the YAML files (the way RPA suites publish packages to their orchestrator).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from orchestrator.errors import WorkflowError
from orchestrator.queue.models import PublishedBot
from orchestrator.queue.store import SQLWorkQueue
from orchestrator.registry import SkillRegistry
from orchestrator.spec.bot import BotSpec, check_bot
from orchestrator.spec.diagnostics import Diagnostic
from orchestrator.spec.validate import LoadedWorkflow, load_workflow
from orchestrator.spec.yamlsource import load_yaml_file


@dataclass(frozen=True)
class LoadedBot:
    spec: BotSpec
    file: Path
    workflow: LoadedWorkflow

    def folder(self, relative: str) -> Path:
        """A path written in the bot file, resolved against the bot file's folder."""
        return (self.file.parent / relative).resolve()


def spec_to_dict(spec: BotSpec) -> dict[str, Any]:
    """JSON-safe form of a bot spec (durations in seconds, times as HH:MM:SS)."""

    def plain(value: Any) -> Any:
        if isinstance(value, timedelta):
            return value.total_seconds()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value

    return plain(spec.model_dump(mode="python", by_alias=True))


def load_bot_file(path: Path, registry: SkillRegistry) -> LoadedBot:
    doc = load_yaml_file(path)
    spec, diagnostics = check_bot(doc, registry)
    if spec is None or diagnostics:
        raise WorkflowError(f"{path}: {len(diagnostics)} problem(s)", diagnostics)
    workflow = load_workflow(path.parent / spec.workflow, registry)
    return LoadedBot(spec=spec, file=path.resolve(), workflow=workflow)


def load_bot_folder(folder: Path, registry: SkillRegistry) -> tuple[list[LoadedBot], list[Diagnostic]]:
    """Every bot file in a folder (other YAML files, e.g. calendars, are skipped)."""
    from orchestrator.spec.kinds import detect_kind

    bots: list[LoadedBot] = []
    problems: list[Diagnostic] = []
    for path in sorted(p for p in folder.glob("*.y*ml") if p.is_file()):
        doc = load_yaml_file(path)
        if doc.errors:
            problems.extend(doc.errors)
            continue
        if detect_kind(doc) != "bot":
            continue
        try:
            bots.append(load_bot_file(path, registry))
        except WorkflowError as exc:
            problems.extend(exc.diagnostics)
    return bots, problems


def publish(
    queue: SQLWorkQueue, bot: LoadedBot, resource_capacity: dict[str, int] | None = None
) -> PublishedBot:
    queue.store.save_workflow_source(
        bot.workflow.digest, bot.workflow.spec.name, bot.workflow.file, bot.workflow.source
    )
    return queue.publish_bot(
        bot.spec.name, spec_to_dict(bot.spec), bot.workflow.digest, str(bot.file), resource_capacity
    )
