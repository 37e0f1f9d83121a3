"""Switchable fault injection for the web platforms, so retry and recovery paths can be tested.

Faults are set at start (``--slow-ms``, ``--fail-next``, ...) or at run time with
``POST /_faults``. They apply only to the routes a platform declares as *faultable* (its pages and
business POSTs), never to ``/_faults``, ``/health`` or the read-only JSON API that tests use to
check outcomes. Per faultable request, in this order:

1. ``slow_ms``: wait that long first.
2. ``fail_next``: while > 0, answer HTTP 500 and count down.
3. ``fail_rate``: otherwise answer HTTP 500 with this probability (``seed`` makes it repeatable).

``fail_phase`` says when a failing request fails: ``before`` (default) answers 500 without
handling the request, so nothing is recorded; ``after`` handles it (a POST *is* recorded) and
then answers 500 in place of the real answer: the "did my payment go through?" case that a
``verify`` step must resolve. ``expire_sessions`` invalidates every current session once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from examples.platforms.common.web import require_loopback

FailPhase = Literal["before", "after"]
FaultableRoute = Callable[[str, str], bool]
"""Decides from ``(method, path)`` whether a request is subject to faults."""


class FaultOptions(BaseModel):
    """Fault settings a platform starts with (also the fields of ``POST /_faults``)."""

    model_config = ConfigDict(extra="forbid")

    slow_ms: int = Field(0, ge=0, le=600_000, description="Delay every faultable request by this many ms.")
    fail_next: int = Field(0, ge=0, description="Answer HTTP 500 to the next N faultable requests.")
    fail_rate: float = Field(0.0, ge=0.0, le=1.0, description="Answer HTTP 500 with this probability.")
    fail_phase: FailPhase = Field(
        "before", description="'before': fail without handling; 'after': handle, then answer 500."
    )
    seed: int | None = Field(None, description="Seed of the random draws behind fail_rate.")


class FaultUpdate(BaseModel):
    """Body of ``POST /_faults``: the fields given are changed, the others are kept."""

    model_config = ConfigDict(extra="forbid")

    slow_ms: int | None = Field(None, ge=0, le=600_000, description="Delay per faultable request, ms.")
    fail_next: int | None = Field(None, ge=0, description="Fail the next N faultable requests.")
    fail_rate: float | None = Field(None, ge=0.0, le=1.0, description="Failure probability per request.")
    fail_phase: FailPhase | None = Field(None, description="When a failing request fails.")
    seed: int | None = Field(None, description="Reseed the random draws behind fail_rate.")
    expire_sessions: bool = Field(False, description="Invalidate every current session, once.")


class FaultState(FaultOptions):
    """What ``GET /_faults`` answers: the settings plus counters."""

    injected_failures: int = Field(description="HTTP 500 answers injected since start.")
    sessions_expired: int = Field(description="How many times all sessions were expired.")


class FaultInjector:
    """Holds the current fault settings and draws, per request, whether it fails."""

    def __init__(self, options: FaultOptions, on_expire_sessions: Callable[[], None] | None = None) -> None:
        self._options = options.model_copy()
        self._random = random.Random(options.seed)  # fault injection, not secrets  # nosec B311
        self._on_expire_sessions = on_expire_sessions
        self.injected_failures = 0
        self.sessions_expired = 0

    @property
    def slow_ms(self) -> int:
        return self._options.slow_ms

    @property
    def fail_phase(self) -> FailPhase:
        return self._options.fail_phase

    def update(self, change: FaultUpdate) -> FaultState:
        """Apply the fields set in ``change`` and return the new state."""
        fields = change.model_dump(exclude_unset=True, exclude={"expire_sessions"})
        fields = {name: value for name, value in fields.items() if value is not None or name == "seed"}
        self._options = self._options.model_copy(update=fields)
        if "seed" in fields:
            self._random = random.Random(fields["seed"])  # fault injection, not secrets  # nosec B311
        if change.expire_sessions:
            self.sessions_expired += 1
            if self._on_expire_sessions is not None:
                self._on_expire_sessions()
        return self.state()

    def reset(self) -> FaultState:
        """Switch every fault off (counters are kept)."""
        self._options = FaultOptions()
        self._random = random.Random()  # fault injection, not secrets  # nosec B311
        return self.state()

    def state(self) -> FaultState:
        return FaultState(
            **self._options.model_dump(),
            injected_failures=self.injected_failures,
            sessions_expired=self.sessions_expired,
        )

    def draw_failure(self) -> bool:
        """Decide whether the current request fails, consuming ``fail_next`` first."""
        if self._options.fail_next > 0:
            self._options = self._options.model_copy(update={"fail_next": self._options.fail_next - 1})
            failed = True
        else:
            failed = self._options.fail_rate > 0 and self._random.random() < self._options.fail_rate
        if failed:
            self.injected_failures += 1
        return failed


class FaultMiddleware:
    """ASGI middleware applying a :class:`FaultInjector` to the faultable routes."""

    def __init__(self, app: ASGIApp, injector: FaultInjector, faultable: FaultableRoute) -> None:
        self.app = app
        self.injector = injector
        self.faultable = faultable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.faultable(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        if self.injector.slow_ms:
            await asyncio.sleep(self.injector.slow_ms / 1000)
        if not self.injector.draw_failure():
            await self.app(scope, receive, send)
            return
        if self.injector.fail_phase == "after":
            await self.app(scope, receive, _discard)
        await _injected_error(scope["path"])(scope, receive, send)


async def _discard(message: Message) -> None:
    """Swallow the real answer of a request that fails after it was handled."""


def _injected_error(path: str) -> Response:
    detail = "Internal Server Error (injected fault)"
    if path.startswith("/api/"):
        return JSONResponse({"detail": detail}, status_code=500)
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Error</title></head>"
        f"<body><h1>Internal Server Error</h1><p role='alert'>{detail}</p></body></html>",
        status_code=500,
    )


def fault_router(injector: FaultInjector) -> APIRouter:
    """The ``/_faults`` routes (loopback clients only), never subject to faults themselves.

    They are ``async`` so that they run on the event loop, like the middleware that reads the same
    state: no lock is needed.
    """
    router = APIRouter(prefix="/_faults", tags=["faults"], dependencies=[Depends(require_loopback)])

    @router.get("", response_model=FaultState)
    async def get_faults() -> FaultState:
        """Show the current fault settings and counters."""
        return injector.state()

    @router.post("", response_model=FaultState)
    async def set_faults(change: FaultUpdate) -> FaultState:
        """Change the fields given; the others keep their value."""
        return injector.update(change)

    @router.delete("", response_model=FaultState)
    async def clear_faults() -> FaultState:
        """Switch every fault off."""
        return injector.reset()

    return router
