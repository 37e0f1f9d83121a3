"""Skills used to probe the engine: they count calls and fail on demand."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from decimal import Decimal

from pydantic import BaseModel, Field

from skills import BusinessError, SkillContext, TechnicalError, skill

CALLS: dict[str, int] = defaultdict(int)
PLATFORM: dict[str, dict[str, str]] = {}  # idempotency key -> what was "posted"


class ProbeParams(BaseModel):
    name: str = "probe"
    fail_times: int = Field(0, description="Raise a TechnicalError on the first N calls.")
    business: str | None = Field(None, description="Raise a BusinessError with this message.")
    sleep: float = 0
    amount: Decimal | None = None
    applied: bool | None = None


class ProbeResult(BaseModel):
    calls: int
    amount: Decimal | None = None
    echo: str = ""


def _count(params: ProbeParams) -> int:
    CALLS[params.name] += 1
    return CALLS[params.name]


@skill("think.probe", effect="none")
async def probe(ctx: SkillContext, params: ProbeParams) -> ProbeResult:
    """Counts calls; fails on demand."""
    calls = _count(params)
    if params.sleep:
        await asyncio.sleep(params.sleep)
    if params.business:
        raise BusinessError(params.business, code="probe_business")
    if calls <= params.fail_times:
        raise TechnicalError(f"transient failure {calls}", applied=params.applied)
    return ProbeResult(calls=calls, amount=params.amount, echo=params.name)


def _find_posting(ctx: SkillContext, params: ProbeParams) -> ProbeResult | None:
    posted = PLATFORM.get(ctx.idempotency_key)
    if posted is None:
        return None
    return ProbeResult(calls=0, amount=params.amount, echo=f"found {posted['name']}")


@skill("do.probe_post", effect="once", verify=_find_posting)
def probe_post(ctx: SkillContext, params: ProbeParams) -> ProbeResult:
    """A payment posting with a lookup by idempotency key."""
    calls = _count(params)
    if calls <= params.fail_times:
        if params.applied is False:
            raise TechnicalError("refused before sending", applied=False)
        PLATFORM[ctx.idempotency_key] = {"name": params.name}  # it reached the platform, then timed out
        raise TechnicalError("timeout after sending")
    PLATFORM[ctx.idempotency_key] = {"name": params.name}
    return ProbeResult(calls=calls, amount=params.amount, echo=params.name)


@skill("do.probe_post_blind", effect="once")
def probe_post_blind(ctx: SkillContext, params: ProbeParams) -> ProbeResult:
    """A posting without any way to look it up."""
    calls = _count(params)
    if calls <= params.fail_times:
        raise TechnicalError("timeout", applied=params.applied)
    return ProbeResult(calls=calls, echo=params.name)


class SecretParams(BaseModel):
    password: str
    note: str = ""


class SecretResult(BaseModel):
    echoed: str


@skill("do.probe_login", effect="idempotent")
def probe_login(ctx: SkillContext, params: SecretParams) -> SecretResult:
    """Echoes what it was given (a badly behaved skill)."""
    return SecretResult(echoed=f"logged in with {params.password} ({params.note})")


ALL = [probe, probe_post, probe_post_blind, probe_login]


@skill("do.probe_slow_post", effect="once", verify=_find_posting)
def probe_slow_post(ctx: SkillContext, params: ProbeParams) -> ProbeResult:
    """A posting whose platform answers after the step's timeout (a threaded call cannot be stopped)."""
    import time

    calls = _count(params)
    time.sleep(params.sleep)
    PLATFORM[ctx.idempotency_key] = {"name": params.name}
    return ProbeResult(calls=calls, amount=params.amount, echo="late but done")


ALL.append(probe_slow_post)
