"""Shared set-up of the dashboard tests: example bots run for real, and a dashboard served.

Two bots post credits with one workflow: a screening check that parks flagged instructions,
a four-eyes approval when a maker is given, a look at a flaky portal (a retried step with a
screenshot as evidence) and a ledger posting. ``ServedDashboard`` runs what ``rpa serve`` runs
(``orchestrator.queue.service.Service``: bots published, embedded runners, uvicorn with the
API and the dashboard) in a background thread, on a free port.
"""

from __future__ import annotations

import asyncio
import re
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from orchestrator.bootstrap import Runtime, build_runtime
from orchestrator.queue.models import ItemStatus
from orchestrator.queue.service import Service
from orchestrator.registry import SkillRegistry
from orchestrator.settings import Settings

WORKFLOW = """
name: post-credit
inputs:
  reference: {type: string}
  amount: {type: decimal, default: "10.00"}
  ok: {type: boolean, default: true}
  maker: {type: string, default: ""}
  flaky: {type: boolean, default: false}
  broken: {type: boolean, default: false}
steps:
  - id: check
    uses: think.require
    with:
      condition: ${{ inputs.ok }}
      message: the instruction was flagged by screening
      code: flagged
  - id: approve
    uses: think.approval
    if: ${{ inputs.maker != '' }}
    with:
      subject: payment ${{ inputs.reference }}
      maker: ${{ inputs.maker }}
      amount: ${{ inputs.amount }}
  - id: screen
    uses: do.test_portal_screen
    retry: {max_attempts: 2, initial_interval: 50ms, max_interval: 100ms}
    with:
      reference: ${{ inputs.reference }}
      flaky: ${{ inputs.flaky }}
      always_fail: ${{ inputs.broken }}
      login: ${{ secrets.portal_password }}
  - id: post
    uses: do.append_record
    idempotency_key: ${{ inputs.reference }}
    with:
      path: ledger.jsonl
      record: {reference: "${{ inputs.reference }}", amount: "${{ inputs.amount }}"}
"""

BOTS = {
    "ledger-bot": {"concurrency": 2, "sla": "30m", "minutes_saved_per_item": 6},
    "rmb-bot": {"concurrency": 2, "sla": "1h", "minutes_saved_per_item": 4},
}

# 20 items: 17 done (2 of them after a retried portal step), 2 waiting for a person, 1 failed
ITEMS: list[tuple[str, str, dict[str, Any]]] = [
    *[("ledger-bot", f"L-{n:02d}", {}) for n in range(1, 11)],
    ("ledger-bot", "L-11", {"ok": False}),
    ("ledger-bot", "L-12", {"maker": "olga", "amount": "2000000"}),
    *[("rmb-bot", f"R-{n:02d}", {}) for n in range(1, 6)],
    ("rmb-bot", "R-06", {"flaky": True}),
    ("rmb-bot", "R-07", {"flaky": True}),
    ("rmb-bot", "R-08", {"broken": True}),
]

PORTAL_SECRET = "Portal-Secret-7f3a91c2"  # given as RPA_SECRET_PORTAL_PASSWORD to the served runners

PASSWORDS = {
    "admin": "admin-password-for-tests",
    "olga": "operator-password-olga",
    "vera": "viewer-password-vera",
}


def write_bots(folder: Path) -> Path:
    """The workflow and the two bot files under ``folder``; returns the bots folder."""
    (folder / "workflows").mkdir(parents=True, exist_ok=True)
    bots = folder / "bots"
    bots.mkdir(parents=True, exist_ok=True)
    (folder / "workflows" / "post_credit.yaml").write_text(textwrap.dedent(WORKFLOW), encoding="utf-8")
    for name, extra in BOTS.items():
        lines = [f"name: {name}", "workflow: ../workflows/post_credit.yaml"]
        lines += [f"{key}: {value}" for key, value in extra.items()]
        (bots / f"{name}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return bots


def registry_with_test_skills() -> SkillRegistry:
    import dash_skills

    registry = SkillRegistry.from_entry_points()
    registry.add_module(dash_skills, plugin="dashboard-tests")
    return registry


def make_runtime(
    folder: Path, db_url: str | None = None, settings_extra: dict[str, Any] | None = None, **dashboard: Any
) -> Runtime:
    settings = Settings(
        home=folder / ".rpa",
        db_url=db_url,
        work_dir=folder,
        lease_seconds=5,
        poll_interval=0.05,
        shutdown_grace=5,
        services={"dashboard": dashboard} if dashboard else {},
        **(settings_extra or {}),
    )
    return build_runtime(settings, registry=registry_with_test_skills())


class ServedDashboard:
    """``Service`` (runners + HTTP) on its own event loop in a thread, on a free port."""

    def __init__(self, runtime: Runtime, bots_dir: Path, runners: int = 2) -> None:
        self.runtime = runtime
        self.service = Service(
            runtime, runners=runners, bots_dir=bots_dir, host="127.0.0.1", port=0, on_ready=self._ready
        )
        self.url = ""
        self._ready_event = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="served-dashboard", daemon=True)

    @property
    def queue(self) -> Any:
        return self.service.queue

    def _ready(self, url: str | None) -> None:
        self.url = url or ""
        self._ready_event.set()

    def _main(self) -> None:
        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await self.service.run(self._stop)

        try:
            asyncio.run(run())
        except BaseException as exc:  # reported by start()/stop()
            self._error = exc
            self._ready_event.set()

    def start(self, timeout: float = 60) -> ServedDashboard:
        self._thread.start()
        if not self._ready_event.wait(timeout) or self._error is not None:
            raise RuntimeError(f"the dashboard did not start: {self._error!r}")
        wait_for(lambda: _health(self.url), timeout, "the HTTP server to answer")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def settled(self) -> bool:
        counts = self.queue.status_counts()
        return not counts.get(ItemStatus.new) and not counts.get(ItemStatus.in_progress)


