"""Calling a skill: async on the loop, plain in a worker thread (or inline), under a timeout."""

from __future__ import annotations

import asyncio
import inspect
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from orchestrator.errors import SkillTimeout, TechnicalError
from orchestrator.plugin import SkillContext, SkillSpec


async def invoke(
    func: Any, spec: SkillSpec, ctx: SkillContext, params: BaseModel, timeout: timedelta | None
) -> Any:
    """Run ``func(ctx, params)`` the way ``spec`` says; ``SkillTimeout`` when too slow.

    A plain function that times out keeps running in its thread (Python cannot kill a thread);
    its late result is ignored. Skills that must stop should be async or honour the timeout
    of the library they call.
    """
    seconds = timeout.total_seconds() if timeout is not None else None
    if spec.coroutine if func is spec.func else inspect.iscoroutinefunction(func):
        call: Any = func(ctx, params)
    elif spec.inline:
        return func(ctx, params)
    else:
        call = asyncio.to_thread(func, ctx, params)
    if seconds is None:
        return await call
    try:
        return await asyncio.wait_for(call, seconds)
    except TimeoutError:
        raise SkillTimeout(f"{spec.id} did not finish within {seconds:g}s") from None


def validated_result(
    spec: SkillSpec, result: Any, result_model: type[BaseModel] | None = None
) -> dict[str, Any]:
    """The skill's result as a dict of typed values; a wrong shape is a TechnicalError (a bug)."""
    model = result_model or spec.result_model
    if result is None:
        result = {}
    try:
        if isinstance(result, model):
            checked = result
        elif isinstance(result, BaseModel):
            checked = model.model_validate(result.model_dump())
        else:
            checked = model.model_validate(result)
    except ValidationError as exc:
        raise TechnicalError(f"{spec.id} returned a result that does not match its model: {exc}") from None
    return checked.model_dump()


def restore_output(spec: SkillSpec | None, stored: Any) -> dict[str, Any]:
    """Turn a stored (JSON) output back into typed values (Decimal, dates) via the result model."""
    if not isinstance(stored, dict):
        return {}
    if spec is None:
        return dict(stored)
    try:
        return spec.result_model.model_validate(stored).model_dump()
    except ValidationError:
        return dict(stored)


def empty_output(spec: SkillSpec | None) -> dict[str, Any]:
    """Outputs of a skipped or failed step: every field of the result model is ``None``."""
    if spec is None:
        return {}
    return {name: None for name in spec.result_model.model_fields}
