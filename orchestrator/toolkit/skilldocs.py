"""Skills documented from their code: ``rpa skills describe ID`` and ``docs/skills.md``.

Everything comes from the ``SkillSpec`` (docstring, effect, verify, resources, timeout,
retry, example) and the parameter and result models (field types, defaults and
descriptions). The Markdown is deterministic: skills sorted by id, no dates, no machine paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import yaml
from pydantic_core import PydanticUndefined

from orchestrator.enums import Capability, Effect
from orchestrator.plugin import SkillSpec
from orchestrator.registry import SkillRegistry
from orchestrator.toolkit.fields import FieldDoc, field_docs, generated_example
from orchestrator.toolkit.plan_view import duration_text, retry_text

REGENERATE = "rpa docs skills -o docs/skills.md"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, str | int | float | bool):
        return _plain(value.value)  # enums
    return value


def _default_text(field: FieldDoc) -> str:
    if field.required:
        return "required"
    if field.default is None or field.default is PydanticUndefined:
        return "optional"
    return "default " + json.dumps(_plain(field.default), ensure_ascii=False, default=str)


def recovery_text(spec: SkillSpec) -> str:
    """How the engine treats an interrupted call of this skill."""
    if spec.effect is Effect.none:
        return "reads only; run again when interrupted"
    if spec.effect is Effect.idempotent:
        return "repeating it changes nothing more; run again when interrupted"
    if spec.verify is not None:
        return "at most once: an interrupted call is looked up on the platform (verify) before any retry"
    return "at most once, no verify: an interrupted call is parked for a person"


def example_yaml(spec: SkillSpec) -> tuple[str, bool]:
    """A workflow step using the skill, and whether it is the author's own example.

    Generated examples hold ``<placeholders>``; they pass the parameter model's checks
    unless the text says they must be completed.
    """
    step_id = spec.id.rsplit(".", 1)[-1]
    head = f"- id: {step_id}\n  uses: {spec.id}\n"
    if spec.example:
        example = spec.example.strip("\n")
        if "uses:" in example:
            return example + "\n", True
        return head + "".join(f"  {line}\n" for line in example.splitlines()), True
    arguments, valid = generated_example(spec.params_model)
    text = head
    if arguments:
        body = yaml.safe_dump({"with": _plain(arguments)}, sort_keys=False, allow_unicode=True, width=100)
        text += "".join(f"  {line}\n" for line in body.splitlines())
    if not valid:
        text += "  # complete the placeholders: the arguments above do not pass the checks yet\n"
    return text, False


def _facts(spec: SkillSpec, registry: SkillRegistry | None) -> list[tuple[str, str]]:
    facts = [
        ("capability", spec.capability.value),
        ("effect", f"{spec.effect.value} — {recovery_text(spec)}"),
        ("verify", "yes" if spec.verify is not None else "no"),
        ("resources", ", ".join(f"{k}×{v}" for k, v in sorted(spec.resources.items())) or "none"),
        ("timeout", duration_text(spec.timeout) if spec.timeout else "the step's, else the default (10m)"),
        ("retry", retry_text(spec.retry) if spec.retry else "the step's, else the default (3 attempts)"),
    ]
    if spec.aliases:
        facts.append(("aliases", ", ".join(spec.aliases)))
    if registry is not None and registry.plugins.get(spec.id):
        facts.append(("plugin", registry.plugins[spec.id]))
    facts.append(("source", spec.source))
    return facts


def _body(spec: SkillSpec) -> str:
    lines = spec.description.strip().splitlines()
    return "\n".join(lines[1:]).strip() if len(lines) > 1 else ""


def describe_text(spec: SkillSpec, registry: SkillRegistry | None = None) -> str:
    """What ``rpa skills describe ID`` prints."""
    lines = [f"{spec.id} — {spec.summary}"]
    body = _body(spec)
    if body:
        lines += ["", body]
    lines.append("")
    width = max(len(name) for name, _ in _facts(spec, registry))
    lines += [f"{name:<{width}}  {value}" for name, value in _facts(spec, registry)]
    lines += ["", "inputs (with:):"]
    inputs = list(field_docs(spec.params_model))
    lines += [_field_line(f, with_default=True) for f in inputs] or ["  (none)"]
    lines += ["", "outputs (steps.<id>.<name>):"]
    outputs = list(field_docs(spec.result_model))
    lines += [_field_line(f, with_default=False) for f in outputs] or ["  (none)"]
    example, _ = example_yaml(spec)
    lines += ["", "example:", *[f"  {line}" for line in example.rstrip("\n").splitlines()]]
    return "\n".join(lines) + "\n"


def _field_line(field: FieldDoc, *, with_default: bool) -> str:
    depth = field.name.count(".")
    indent = "  " * (depth + 1)
    qualifier = f", {_default_text(field)}" if with_default else ""
    text = f"{indent}{field.name.rsplit('.', 1)[-1]} ({field.type}{qualifier})"
    return f"{text}: {field.description}" if field.description else text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _field_table(fields: Iterable[FieldDoc], *, with_default: bool) -> list[str]:
    rows = list(fields)
    if not rows:
        return ["(none)"]
    if with_default:
        lines = ["| name | type | required / default | description |", "| --- | --- | --- | --- |"]
        lines += [
            f"| `{f.name}` | {_cell(f.type)} | {_cell(_default_text(f))} | {_cell(f.description)} |"
            for f in rows
        ]
    else:
        lines = ["| name | type | description |", "| --- | --- | --- |"]
        lines += [f"| `{f.name}` | {_cell(f.type)} | {_cell(f.description)} |" for f in rows]
    return lines


def _skill_section(spec: SkillSpec, registry: SkillRegistry) -> list[str]:
    lines = [f"### `{spec.id}`", "", spec.summary, ""]
    body = _body(spec)
    if body:
        lines += [body, ""]
    lines += [
        f"- **{name}**: {_cell(value) if name != 'source' else f'`{value}`'}"
        for name, value in _facts(spec, registry)
    ]
    lines += [
        "",
        "Inputs (`with:`):",
        "",
        *_field_table(field_docs(spec.params_model), with_default=True),
        "",
    ]
    lines += [
        "Outputs (`steps.<id>.<name>`):",
        "",
        *_field_table(field_docs(spec.result_model), with_default=False),
        "",
    ]
    example, _ = example_yaml(spec)
    lines += ["Example:", "", "```yaml", example.rstrip("\n"), "```", ""]
    return lines


def skills_markdown(registry: SkillRegistry) -> str:
    """The whole ``docs/skills.md``."""
    skills = list(registry)
    lines = [
        "# Skills reference",
        "",
        "<!-- Generated from the code of the registered skills; do not edit by hand. -->",
        f"Generated from the skills' code by `{REGENERATE}` (do not edit by hand; regenerate it",
        "after adding or changing a skill). The same text for one skill: `rpa skills describe ID`.",
        "",
        "Effects: `none` reads only; `idempotent` can be repeated safely; `once` must happen at most",
        "once (a payment keyed into a platform): with a verify the engine looks an interrupted call",
        "up on the platform before any retry, without one it parks the run for a person.",
        "",
        "| skill | effect | verify | resources | summary |",
        "| --- | --- | --- | --- | --- |",
    ]
    for spec in skills:
        anchor = spec.id.replace(".", "")
        resources = ", ".join(f"{k}×{v}" for k, v in sorted(spec.resources.items()))
        lines.append(
            f"| [`{spec.id}`](#{anchor}) | {spec.effect.value} | {'yes' if spec.verify else ''} | "
            f"{resources} | {_cell(spec.summary)} |"
        )
    lines.append("")
    for capability in Capability:
        members = [s for s in skills if s.capability is capability]
        if not members:
            continue
        lines += [f"## {capability.value}", ""]
        for spec in members:
            lines += _skill_section(spec, registry)
    return "\n".join(lines).rstrip("\n") + "\n"


def describe_json(spec: SkillSpec, registry: SkillRegistry | None = None) -> dict[str, Any]:
    """What ``rpa skills describe ID --json`` prints: the facts and both JSON Schemas."""
    example, authored = example_yaml(spec)
    return {
        "id": spec.id,
        "summary": spec.summary,
        "description": spec.description.strip(),
        "capability": spec.capability.value,
        "effect": spec.effect.value,
        "verify": spec.verify is not None,
        "resources": dict(spec.resources),
        "timeout_seconds": spec.timeout.total_seconds() if spec.timeout else None,
        "aliases": list(spec.aliases),
        "plugin": registry.plugins.get(spec.id) if registry is not None else None,
        "source": spec.source,
        "params_schema": spec.params_model.model_json_schema(),
        "result_schema": spec.result_model.model_json_schema(mode="serialization"),
        "example": example,
        "example_is_authored": authored,
    }