def _health(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def enqueue_items(queue: Any) -> None:
    for bot, reference, extra in ITEMS:
        queue.enqueue(bot, reference, {"reference": reference, **extra}, source="test", created_by="tests")


def sign_in(base_url: str, user: str, password: str | None = None, **client_options: Any) -> httpx.Client:
    """An HTTP client signed in through the login form (cookie + the page's CSRF token)."""
    client = httpx.Client(base_url=base_url, timeout=30, **client_options)
    page = client.get("/login")
    token = form_token(page.text)
    response = client.post(
        "/login",
        data={"username": user, "password": password or PASSWORDS[user], "csrf_token": token, "next": "/"},
    )
    assert response.status_code == 303, (response.status_code, response.text[:400])
    return client


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def csrf_of(client: httpx.Client) -> str:
    """The session's CSRF token as the pages carry it (meta tag)."""
    match = re.search(r'<meta name="csrf-token" content="([^"]*)"', client.get("/work/manual").text)
    assert match
    return match.group(1)


def here_on_path() -> None:
    folder = str(Path(__file__).parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)


def isolated_app(
    folder: Path,
    *,
    users: bool = True,
    db_url: str | None = None,
    settings_extra: dict[str, Any] | None = None,
    **dashboard: Any,
) -> Any:
    """The real app (API + dashboard) over a fresh store (SQLite unless ``db_url``), without
    runners: (app, runtime)."""
    from orchestrator.api.app import ServiceContext, create_app
    from orchestrator.queue.manual import ManualQueue
    from orchestrator.queue.store import SQLWorkQueue

    runtime = make_runtime(folder, db_url, settings_extra=settings_extra, **dashboard)
    if users:
        add_users(runtime)
    queue = SQLWorkQueue(runtime.store)
    context = ServiceContext(
        runtime=runtime, queue=queue, manual=ManualQueue(runtime.store, queue, runtime.registry)
    )
    return create_app(context), runtime


def client_for(app: Any, base_url: str = "http://testserver") -> Any:
    from fastapi.testclient import TestClient

    return TestClient(app, base_url=base_url, follow_redirects=False)


def sign_in_testclient(client: Any, user: str, password: str | None = None, next_path: str = "/") -> Any:
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": user,
            "password": password or PASSWORDS[user],
            "csrf_token": form_token(page.text),
            "next": next_path,
        },
    )


LOCKOUT_TARGET = ("lena", "operator-password-lena")


def add_users(runtime: Any) -> Any:
    """The test users (admin, operator olga, viewer vera, and an account to lock out)."""
    from orchestrator.api.security import Role
    from orchestrator.dashboard.config import dashboard_settings
    from orchestrator.dashboard.tables import ensure_schema
    from orchestrator.dashboard.users import UserDirectory

    ensure_schema(runtime.store)
    users = UserDirectory(runtime.store, dashboard_settings(runtime.settings))
    users.add("admin", PASSWORDS["admin"], Role.admin, actor="tests")
    users.add("olga", PASSWORDS["olga"], Role.operator, actor="tests")
    users.add("vera", PASSWORDS["vera"], Role.viewer, actor="tests")
    users.add(LOCKOUT_TARGET[0], LOCKOUT_TARGET[1], Role.operator, actor="tests")
    return users
