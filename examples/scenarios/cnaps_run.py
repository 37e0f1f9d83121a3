"""Run the CNAPS scenario end to end the way ``rpa demo`` does, for the e2e tests and the figures.

A workspace with copies of ``workflows/``, ``bots/`` and ``config/``; the batch from
``cnaps.prepare``; a private Xvfb with the clearing terminal; ``rpa.yaml``; the orchestrator's
``Service`` in this process (bots published, folder watchers, runners); ``after_main_batch``
once every voucher has settled; ``evaluate`` once the reconciliation has settled. Prints the
scenario report, the throughput and where the time goes (step durations per skill)::

    .venv/bin/python -m examples.scenarios.cnaps_run --size 100 --seed 7 [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from examples.scenarios import cnaps
from examples.scenarios.base import ScenarioBatch, ScenarioReport

REPO = Path(__file__).resolve().parents[2]
SETTLED = ("done", "needs_review", "failed", "rejected")


@dataclass
class SkillTime:
    steps: int = 0
    milliseconds: float = 0.0


@dataclass
class ScenarioRun:
    """What a run produced: the batch, the judged report and the timings."""

    workspace: Path
    batch: ScenarioBatch
    report: ScenarioReport
    voucher_seconds: float  # first voucher started -> last voucher finished
    vouchers: int
    by_skill: dict[str, SkillTime] = field(default_factory=dict)

    @property
    def vouchers_per_minute(self) -> float:
        return self.vouchers / (self.voucher_seconds / 60) if self.voucher_seconds else 0.0


def make_workspace(folder: Path) -> Path:
    """A new workspace laid out as ``rpa demo`` lays it out, with only this scenario's bots."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise RuntimeError(f"{folder} is not empty; a workspace needs a new or empty folder")
    for name in ("workflows", "config", "schema"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, folder / name)
    (folder / "bots").mkdir()
    for bot in cnaps.BOTS:  # only this scenario's bots: the other scenario's are not published here
        shutil.copy2(REPO / "bots" / f"{bot}.yaml", folder / "bots" / f"{bot}.yaml")
    for name in ("inbox", "outbox", "calls", "platforms"):
        (folder / name).mkdir(exist_ok=True)
    return folder.resolve()


def write_settings(
    workspace: Path, platforms: dict[str, Any], display: str, *, lease_seconds: float = 30
) -> Path:
    """``rpa.yaml`` of the workspace (absolute paths, so a worker started anywhere finds everything)."""
    settings = {
        "home": str(workspace / ".rpa"),
        "work_dir": str(workspace),
        "bots_dir": str(workspace / "bots"),
        "runners": 1,
        "api_port": 0,
        "lease_seconds": lease_seconds,
        "poll_interval": 0.2,
        "platforms": platforms,
        "services": {"desktop": {"display": display}},
    }
    path = workspace / "rpa.yaml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@contextlib.contextmanager
