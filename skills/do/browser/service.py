"""The ``browser`` service: one Playwright + one Chromium per event loop, one signed-in context per platform.

Playwright's async objects belong to the event loop that created them, so nothing is started
when the factory runs: the first skill call starts Playwright and Chromium inside the loop it
runs on. Each platform gets one browser context (its cookies are the platform session) holding
a small pool of pages, so concurrent steps on one platform share the sign-in without sharing a
page. A context is signed in lazily: the first navigation lands on the login page, which the
skills treat exactly like an expired session (sign in, then retry once).

Settings (the ``browser`` key of the mapping handed to the factory)::

    browser:
      executable_path: /usr/bin/chromium   # Debian's Chromium; `playwright install` is never needed
      headless: true
      extra_args: []
      viewport: {width: 1280, height: 900}
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skills import ResourceUnavailable, service
from skills.do.browser.config import BrowserPlatformConfig

if TYPE_CHECKING:  # playwright is imported lazily: `rpa validate` must not need it
    from playwright.async_api import Browser, BrowserContext, Page, Playwright

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-default-browser-check",
)


@dataclass(frozen=True)
class BrowserOptions:
    """How Chromium is launched."""

    executable_path: str = "/usr/bin/chromium"
    headless: bool = True
    extra_args: tuple[str, ...] = ()
    viewport_width: int = 1280
    viewport_height: int = 900

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> BrowserOptions:
        section = dict(settings.get("browser") or {})
        viewport = dict(section.get("viewport") or {})
        return cls(
            executable_path=str(section.get("executable_path", cls.executable_path)),
            headless=bool(section.get("headless", True)),
            extra_args=tuple(section.get("extra_args") or ()),
            viewport_width=int(viewport.get("width", cls.viewport_width)),
            viewport_height=int(viewport.get("height", cls.viewport_height)),
        )


class PlatformSession:
    """One platform's browser context: its cookies are the sign-in, its pages are pooled."""

    def __init__(self, name: str, config: BrowserPlatformConfig, context: BrowserContext) -> None:
        self.name = name
        self.config = config
        self.context = context
        self.login_lock = asyncio.Lock()
        self.logins = 0  # how many times this context signed in (first sign-in and re-logins)
        self._idle_pages: list[Page] = []

    @contextlib.asynccontextmanager
    async def page(self) -> AsyncIterator[Page]:
        """Borrow a page of this context for one action; it returns to the pool afterwards."""
        page = None
        while self._idle_pages and page is None:
            candidate = self._idle_pages.pop()
            page = None if candidate.is_closed() else candidate
        if page is None:
            page = await self.context.new_page()
            page.set_default_timeout(self.config.timeout_seconds * 1000)
            page.set_default_navigation_timeout(self.config.navigation_timeout_seconds * 1000)
        try:
            yield page
        finally:
            if not page.is_closed():
                self._idle_pages.append(page)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.context.close()


@dataclass
class _LoopRuntime:
    """Playwright, Chromium and the platform sessions that live on one event loop."""

    playwright: Playwright
    browser: Browser
    sessions: dict[str, PlatformSession] = field(default_factory=dict)
    session_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class BrowserService:
    """Hands out platform sessions; see the module docstring."""

    def __init__(self, options: BrowserOptions) -> None:
        self.options = options
        self._runtimes: dict[asyncio.AbstractEventLoop, _LoopRuntime] = {}
        self._start_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    async def session(self, name: str, config: BrowserPlatformConfig) -> PlatformSession:
        """The platform's session, creating its context on first use or when its config changed."""
        runtime = await self._runtime()
        async with runtime.session_lock:
            current = runtime.sessions.get(name)
            if current is not None and current.config == config:
                return current
            if current is not None:
                await current.close()
            context = await runtime.browser.new_context(
                base_url=config.base_url,
                viewport={"width": self.options.viewport_width, "height": self.options.viewport_height},
            )
            created = PlatformSession(name, config, context)
            runtime.sessions[name] = created
            return created

    def open_session(self, name: str) -> PlatformSession | None:
        """The platform's session on the running loop, if one was created (for tests and metrics)."""
        runtime = self._runtimes.get(asyncio.get_running_loop())
        return None if runtime is None else runtime.sessions.get(name)

    async def drop_session(self, name: str) -> None:
        """Forget a platform's context (its next use signs in on a fresh one)."""
        runtime = self._runtimes.get(asyncio.get_running_loop())
        if runtime is not None and (session := runtime.sessions.pop(name, None)) is not None:
            await session.close()

    async def _runtime(self) -> _LoopRuntime:
        loop = asyncio.get_running_loop()
        # A closed loop's Playwright driver already exited with it (its pipe closed); forget it.
        for stale in [other for other in self._runtimes if other.is_closed()]:
            del self._runtimes[stale]
            self._start_locks.pop(stale, None)
        lock = self._start_locks.setdefault(loop, asyncio.Lock())
        async with lock:
            runtime = self._runtimes.get(loop)
            if runtime is not None and runtime.browser.is_connected():
                return runtime
            if runtime is not None:  # Chromium crashed or was closed: start over
                await self._stop(runtime)
            runtime = await self._start()
            self._runtimes[loop] = runtime
            return runtime

    async def _start(self) -> _LoopRuntime:
        if not Path(self.options.executable_path).exists():
            raise ResourceUnavailable(
                f"Chromium was expected at {self.options.executable_path} (settings browser.executable_path)"
                " but that file does not exist; install Debian's 'chromium' package"
            )
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import async_playwright

        playwright = await async_playwright().start()
        try:
            browser = await playwright.chromium.launch(
                executable_path=self.options.executable_path,
                headless=self.options.headless,
                args=[*CHROMIUM_ARGS, *self.options.extra_args],
            )
        except PlaywrightError as exc:
            await playwright.stop()
            raise ResourceUnavailable(
                f"Chromium at {self.options.executable_path} did not start: {exc.message}"
            ) from exc
        return _LoopRuntime(playwright=playwright, browser=browser)

    @staticmethod
    async def _stop(runtime: _LoopRuntime) -> None:
        for session in runtime.sessions.values():
            await session.close()
        with contextlib.suppress(Exception):
            await runtime.browser.close()
        with contextlib.suppress(Exception):
            await runtime.playwright.stop()

    async def aclose(self) -> None:
        """Close every session, Chromium and Playwright (called at shutdown).

        Those of the current loop are closed here; those of another loop still running (a
        worker thread) are closed on that loop; a closed loop's browser already exited with it.
        """
        current = asyncio.get_running_loop()
        runtimes, self._runtimes = self._runtimes, {}
        self._start_locks.clear()
        for loop, runtime in runtimes.items():
            if loop is current:
                await self._stop(runtime)
            elif loop.is_running():
                stopping = asyncio.run_coroutine_threadsafe(self._stop(runtime), loop)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.wrap_future(stopping), timeout=30)


@service("browser")
def browser_service(settings: Mapping[str, Any]) -> BrowserService:
    """The per-process browser service (nothing starts until a skill uses it)."""
    return BrowserService(BrowserOptions.from_settings(settings))
