"""JSON Schema (Draft 2020-12) of workflow files, generated from the same pydantic models.

Each registered skill contributes the schema of its arguments: a step whose ``uses`` names a
skill gets that skill's ``with`` schema, so an editor completes and checks arguments as they
are typed. Any argument may also be a ``${{ }}`` expression.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic.json_schema import models_json_schema

from orchestrator.registry import SkillRegistry
from orchestrator.spec.workflow import WorkflowSpec

DRAFT = "https://json-schema.org/draft/2020-12/schema"
EXPRESSION_SCHEMA = {"type": "string", "pattern": r"\$\{\{.*\}\}", "description": "A ${{ ... }} expression."}


def _or_expression(schema: Any) -> dict[str, Any]:
    return {"anyOf": [schema, EXPRESSION_SCHEMA]}


def _allow_expressions(schema: Any) -> Any:
    """Any value inside the arguments may be an expression: every property, mapping value and
    list element, at every depth (``payment.settlement_amount.value: ${{ inputs.amount }}``)."""
    if not isinstance(schema, dict):
        return schema
    allowed: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            allowed[key] = {name: _or_expression(_allow_expressions(prop)) for name, prop in value.items()}
        elif key in ("additionalProperties", "items") and isinstance(value, dict):
            allowed[key] = _or_expression(_allow_expressions(value))
        elif key in ("anyOf", "oneOf", "allOf", "prefixItems") and isinstance(value, list):
            allowed[key] = [_allow_expressions(item) for item in value]
        else:
            allowed[key] = value
    return allowed


def _referenced(defs: dict[str, Any], roots: set[str]) -> set[str]:
    """The definitions ``roots`` use, directly or through others (``$ref`` chains)."""
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        pending.extend(ref.rsplit("/", 1)[-1] for ref in _refs(defs[name]) if ref.startswith("#/$defs/"))
    return seen


def _refs(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        found = [schema["$ref"]] if isinstance(schema.get("$ref"), str) else []
        for value in schema.values():
            found += _refs(value)
        return found
    if isinstance(schema, list):
        return [ref for item in schema for ref in _refs(item)]
    return []


def workflow_schema(registry: SkillRegistry) -> dict[str, Any]:
    skills = list(registry)
    models = [(WorkflowSpec, "validation")] + [(s.params_model, "validation") for s in skills]
    keys, combined = models_json_schema(models, by_alias=True, ref_template="#/$defs/{model}")
    defs: dict[str, Any] = combined.get("$defs", {})
    workflow_ref = keys[(WorkflowSpec, "validation")]["$ref"].split("/")[-1]
    root = copy.deepcopy(defs[workflow_ref])
    step_def = defs.get("StepSpec")
    if step_def is not None:
        ids = sorted({s.id for s in skills} | set(registry.aliases))
        step_def["properties"]["uses"] = {
            "type": "string",
            "description": step_def["properties"]["uses"].get("description", "Skill id."),
            "anyOf": [{"enum": ids}, {"pattern": r"^(see|hear|speak|think|do)(\.[a-z][a-z0-9_]*)+$"}],
        }
        conditions = []
        argument_models = {keys[(spec.params_model, "validation")]["$ref"].split("/")[-1] for spec in skills}
        structure = _referenced(defs, {workflow_ref})  # the workflow's own shape keeps its types
        for name in _referenced(defs, argument_models) - structure:
            defs[name] = _allow_expressions(defs[name])
        for spec in skills:
            ref = keys[(spec.params_model, "validation")]["$ref"]
            name = ref.split("/")[-1]
            if spec.params_model.model_config.get("extra") != "allow":
                # `rpa validate` refuses unknown arguments; the editor should flag them too
                defs[name]["additionalProperties"] = False
            conditions.append(
                {
                    "if": {"properties": {"uses": {"const": spec.id}}, "required": ["uses"]},
                    "then": {"properties": {"with": {"$ref": ref}}},
                }
            )
        step_def["allOf"] = conditions
    root.update(
        {
            "$schema": DRAFT,
            "$id": "https://digital-employee.example/schema/workflow.schema.json",
            "title": "Digital Employee workflow",
            "$defs": {k: v for k, v in defs.items() if k != workflow_ref},
        }
    )
    return root
