"""Run the RMB scenario end to end the way ``rpa demo`` does, for tests and measurements.

``run_rmb(workspace, size=..., seed=...)`` copies ``workflows/``, ``config/`` and the RMB bots into
``workspace``, calls ``rmb.prepare``, starts the portal and the reporting platform, runs the
orchestrator's ``Service`` (bots published, folder watchers, runners) in-process on a SQLite store,
enqueues the outbound instructions, waits for the first wave, calls ``after_main_batch``, waits
until the queue is quiet and calls ``evaluate``. It returns the report with the figures the
scenario's documentation records (items per minute, time per skill).

``python -m examples.scenarios.rmb_run --size 200 --seed 7 --runners 3`` prints them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from examples.scenarios import rmb
from examples.scenarios.base import ScenarioBatch, ScenarioReport

REPO = Path(__file__).resolve().parents[2]


@dataclass
class RmbRun:
    """What one end-to-end run produced."""

    workspace: Path
    batch: ScenarioBatch
    report: ScenarioReport
    elapsed: float  # seconds from the start of the orchestrator until the queue was quiet
    first_wave: float  # seconds until the first wave had settled
    items: int
    time_by_skill: dict[str, float] = field(default_factory=dict)
    platform_faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    store: Any = None
    queue: Any = None

    @property
    def items_per_minute(self) -> float:
        return self.items / (self.elapsed / 60) if self.elapsed else 0.0


def make_workspace(workspace: Path) -> Path:
    workspace.mkdir(parents=True, exist_ok=True)
    for folder in ("workflows", "config"):
        shutil.copytree(REPO / folder, workspace / folder, dirs_exist_ok=True)
    (workspace / "bots").mkdir(exist_ok=True)
    for bot in rmb.BOTS:  # only this scenario's bots: the other scenario's watchers stay out
        shutil.copy2(REPO / "bots" / f"{bot}.yaml", workspace / "bots" / f"{bot}.yaml")
    return workspace


def run_rmb(
    workspace: Path,
    *,
    size: int,
    seed: int,
    runners: int = 2,
    timeout: float = 900.0,
    quiet_seconds: float = 4.0,
    keep_open: bool = False,
    platform_options: dict[str, dict[str, Any]] | None = None,
    **prepare_options: Any,
) -> RmbRun:
    """Run the scenario in ``workspace`` (a new or empty folder) and judge it.

    ``prepare_options`` go to ``rmb.prepare`` (outbound=, inbound_defects=, ...);
    ``platform_options`` to ``run_platform`` per platform (e.g. fault injection:
    ``{"portal": {"fail_rate": 0.1, "fail_phase": "after"}}``). With ``keep_open`` the store
    stays open for the caller (``run.store``; close it with ``run.store.close()``).
    """
    from examples.platforms.launch import run_platform
    from orchestrator.bootstrap import build_runtime
    from orchestrator.queue.service import Service
    from orchestrator.secrets import ChainedSecretSource, EnvSecretSource
    from orchestrator.settings import Settings

    make_workspace(workspace)
    batch = rmb.prepare(workspace, size=size, seed=seed, **prepare_options)
    with contextlib.ExitStack() as stack:
        handles = {
            name: stack.enter_context(
                run_platform(
                    name, data_dir=workspace / "platforms" / name, **(platform_options or {}).get(name, {})
                )
            )
            for name in rmb.PLATFORMS
        }
        settings = Settings(
            home=workspace / ".rpa",
            work_dir=workspace,
            runners=runners,
            lease_seconds=30,
            poll_interval=0.2,
            platforms=rmb.platform_settings(handles),
        )
        runtime = build_runtime(settings)
        secrets = {f"RPA_SECRET_{k.upper()}": v for k, v in rmb.secrets().items()}
        runtime.secrets = ChainedSecretSource(EnvSecretSource(secrets), runtime.secrets)
        service = Service(runtime, runners=runners, serve_http=False, bots_dir=workspace / "bots")
        try:
            run = asyncio.run(_drive(service, workspace, batch, handles, timeout, quiet_seconds))
        finally:
            rmb.stop_responder(workspace)
            asyncio.run(runtime.services.aclose())
            if not keep_open:
                runtime.store.close()
        run.store, run.queue = runtime.store, service.queue
        run.platform_faults = {name: _faults(handle.base_url) for name, handle in handles.items()}
    return run


def _faults(base_url: str) -> dict[str, Any]:
    """The platform's fault-injection counters (``GET /_faults``)."""
    import httpx

    return httpx.get(f"{base_url}/_faults", timeout=10).json()