def terminal_on_display(workspace: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """A private Xvfb and the clearing terminal on it (data in ``platforms/terminal``)."""
    from examples.demo.display import virtual_display
    from examples.platforms.launch import run_platform

    with (
        virtual_display() as display,
        run_platform("terminal", data_dir=workspace / "platforms" / "terminal", display=display) as terminal,
    ):
        yield display, {"terminal": terminal}


@contextlib.contextmanager
def secrets_in_environment() -> Iterator[None]:
    names = {f"RPA_SECRET_{name.upper()}": value for name, value in cnaps.secrets().items()}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def settled_count(queue: Any, bot: str) -> int:
    counts = queue.status_counts(bot)
    return sum(n for status, n in counts.items() if status.value in SETTLED)


async def drive(
    service: Any, workspace: Path, handles: dict[str, Any], expected: int, timeout: float
) -> None:
    """Run the service until the vouchers settled, drop the result file, wait for the reconciliation."""
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        for bot, wanted in ((cnaps.VOUCHER_BOT, expected), (cnaps.RECON_BOT, 1)):
            while settled_count(service.queue, bot) < wanted:
                if task.done():
                    task.result()
                    raise RuntimeError("the orchestrator stopped before the batch settled")
                if loop.time() > deadline:
                    raise TimeoutError(
                        f"{bot}: {settled_count(service.queue, bot)} of {wanted} items settled"
                    )
                await asyncio.sleep(0.3)
            if bot == cnaps.VOUCHER_BOT:
                cnaps.after_main_batch(workspace, handles, service.queue)
    finally:
        stop.set()
        await task


def skill_times(store: Any, items: list[Any]) -> dict[str, SkillTime]:
    """Step durations per skill over the runs of ``items`` (from the store's step rows)."""
    return {skill: SkillTime(steps, ms) for skill, (steps, ms) in cnaps.time_by_skill(store, items).items()}


def set_call_threshold(workspace: Path, amount: str) -> None:
    """Change ``call_above`` in the workspace's copy of the vouchers bot (what an operator would do)."""
    bot = workspace / "bots" / f"{cnaps.VOUCHER_BOT}.yaml"
    text = bot.read_text(encoding="utf-8")
    changed = re.sub(r'(?m)^(\s*call_above:\s*)"[^"]*"', rf'\g<1>"{amount}"', text)
    if changed == text and f'"{amount}"' not in text:
        raise RuntimeError(f"{bot} has no call_above input to change")
    bot.write_text(changed, encoding="utf-8")


def run_scenario(
    workspace: Path,
    *,
    size: int,
    seed: int,
    timeout: float = 3600,
    call_above: str | None = None,
    **prepare_options: Any,
) -> ScenarioRun:
    """Prepare, run and judge the scenario in ``workspace`` (a new or empty folder).

    ``call_above`` changes the vouchers bot's call threshold in the workspace first.
    """
    from orchestrator.bootstrap import build_runtime
    from orchestrator.queue.service import Service
    from orchestrator.settings import load_settings

    workspace = make_workspace(workspace)
    if call_above is not None:
        set_call_threshold(workspace, call_above)
    batch = cnaps.prepare(workspace, size=size, seed=seed, **prepare_options)
    with terminal_on_display(workspace) as (display, handles), secrets_in_environment():
        config = write_settings(workspace, cnaps.platform_settings(handles), display)
        runtime = build_runtime(load_settings(config))
        try:
            service = Service(runtime, runners=1, serve_http=False, bots_dir=workspace / "bots")
            asyncio.run(drive(service, workspace, handles, batch.expected_items, timeout))
            report = cnaps.evaluate(workspace, handles, runtime.store, service.queue)
            vouchers = service.queue.list_items(bot=cnaps.VOUCHER_BOT, limit=100_000)
            started = [i.started_at for i in vouchers if i.started_at]
            finished = [i.finished_at for i in vouchers if i.finished_at]
            seconds = (max(finished) - min(started)).total_seconds() if started and finished else 0.0
            return ScenarioRun(
                workspace=workspace,
                batch=batch,
                report=report,
                voucher_seconds=seconds,
                vouchers=len(vouchers),
                by_skill=skill_times(runtime.store, vouchers),
            )
        finally:
            asyncio.run(runtime.aclose())


def describe(run: ScenarioRun) -> str:
    """The report, throughput and per-skill time shares as text."""
    r = run.report
    lines = [
        f"items {r.items}: done {r.done} (straight through {r.straight_through}), "
        f"needs_review {r.needs_review}, failed {r.failed}",
        f"clean vouchers straight through: {r.clean_straight_through}/{r.clean_total}; "
        f"defects caught: {r.defects_caught}/{r.defects_total}; wrong postings: {r.wrong_postings}",
        "manual queue by reason: " + ", ".join(f"{k}={v}" for k, v in sorted(r.manual_by_reason.items())),
        f"vouchers: {run.vouchers} in {run.voucher_seconds:.0f} s = {run.vouchers_per_minute:.1f} per minute "
        "(first voucher started to last finished, one terminal)",
    ]
    total = sum(t.milliseconds for t in run.by_skill.values()) or 1.0
    if run.voucher_seconds:
        lines.append(
            f"skills busy {total / 1000:.0f} s of those {run.voucher_seconds:.0f} s "
            f"(ratio {total / 1000 / run.voucher_seconds:.2f}; the rest is the orchestrator: claims, "
            "checkpoints, audit, the inbox watcher)"
        )
    lines.append("where the time goes (step durations of the voucher runs):")
    for skill_id, t in run.by_skill.items():
        lines.append(
            f"  {skill_id:<28} {100 * t.milliseconds / total:5.1f} %  {t.steps:4d} steps  "
            f"{t.milliseconds / t.steps / 1000:6.2f} s/step"
        )
    lines += [f"note: {note}" for note in r.notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m examples.scenarios.cnaps_run", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--size", type=int, default=100, help="voucher files (default 100)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--keep", type=Path, default=None, help="workspace folder to keep (new or empty)")
    parser.add_argument("--noise", choices=("clean", "noisy"), default=cnaps.NOISE, help="scan quality")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before giving up")
    args = parser.parse_args(argv)
    from orchestrator.logsetup import configure_logging

    workspace = args.keep or Path(tempfile.mkdtemp(prefix="rpa-cnaps-"))
    configure_logging("WARNING")
    started = time.monotonic()
    try:
        run = run_scenario(workspace, size=args.size, seed=args.seed, timeout=args.timeout, noise=args.noise)
    except (RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"workspace: {run.workspace} (seed {args.seed}, {args.size} vouchers, {args.noise})")
    print(describe(run))
    print(f"wall time including generation and start-up: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
