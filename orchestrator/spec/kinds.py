"""File kinds (workflow, bot): detection, validation and schemas by kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.errors import ConfigError
from orchestrator.registry import SkillRegistry
from orchestrator.spec.diagnostics import Diagnostic
from orchestrator.spec.validate import check_workflow
from orchestrator.spec.yamlsource import LocatedYaml, load_yaml_file

KINDS = ("workflow", "bot")


def detect_kind(doc: LocatedYaml) -> str:
    """``bot`` for a mapping with ``workflow``/``triggers`` and no ``steps``, else ``workflow``."""
    data = doc.data
    if isinstance(data, dict) and "steps" not in data and ("workflow" in data or "triggers" in data):
        return "bot"
    return "workflow"


def validate_any_file(path: str | Path, registry: SkillRegistry) -> list[Diagnostic]:
    doc = load_yaml_file(path)
    if doc.errors:
        return sorted(doc.errors)
    if detect_kind(doc) == "bot":
        from orchestrator.spec.bot import check_bot

        _bot, diagnostics = check_bot(doc, registry)
        return diagnostics
    _spec, diagnostics = check_workflow(doc, registry)
    return diagnostics


def schema_for(kind: str, registry: SkillRegistry) -> dict[str, Any]:
    if kind == "workflow":
        from orchestrator.spec.schema import workflow_schema

        return workflow_schema(registry)
    if kind == "bot":
        from orchestrator.spec.bot import bot_schema

        return bot_schema()
    raise ConfigError(f"unknown schema kind {kind!r}; expected one of {', '.join(KINDS)}")
