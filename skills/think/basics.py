"""General-purpose think skills: compute a value, require a condition, wait."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field

from skills import BusinessError, SkillContext, skill


class EvaluateParams(BaseModel):
    value: Any = Field(description="The value to keep, usually a ${{ }} expression.")


class EvaluateResult(BaseModel):
    value: Any = Field(description="The value, as evaluated.")


@skill("think.evaluate", effect="none", inline=True, example="with:\n  value: ${{ inputs.amount * 2 }}")
def evaluate(ctx: SkillContext, params: EvaluateParams) -> EvaluateResult:
    """Keep a computed value as a step output (steps.<id>.value)."""
    return EvaluateResult(value=params.value)


class RequireParams(BaseModel):
    condition: bool = Field(description="Must be true, otherwise the run goes to the manual queue.")
    message: str = Field(description="Reason shown to the person when the condition is false.")
    code: str = Field("requirement_failed", description="Machine-readable reason code.")


class RequireResult(BaseModel):
    ok: bool = Field(description="Always true when the step succeeds.")


@skill("think.require", effect="none", inline=True)
def require(ctx: SkillContext, params: RequireParams) -> RequireResult:
    """Raise a business exception (manual queue) unless a condition holds."""
    if not params.condition:
        raise BusinessError(params.message, code=params.code)
    return RequireResult(ok=True)


class WaitParams(BaseModel):
    seconds: float = Field(ge=0, le=86_400, description="How long to wait.")


@skill("think.wait", effect="none")
async def wait(ctx: SkillContext, params: WaitParams) -> None:
    """Wait a number of seconds (e.g. for a platform to settle)."""
    await asyncio.sleep(params.seconds)
