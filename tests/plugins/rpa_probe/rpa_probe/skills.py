"""Probe skills registered through the ``rpa.skills`` entry point, like any third-party plugin.

Every call appends a line to ``<counter_dir>/<name>.count``; the crash tests read those files.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from pydantic import BaseModel, Field

from skills import SkillContext, TechnicalError, skill


class GreetParams(BaseModel):
    name: str = Field(description="Who to greet.")


class GreetResult(BaseModel):
    greeting: str = Field(description="The greeting.")


@skill("think.probe_greet", effect="none")
def greet(ctx: SkillContext, params: GreetParams) -> GreetResult:
    """Say hello (the smallest plugin skill)."""
    return GreetResult(greeting=f"hello, {params.name}")


class CountParams(BaseModel):
    counter_dir: str = Field(description="Folder of the counter files.")
    name: str = Field(description="Counter name.")
    marker: str | None = Field(None, description="File to create when the call starts.")
    pause: float = Field(0, description="Seconds to sleep after creating the marker.")
    secret: str = Field("", description="A value the skill echoes in its output (masking tests).")


class CountResult(BaseModel):
    calls: int = Field(description="How many times this counter was called.")
    echo: str = Field("", description="What the skill was given as 'secret'.")


def _count(params: CountParams) -> int:
    path = Path(params.counter_dir) / f"{params.name}.count"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("call\n")
        handle.flush()
        os.fsync(handle.fileno())
    return len(path.read_text(encoding="utf-8").splitlines())


def _pause(params: CountParams) -> None:
    if params.marker:
        Path(params.marker).write_text(str(os.getpid()), encoding="utf-8")
    if params.pause:
        time.sleep(params.pause)


@skill("do.probe_count", effect="idempotent")
def count(ctx: SkillContext, params: CountParams) -> CountResult:
    """Count a call (optionally write a marker file and pause, so a test can kill the process)."""
    calls = _count(params)
    _pause(params)
    return CountResult(calls=calls, echo=f"given {params.secret}" if params.secret else "")


def _ledger(params: CountParams) -> Path:
    return Path(params.counter_dir) / f"{params.name}.ledger"


def find_payment(ctx: SkillContext, params: CountParams) -> CountResult | None:
    """Verify: the payment is there when the ledger holds this step's idempotency key."""
    ledger = _ledger(params)
    if ledger.exists():
        for line in ledger.read_text(encoding="utf-8").splitlines():
            if json.loads(line)["key"] == ctx.idempotency_key:
                return CountResult(calls=0, echo="verified")
    return None


@skill("do.probe_pay", effect="once", verify=find_payment)
def pay(ctx: SkillContext, params: CountParams) -> CountResult:
    """A payment: writes the ledger line first, then pauses (a crash here leaves it in doubt)."""
    calls = _count(params)
    with _ledger(params).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"key": ctx.idempotency_key}) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    _pause(params)
    return CountResult(calls=calls)


@skill("do.probe_pay_blind", effect="once")
def pay_blind(ctx: SkillContext, params: CountParams) -> CountResult:
    """A payment on a platform that cannot be asked whether it has it."""
    calls = _count(params)
    _pause(params)
    if params.secret and calls == 1:
        raise TechnicalError(f"platform refused login with {params.secret}", applied=False)
    return CountResult(calls=calls)
