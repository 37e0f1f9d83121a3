"""Helpers to test one skill without an engine (like Temporal's ActivityEnvironment)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from orchestrator.plugin import PlatformInfo, SkillContext, service_spec_of, spec_of
from orchestrator.services import ServicePool


def make_context(
    skill_func: Any,
    *,
    services: ServicePool | None = None,
    platform: PlatformInfo | None = None,
    work_dir: Path | None = None,
    idempotency_key: str = "test-run:step",
    attempt: int = 1,
    secrets: Mapping[str, str] | None = None,
) -> SkillContext:
    spec = spec_of(skill_func)
    if spec is None:
        raise TypeError(f"{skill_func!r} is not decorated with @skill")
    return SkillContext(
        run_id="test-run",
        step_id="step",
        skill_id=spec.id,
        attempt=attempt,
        idempotency_key=idempotency_key,
        platform=platform,
        services=services,
        work_dir=work_dir or Path.cwd(),
        secrets=dict(secrets or {}),
    )


def service_pool(factories: Iterable[Any], settings: Mapping[str, Any] | None = None) -> ServicePool:
    """A pool of the given ``@service`` factories."""
    specs = {}
    for factory in factories:
        spec = service_spec_of(factory)
        if spec is None:
            raise TypeError(f"{factory!r} is not decorated with @service")
        specs[spec.name] = spec
    return ServicePool(specs, settings)


def run_skill(skill_func: Any, params: Mapping[str, Any] | BaseModel, **context: Any) -> BaseModel | None:
    """Validate ``params`` with the skill's model, call it (sync or async) and validate the result."""
    spec = spec_of(skill_func)
    if spec is None:
        raise TypeError(f"{skill_func!r} is not decorated with @skill")
    model = params if isinstance(params, BaseModel) else spec.params_model.model_validate(dict(params))
    ctx = context.pop("ctx", None) or make_context(skill_func, **context)
    result = skill_func(ctx, model)
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    if result is None:
        return None
    return spec.result_model.model_validate(result.model_dump() if isinstance(result, BaseModel) else result)


async def _await(awaitable: Any) -> Any:
    return await awaitable