async def _drive(
    service: Any, workspace: Path, batch: ScenarioBatch, handles: dict[str, Any], timeout: float, quiet: float
) -> RmbRun:
    from orchestrator.queue.models import ItemStatus

    stop = asyncio.Event()
    started = time.monotonic()
    task = asyncio.create_task(service.run(stop))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while not service.bots and not task.done():
            await asyncio.sleep(0.05)
        queue = service.queue
        for bot, reference, inputs in batch.api_items:
            queue.enqueue(bot, reference, inputs, source="api", created_by="rmb-run")
        settled_statuses = (ItemStatus.done, ItemStatus.needs_review, ItemStatus.failed, ItemStatus.rejected)
        while True:
            settled = sum(queue.status_counts(bot).get(s, 0) for bot in rmb.BOTS for s in settled_statuses)
            if settled >= batch.expected_items:
                break
            _check_alive(task, loop, deadline, "the first wave did not settle")
            await asyncio.sleep(0.2)
        first_wave = time.monotonic() - started
        rmb.after_main_batch(workspace, handles, queue)
        quiet_since = None
        last_busy = time.monotonic()
        while True:
            counts = queue.status_counts()
            busy = counts.get(ItemStatus.new, 0) + counts.get(ItemStatus.in_progress, 0)
            now = loop.time()
            if busy:
                quiet_since, last_busy = None, time.monotonic()
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= quiet:
                break
            _check_alive(task, loop, deadline, "the queue did not become quiet")
            await asyncio.sleep(0.2)
        elapsed = last_busy - started
        report = rmb.evaluate(workspace, handles, service.runtime.store, queue)
        every = [i for bot in rmb.BOTS for i in queue.list_items(bot=bot, limit=100_000)]
        from examples.scenarios.rmb_evaluate import time_by_skill

        spent = time_by_skill(service.runtime.store, every)
    finally:
        stop.set()
        await task
    return RmbRun(workspace, batch, report, elapsed, first_wave, len(every), spent)


def _check_alive(
    task: asyncio.Task[Any], loop: asyncio.AbstractEventLoop, deadline: float, what: str
) -> None:
    if task.done():
        task.result()
        raise RuntimeError("the orchestrator stopped on its own")
    if loop.time() > deadline:
        raise TimeoutError(what)


def describe(run: RmbRun) -> str:
    """The figures of a run as text (what docs/scenarios/rmb.md records)."""
    r = run.report
    total_ms = sum(run.time_by_skill.values()) or 1.0
    lines = [
        f"items {r.items}: done {r.done}, straight-through {r.straight_through}, manual {r.needs_review}, failed {r.failed}",
        f"clean straight-through {r.clean_straight_through}/{r.clean_total}, defects caught {r.defects_caught}/{r.defects_total}, wrong postings {r.wrong_postings}",
        f"manual queue by reason: {', '.join(f'{k}={v}' for k, v in sorted(r.manual_by_reason.items()))}",
        f"elapsed {run.elapsed:.1f}s (first wave {run.first_wave:.1f}s), {run.items_per_minute:.1f} items/min",
        "time by skill (share of step durations):",
        *(
            f"  {skill:28} {ms / 1000:8.1f}s {100 * ms / total_ms:5.1f}%"
            for skill, ms in run.time_by_skill.items()
        ),
        *(f"note: {n}" for n in r.notes),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.scenarios.rmb_run", description=__doc__)
    parser.add_argument("--size", type=int, default=200, help="inbound messages (outbound: size/10)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runners", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="workspace folder to keep (default: a temporary one)")
    args = parser.parse_args(argv)
    workspace = args.keep or Path(tempfile.mkdtemp(prefix="rmb-run-"))
    run = run_rmb(workspace, size=args.size, seed=args.seed, runners=args.runners)
    print(f"workspace {workspace}")
    print(describe(run))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
