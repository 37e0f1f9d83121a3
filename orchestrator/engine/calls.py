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

    A plain function that times out keeps running in its thread (Python cannot kill a thread):
    the ``SkillTimeout`` carries that call as ``pending`` so the engine can wait for it where
    it matters (effect ``once``). Skills that must stop should be async or honour the timeout
    of the library they call.
    """
    seconds = timeout.total_seconds() if timeout is not None else None
    if spec.coroutine if func is spec.func else inspect.iscoroutinefunction(func):
        if seconds is None:
            return await func(ctx, params)
        try:
            return await asyncio.wait_for(func(ctx, params), seconds)
        except TimeoutError:
            raise SkillTimeout(f"{spec.id} did not finish within {seconds:g}s") from None
    if spec.inline:
        return func(ctx, params)
    future = asyncio.ensure_future(asyncio.to_thread(func, ctx, params))
    if seconds is None:
        return await future
    done, _ = await asyncio.wait({future}, timeout=seconds)
    if done:
        return future.result()
    raise SkillTimeout(f"{spec.id} did not finish within {seconds:g}s", pending=future)


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
