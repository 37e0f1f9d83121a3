"""A plan as text for people and as JSON for machines."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from orchestrator import jsoncodec
from orchestrator.retry import RetryPolicy
from orchestrator.toolkit.plan import StepPlan, Unresolved, WorkflowPlan


def duration_text(value: timedelta | None) -> str:
    """``timedelta`` as the workflow language writes it: ``90s`` → ``1m30s``."""
    if value is None:
        return "none"
    total = value.total_seconds()
    if total < 1:
        return f"{total * 1000:g}ms"
    parts = []
    for unit, size in (("h", 3600), ("m", 60)):
        if total >= size:
            parts.append(f"{int(total // size)}{unit}")
            total -= (total // size) * size
    if total or not parts:
        parts.append(f"{total:g}s")
    return "".join(parts)


def retry_text(policy: RetryPolicy) -> str:
    if policy.max_attempts == 1:
        return "1 attempt (no retry)"
    text = (
        f"up to {policy.max_attempts} attempts; backoff {duration_text(policy.initial_interval)}, "
        f"×{policy.backoff_coefficient:g} per retry, at most {duration_text(policy.max_interval)} (full jitter)"
    )
    if policy.retry_business_codes:
        text += f"; business codes retried: {', '.join(sorted(policy.retry_business_codes))}"
    return text


def value_text(value: Any) -> str:
    """One value on one line: strings quoted, amounts exact, unresolved as ``<...>``."""
    if isinstance(value, Unresolved):
        return str(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, Decimal | int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    return json.dumps(jsoncodec.to_jsonable(value), ensure_ascii=False)


def _mapping_lines(mapping: dict[str, Any], indent: str) -> list[str]:
    lines = []
    for key, value in mapping.items():
        if isinstance(value, dict) and value:
            lines.append(f"{indent}{key}:")
            lines.extend(_mapping_lines(value, indent + "  "))
        elif isinstance(value, str) and "\n" in value.strip():
            lines.append(f"{indent}{key}: |")
            lines.extend(f"{indent}  {line}" for line in value.rstrip("\n").splitlines())
        elif isinstance(value, Unresolved) and value.shown is not None and "\n" in value.shown.strip():
            lines.append(f"{indent}{key}: |  ({value.why})")
            lines.extend(f"{indent}  {line}" for line in value.shown.rstrip("\n").splitlines())
        else:
            lines.append(f"{indent}{key}: {value_text(value)}")
    return lines


def _step_lines(step: StepPlan) -> list[str]:
    title = f"{step.number}. {step.id}" + (f" ({step.name})" if step.name else "")
    lines = [f"{title} — {step.skill}: {step.summary}"]
    if step.description:
        lines.append(f"   {step.description}")
    if step.condition is not None:
        decision = (
            "decided at run time"
            if isinstance(step.runs, Unresolved)
            else ("runs" if step.runs else "SKIPPED")
        )
        shown = f" = {step.runs}" if isinstance(step.runs, Unresolved) else ""
        lines.append(f"   if: {step.condition}{shown} → {decision}")
    if step.foreach is not None:
        source = step.foreach if isinstance(step.foreach, str) else "(a list)"
        if step.elements is None:
            lines.append(f"   foreach: {source} → not evaluated (the step is skipped)")
        elif isinstance(step.elements, Unresolved):
            lines.append(f"   foreach: {source} → {step.elements}")
        else:
            lines.append(
                f"   foreach: {source} → {len(step.elements)} element(s): {value_text(step.elements)}"
            )
    lines.append(f"   effect: {step.effect} — {step.recovery}")
    if step.platform is not None:
        known = {None: "", True: " (configured)", False: " (NOT configured in settings)"}[step.platform_known]
        lines.append(f"   platform: {step.platform}{known}")
    if step.resources:
        lines.append("   resources: " + ", ".join(f"{k}×{v}" for k, v in sorted(step.resources.items())))
    lines.append(f"   retry: {retry_text(step.retry)} [{step.retry_source}]")
    lines.append(f"   timeout: {duration_text(step.timeout)} per attempt [{step.timeout_source}]")
    lines.append(f"   on error: {step.on_error} — {step.on_error_means}")
    lines.append(f"   idempotency key: {value_text(step.idempotency_key)}")
    if step.arguments:
        lines.append("   with:")
        lines.extend(_mapping_lines(step.arguments, "     "))
    else:
        lines.append("   with: (no arguments)")
    return lines


def plan_text(plan: WorkflowPlan) -> str:
    """The plan for people (what ``rpa plan`` prints)."""
    lines = [f"Plan of workflow {plan.workflow} ({plan.file}) — a dry run: nothing is executed or stored."]
    if plan.description:
        lines.append(f"  {plan.description}")
    lines.append("")
    lines.append("inputs:" if plan.inputs else "inputs: (none)")
    for item in plan.inputs:
        lines.append(f"  {item.name} ({item.type}) = {value_text(item.value)}  [{item.source}]")
    lines.append("")
    lines.append(f"steps ({len(plan.steps)}, in order):")
    for step in plan.steps:
        lines.extend(_step_lines(step))
        lines.append("")
    lines.append("outputs:" if plan.outputs else "outputs: (none)")
    lines.extend(_mapping_lines(plan.outputs, "  "))
    if plan.warnings:
        lines.append("")
        lines.append("warnings:")
        lines.extend(f"  {warning}" for warning in plan.warnings)
    return "\n".join(lines) + "\n"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Unresolved):
        return {"unresolved": value.expression, "why": value.why, "shown": str(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return jsoncodec.to_jsonable(value)


def _retry_dict(policy: RetryPolicy, source: str) -> dict[str, Any]:
    return {
        "max_attempts": policy.max_attempts,
        "initial_interval_seconds": policy.initial_interval.total_seconds(),
        "backoff_coefficient": policy.backoff_coefficient,
        "max_interval_seconds": policy.max_interval.total_seconds(),
        "retry_business_codes": sorted(policy.retry_business_codes),
        "source": source,
    }


def plan_dict(plan: WorkflowPlan) -> dict[str, Any]:
    """The plan for machines (``rpa plan --json``). Unresolved values are
    ``{"unresolved": expression, "why": reason, "shown": text}``."""
    return {
        "workflow": plan.workflow,
        "file": plan.file,
        "description": plan.description,
        "executes": False,
        "inputs": {
            i.name: {"type": i.type, "value": _jsonable(i.value), "source": i.source} for i in plan.inputs
        },
        "steps": [
            {
                "number": s.number,
                "id": s.id,
                "name": s.name,
                "skill": s.skill,
                "summary": s.summary,
                "effect": s.effect,
                "recovery": s.recovery,
                "verify": s.verify,
                "platform": s.platform,
                "platform_configured": s.platform_known,
                "resources": s.resources,
                "retry": _retry_dict(s.retry, s.retry_source),
                "timeout_seconds": None if s.timeout is None else s.timeout.total_seconds(),
                "timeout_source": s.timeout_source,
                "on_error": s.on_error,
                "if": s.condition,
                "runs": _jsonable(s.runs),
                "foreach": s.foreach,
                "elements": _jsonable(s.elements),
                "idempotency_key": _jsonable(s.idempotency_key),
                "with": _jsonable(s.arguments),
            }
            for s in plan.steps
        ],
        "outputs": _jsonable(plan.outputs),
        "warnings": plan.warnings,
    }
