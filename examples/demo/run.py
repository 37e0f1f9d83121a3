"""The demo: generate a realistic batch, start the platforms, run the bots unattended, report.

Steps: create a workspace (``--keep DIR`` or a temporary folder) with copies of ``workflows/``,
``bots/`` and ``config/``; each scenario module generates its inputs with ground truth; the
example platforms start (Xvfb for the clearing terminal); ``rpa.yaml`` is written; the
orchestrator (``Service``: bots published, folder watchers, runners, API + dashboard) runs on
the embedded SQLite store with a progress display; when the first wave has settled each
scenario gets its end-of-batch hook (clearing result file, CIPS status reports); then the
scenarios judge the outcome against their ground truth and the summary is printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import secrets
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from examples.scenarios.base import ScenarioReport

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = ("rmb", "cnaps")
SETTLED = ("done", "needs_review", "failed", "rejected")


@dataclass
class DemoOptions:
    size: int = 300
    seed: int = 7
    keep: Path | None = None
    serve: bool = False
    runners: int = 3
    port: int = 0
    scenarios: tuple[str, ...] = SCENARIOS
    timeout: float = 3600.0


@dataclass
class DemoResult:
    workspace: Path
    reports: list[ScenarioReport]
    elapsed: float
    items: int
    fte_hours: float
    manual_by_reason: dict[str, int] = field(default_factory=dict)
    url: str | None = None


def load_scenarios(names: tuple[str, ...]) -> list[ModuleType]:
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(f"examples.scenarios.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"examples.scenarios.{name}":
                raise
    if not modules:
        raise RuntimeError(f"none of the scenarios {', '.join(names)} is installed in examples/scenarios/")
    return modules


def split_size(total: int, modules: list[ModuleType]) -> dict[str, int]:
    """Messages and vouchers 2:1 (the issue's 200 + 100 for the default 300)."""
    weights = {"rmb": 2, "cnaps": 1}
    weight_sum = sum(weights.get(m.NAME, 1) for m in modules)
    return {m.NAME: max(4, round(total * weights.get(m.NAME, 1) / weight_sum)) for m in modules}


def make_workspace(options: DemoOptions) -> Path:
    if options.keep is not None:
        workspace = options.keep.resolve()
        if workspace.exists() and any(workspace.iterdir()):
            raise RuntimeError(f"{workspace} is not empty; --keep needs a new or empty folder")
        workspace.mkdir(parents=True, exist_ok=True)
    else:
        workspace = Path(tempfile.mkdtemp(prefix="rpa-demo-"))
    for folder in ("workflows", "bots", "config", "schema"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, workspace / folder)
    for folder in ("inbox", "outbox", "calls", "platforms"):
        (workspace / folder).mkdir(exist_ok=True)
    return workspace


def write_settings(
    workspace: Path, platforms: dict[str, dict[str, Any]], services: dict[str, Any], runners: int, port: int
) -> Path:
    settings = {
        "home": ".rpa",
        "work_dir": ".",
        "bots_dir": "bots",
        "runners": runners,
        "api_port": port,
        "lease_seconds": 30,
        "poll_interval": 0.2,
        "platforms": platforms,
        "services": services,
    }
    path = workspace / "rpa.yaml"
    path.write_text(
        "# written by rpa demo\n" + yaml.safe_dump(settings, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return path


class _Progress:
    def __init__(self, console: Console, modules: list[ModuleType], expected: dict[str, int]) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<6}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks = {
            m.NAME: self.progress.add_task(m.NAME, total=expected[m.NAME], detail="") for m in modules
        }
        self.modules = modules

    def update(self, queue: Any) -> dict[str, int]:
        settled = {}
        for module in self.modules:
            counts: Counter[str] = Counter()
            for bot in module.BOTS:
                with contextlib.suppress(Exception):
                    for status, n in queue.status_counts(bot).items():
                        counts[status.value] += n
            done = sum(counts[s] for s in SETTLED)
            settled[module.NAME] = done
            detail = " ".join(f"{s}={counts[s]}" for s in ("done", "needs_review", "failed") if counts[s])
            task = self.tasks[module.NAME]
            total = max(self.progress.tasks[task].total or 0, done)
            self.progress.update(task, completed=done, total=total, detail=detail)
        return settled


async def _wait_idle(queue: Any, quiet_seconds: float, timeout: float, tick: Any) -> None:
    """Until no item is new or in progress for ``quiet_seconds`` (the watchers found nothing more)."""
    from orchestrator.queue.models import ItemStatus

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet_since: float | None = None
    while loop.time() < deadline:
        tick()
        counts = queue.status_counts()
        busy = counts.get(ItemStatus.new, 0) + counts.get(ItemStatus.in_progress, 0)
        if busy == 0:
            quiet_since = quiet_since or loop.time()
            if loop.time() - quiet_since >= quiet_seconds:
                return
        else:
            quiet_since = None
        await asyncio.sleep(0.5)
    raise TimeoutError("the demo's items did not settle in time")


def run_demo(options: DemoOptions, console: Console | None = None) -> DemoResult:
    from examples.demo.display import display_env, virtual_display
    from examples.platforms.launch import run_platform
    from orchestrator.bootstrap import build_runtime
    from orchestrator.logsetup import configure_logging
    from orchestrator.queue.service import Service
    from orchestrator.settings import load_settings

    console = console or Console(stderr=True)
    modules = load_scenarios(options.scenarios)
    sizes = split_size(options.size, modules)
    workspace = make_workspace(options)
    console.print(f"workspace: {workspace}", markup=False)
    batches = {}
    for module in modules:
        console.print(
            f"generating {module.NAME}: {sizes[module.NAME]} items (seed {options.seed})", markup=False
        )
        batches[module.NAME] = module.prepare(workspace, size=sizes[module.NAME], seed=options.seed)
    needs_display = any("terminal" in m.PLATFORMS for m in modules)
    admin_password = secrets.token_urlsafe(12)
    with contextlib.ExitStack() as stack:
        services: dict[str, Any] = {}
        if needs_display:
            display = stack.enter_context(virtual_display())
            stack.enter_context(display_env(display))
            services["desktop"] = {"display": display}
        handles: dict[str, Any] = {}
        for name in sorted({p for m in modules for p in m.PLATFORMS}):
            console.print(f"starting platform {name}", markup=False)
            handles[name] = stack.enter_context(run_platform(name, data_dir=workspace / "platforms" / name))
        platforms: dict[str, dict[str, Any]] = {}
        for module in modules:
            platforms.update(module.platform_settings({p: handles[p] for p in module.PLATFORMS}))
            for secret_name, value in module.secrets().items():
                os.environ[f"RPA_SECRET_{secret_name.upper()}"] = value
        os.environ.setdefault("RPA_ADMIN_PASSWORD", admin_password)
        config = write_settings(workspace, platforms, services, options.runners, options.port)
        previous_cwd = Path.cwd()
        os.chdir(workspace)
        stack.callback(os.chdir, previous_cwd)
        settings = load_settings(config)
        configure_logging("WARNING", file=str(workspace / ".rpa" / "demo.log"))
        runtime = build_runtime(settings)
        service = Service(
            runtime,
            runners=options.runners,
            bots_dir=workspace / "bots",
            serve_http=True,
            host="127.0.0.1",
            port=options.port,
        )
        result = asyncio.run(_drive(service, modules, batches, handles, options, console, workspace))
        asyncio.run(runtime.aclose())
        if options.serve:
            result.url = service.url
    return result


async def _drive(
    service: Any,
    modules: list[ModuleType],
    batches: dict[str, Any],
    handles: dict[str, Any],
    options: DemoOptions,
    console: Console,
    workspace: Path,
) -> DemoResult:
    from orchestrator.queue.service import install_stop_signals

    stop = asyncio.Event()
    install_stop_signals(stop)
    started = time.monotonic()
    task = asyncio.create_task(service.run(stop))
    while service.url is None and not task.done():
        await asyncio.sleep(0.05)
    if task.done():
        task.result()  # start-up failed: raise its error
    console.print(
        f"orchestrator running with {options.runners} runner(s); dashboard {service.url}", markup=False
    )
    queue = service.queue
    for batch in batches.values():
        for bot, reference, inputs in batch.api_items:
            queue.enqueue(bot, reference, inputs, source="api", created_by="demo-maker")
    expected = {m.NAME: batches[m.NAME].expected_items for m in modules}
    view = _Progress(console, modules, expected)
    loop = asyncio.get_running_loop()
    with view.progress:
        deadline = loop.time() + options.timeout
        while True:
            if stop.is_set():
                raise KeyboardInterrupt
            settled = view.update(queue)
            if all(settled[name] >= expected[name] for name in expected):
                break
            if task.done():
                task.result()
                raise RuntimeError("the orchestrator stopped before the batch settled")
            if loop.time() > deadline:
                raise TimeoutError("the demo's first wave did not settle in time")
            await asyncio.sleep(0.5)
        for module in modules:
            module.after_main_batch(workspace, {p: handles[p] for p in module.PLATFORMS}, queue)
        await _wait_idle(queue, quiet_seconds=6.0, timeout=options.timeout, tick=lambda: view.update(queue))
    elapsed = time.monotonic() - started
    reports = [
        m.evaluate(workspace, {p: handles[p] for p in m.PLATFORMS}, service.runtime.store, queue)
        for m in modules
    ]
    manual = Counter(
        i.reason_code or "unknown"
        for i in queue.list_items(limit=100_000)
        if i.status.value == "needs_review"
    )
    fte_minutes = 0.0
    for bot in queue.list_bots():
        done = queue.status_counts(bot.name).get(_done(), 0)
        fte_minutes += float(bot.spec.get("minutes_saved_per_item") or 0) * done
    items = sum(r.items for r in reports)
    result = DemoResult(
        workspace=workspace,
        reports=reports,
        elapsed=elapsed,
        items=items,
        fte_hours=fte_minutes / 60,
        manual_by_reason=dict(manual),
        url=service.url,
    )
    print_summary(result, console)
    if options.serve:
        console.print(
            f"\ndashboard: {service.url}  (user admin, password {os.environ.get('RPA_ADMIN_PASSWORD')})"
            "  — Ctrl-C to stop",
            markup=False,
        )
        await stop.wait()
    stop.set()
    await task
    return result


def _done() -> Any:
    from orchestrator.queue.models import ItemStatus

    return ItemStatus.done


def print_summary(result: DemoResult, console: Console) -> None:
    # a table of nine columns needs more than the 80 columns rich assumes when writing to a file
    console = Console(file=console.file, width=max(console.width, 110), highlight=False)
    table = Table(
        title="Digital Employee demo",
        header_style="bold",
        caption="STP: done without a person; clean STP: clean items that went straight through; "
        "caught: defective items stopped before anything was posted (a reason other than the expected one is "
        "listed below); wrong: postings that should not exist",
    )
    for column in ("scenario", "items", "done", "STP", "manual", "failed", "clean STP", "caught", "wrong"):
        table.add_column(column, justify="left" if column == "scenario" else "right", no_wrap=True)
    for r in result.reports:
        stp = f"{r.straight_through} {100 * r.straight_through / r.items:.0f}%" if r.items else "0"
        table.add_row(
            r.name,
            str(r.items),
            str(r.done),
            stp,
            str(r.needs_review),
            str(r.failed),
            f"{r.clean_straight_through}/{r.clean_total}",
            f"{r.defects_caught}/{r.defects_total}",
            str(r.wrong_postings),
        )
    console.print(table)
    if result.manual_by_reason:
        console.print(
            "manual queue by reason: "
            + ", ".join(f"{k}={v}" for k, v in sorted(result.manual_by_reason.items())),
            markup=False,
        )
    per_minute = result.items / (result.elapsed / 60) if result.elapsed else 0
    console.print(
        f"elapsed {result.elapsed:.0f}s, {per_minute:.1f} items/min, "
        f"FTE hours saved {result.fte_hours:.1f} (minutes_saved_per_item x done items / 60)",
        markup=False,
    )
    for r in result.reports:
        for note in r.notes:
            console.print(f"  {r.name}: {note}", markup=False)
