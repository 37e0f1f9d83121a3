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


def _allow_expressions(schema: dict[str, Any]) -> dict[str, Any]:
    props = schema.get("properties")
    if isinstance(props, dict):
        schema["properties"] = {name: {"anyOf": [prop, EXPRESSION_SCHEMA]} for name, prop in props.items()}
    return schema


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
        for spec in skills:
            ref = keys[(spec.params_model, "validation")]["$ref"]
            name = ref.split("/")[-1]
            defs[name] = _allow_expressions(defs[name])
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
