"""The manual queue as people see it: allowed actions, and the correction form of a parked step.

The form is generated from the parked step's skill (its parameter model) and filled with the
step's current arguments; only fields a person changed are sent as corrections, and the
manual queue validates them against the model before anything runs again.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from orchestrator import jsoncodec
from orchestrator.api.security import Principal, Role
from orchestrator.dashboard.models import FormField, ItemView, ManualView
from orchestrator.dashboard.queries.work import shown
from orchestrator.enums import RunStatus
from orchestrator.queue.manual import ManualActionError, ManualEntry
from orchestrator.registry import SkillRegistry

HIDDEN_FIELDS = frozenset({"approved_by"})  # set by the approve action only (four-eyes)
APPROVAL_CODE = "awaiting_approval"
FIELD_PREFIX = "field__"


def _kind(annotation: Any) -> str:
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    base = typing.get_origin(args[0]) or args[0]
    if base is bool:
        return "checkbox"
    if isinstance(base, type) and issubclass(base, int | float | Decimal):
        return "number"
    if base in (dict, list, tuple, set) or (isinstance(base, type) and issubclass(base, BaseModel)):
        return "json"
    return "text"


def _as_text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "checkbox":
        return "true" if value else "false"
    if kind == "json":
        return json.dumps(jsoncodec.to_jsonable(value), ensure_ascii=False, sort_keys=True)
    plain = jsoncodec.to_jsonable(value)
    return plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False)


def form_fields(entry: ManualEntry, registry: SkillRegistry) -> list[FormField]:
    """The correction form of the parked step (empty when its skill is not registered here)."""
    if entry.step is None:
        return []
    spec = registry.get(entry.step.skill)
    if spec is None:
        return []
    current = shown(entry.step.params or {})
    overrides = entry.run.overrides.get(entry.run.parked_step or "", {})
    fields = []
    for name, info in spec.params_model.model_fields.items():
        if name in HIDDEN_FIELDS:
            continue
        kind = _kind(info.annotation)
        value = overrides.get(name, current.get(name) if isinstance(current, dict) else None)
        fields.append(
            FormField(
                name=name,
                description=info.description or "",
                kind=kind,
                value=_as_text(value, kind),
                required=info.is_required(),
            )
        )
    return fields


def allowed_actions(entry: ManualEntry, principal: Principal, fields: list[FormField]) -> list[str]:
    if principal.role < Role.operator:
        return []
    if entry.run.status is RunStatus.failed:
        return ["retry", "reject"]  # the cause fixed (a platform back), or closed with why
    actions = ["retry"]
    awaiting_approval = entry.run.reason_code == APPROVAL_CODE
    if fields and not awaiting_approval:
        # correcting an approval step could change its maker and so defeat four-eyes
        actions.append("resume")
    if awaiting_approval and _maker(entry).strip().lower() != principal.user.lower():
        actions.append("approve")
    actions.append("reject")
    return actions


def _maker(entry: ManualEntry) -> str:
    return str((entry.step.params or {}).get("maker", "")) if entry.step else ""


def manual_view(
    entry: ManualEntry, registry: SkillRegistry, principal: Principal, item: ItemView | None
) -> ManualView:
    fields = form_fields(entry, registry)
    return ManualView(
        run_id=entry.run.id,
        workflow=entry.run.workflow,
        reason=entry.run.reason,
        reason_code=entry.run.reason_code,
        step=entry.run.parked_step,
        skill=entry.step.skill if entry.step else None,
        arguments=shown(entry.step.params) if entry.step else None,
        item=item,
        waiting_since=entry.waiting_since,
        actions=allowed_actions(entry, principal, fields),
        maker=_maker(entry) or None if entry.run.reason_code == APPROVAL_CODE else None,
        fields=fields,
    )


def corrections_from_form(fields: list[FormField], form: Mapping[str, str]) -> dict[str, Any]:
    """The fields a person changed, as values the skill's model will validate."""
    changed: dict[str, Any] = {}
    for field in fields:
        key = FIELD_PREFIX + field.name
        if field.kind == "checkbox":
            submitted = "true" if form.get(key) in ("true", "on", "1") else "false"
        else:
            if key not in form:
                continue
            submitted = form[key].strip()
        if submitted == field.value:
            continue
        if field.kind == "checkbox":
            changed[field.name] = submitted == "true"
        elif field.kind == "json":
            try:
                changed[field.name] = json.loads(submitted) if submitted else None
            except json.JSONDecodeError as exc:
                raise ManualActionError(
                    f"{field.name}: not valid JSON ({exc.msg} at column {exc.colno})"
                ) from None
        else:
            changed[field.name] = submitted if submitted or field.required else None
    return changed
