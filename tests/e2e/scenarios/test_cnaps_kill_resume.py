"""A runner SIGKILLed while it keys payments into the clearing terminal resumes without a duplicate.

``rpa serve`` runs in a subprocess against the workspace's SQLite store (bots published, the
voucher inbox watched, one runner). It is killed twice, each time restarted:

1. while a ``do.terminal.submit_payment`` step is typing a payment (the step is *started*, the
   terminal has nothing yet): after the restart the engine asks the terminal (verify, an
   on-screen lookup), finds nothing, and keys it;
2. the moment the terminal has recorded a payment, before the runner could read the serial
   number back and record the step as done: the lookup finds the payment and the engine adopts
   it instead of keying it again.

Afterwards every voucher is done, the terminal holds each reference exactly once, the journal
has one line per payment and the audit chain verifies.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from examples.platforms.terminal.store import TerminalStore
from examples.scenarios import cnaps
from examples.scenarios.cnaps_run import (
    make_workspace,
    set_call_threshold,
    terminal_on_display,
    write_settings,
)
from orchestrator.enums import StepStatus
from orchestrator.queue.models import ItemStatus
from orchestrator.queue.store import SQLWorkQueue
from orchestrator.store import open_store

pytestmark = pytest.mark.e2e

RPA = str(Path(sys.executable).parent / "rpa")
VOUCHERS = 6
DEADLINE_SECONDS = 600
PROGRAMS = {"Xvfb": "xvfb", "xdotool": "xdotool", "xclip": "xclip", "espeak-ng": "espeak-ng", "sox": "sox"}


def require_programs() -> None:
    for program, package in PROGRAMS.items():
        if shutil.which(program) is None:
            reason = f"skipped because {program} is missing (Debian package {package})"
            if os.environ.get("RPA_REQUIRE_E2E") == "1":
                pytest.fail(reason)
            pytest.skip(reason)


def start_serve(workspace: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **{f"RPA_SECRET_{name.upper()}": value for name, value in cnaps.secrets().items()},
        "RPA_ADMIN_PASSWORD": "kill-test-admin-password",
        "RPA_LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as handle:
        return subprocess.Popen(
            [RPA, "serve", "--runners", "1", "--port", "0"],
            cwd=workspace,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


class Watch:
    """Reads the orchestrator's store and the terminal's store while ``rpa serve`` works."""

    def __init__(self, workspace: Path, terminal_store: Path, log: Path) -> None:
        self.workspace = workspace
        self.log = log
        database = workspace / ".rpa" / "rpa.db"
        deadline = time.monotonic() + 60
        while not database.exists():
            assert time.monotonic() < deadline, f"rpa serve did not create its store:\n{log.read_text()}"
            time.sleep(0.1)
        self.store = open_store(f"sqlite:///{database}")
        self.queue = SQLWorkQueue(self.store)
        self.terminal = TerminalStore(terminal_store)

    def keying_steps(self) -> list[tuple[Any, Any]]:
        """(item, key step) of every voucher whose key step has started and is not done yet."""
        found = []
        for item in self.queue.list_items(bot=cnaps.VOUCHER_BOT, status=ItemStatus.in_progress):
            run = self.store.latest_run_for_item(item.id)  # the item names its run only when it ends
            if run is None:
                continue
            for step in self.store.get_steps(run.id):
                if step.step_id == "key" and step.status in (StepStatus.started, StepStatus.retrying):
                    found.append((item, step))
        return found

    def key_step(self, item: Any) -> Any:
        run = self.store.latest_run_for_item(item.id)
        assert run is not None
        return next(s for s in self.store.get_steps(run.id) if s.step_id == "key")

    def settled(self) -> int:
        counts = self.queue.status_counts(cnaps.VOUCHER_BOT)
        return sum(n for status, n in counts.items() if status.is_final or status is ItemStatus.needs_review)


def wait_until(condition: Any, what: str, log: Path, deadline: float) -> Any:
    while True:
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting until {what}\n{log.read_text()[-3000:]}"
        time.sleep(0.01)


def test_killing_the_runner_while_it_keys_leaves_no_duplicate_on_the_terminal(tmp_path: Path) -> None:
    require_programs()
    workspace = make_workspace(tmp_path / "workspace")
    set_call_threshold(workspace, "100000000.00")  # no confirmation calls: this test is about keying
    cnaps.prepare(
        workspace,
        size=VOUCHERS,
        seed=3,
        noise="clean",
        voucher_defects={},
        call_intents={"confirm": 1.0},
        duplicates=0,
        malformed=0,
    )
    log = tmp_path / "serve.log"
    kills: list[dict[str, Any]] = []
    with terminal_on_display(workspace) as (display, handles):
        write_settings(workspace, cnaps.platform_settings(handles), display, lease_seconds=3)
        deadline = time.monotonic() + DEADLINE_SECONDS
        serve = start_serve(workspace, log)
        try:
            watch = Watch(workspace, handles["terminal"].store_path, log)

            # 1. in the middle of typing: the step has started, the terminal has nothing yet
            item, step = wait_until(
                lambda: next(iter(watch.keying_steps()), None), "a keying starts", log, deadline
            )
            reference = step.params["reference"]
            time.sleep(0.8)
            serve.send_signal(signal.SIGKILL)
            serve.wait(timeout=30)
            kills.append({"moment": "typing", "item": item.id, "reference": reference})
            serve = start_serve(workspace, log)

            # 2. right after the terminal recorded a payment, before the step is recorded done;
            # should the runner win the race and record the step first, try the next payment
            for _ in range(VOUCHERS - 2):
                known = {p.reference for p in watch.terminal.all()}

                def new_payment_in_doubt(known: set[str] = known) -> tuple[Any, str] | None:
                    fresh = [p.reference for p in watch.terminal.all() if p.reference not in known]
                    for candidate, step in watch.keying_steps():
                        if step.params["reference"] in fresh:
                            return candidate, step.params["reference"]
                    return None

                item, reference = wait_until(
                    new_payment_in_doubt, "a payment is on the terminal", log, deadline
                )
                serve.send_signal(signal.SIGKILL)
                serve.wait(timeout=30)
                status = watch.key_step(item).status
                kills.append({"moment": "submitted", "item": item.id, "reference": reference, "step": status})
                serve = start_serve(workspace, log)
                if status is not StepStatus.done:
                    break

            wait_until(lambda: watch.settled() == VOUCHERS, "every voucher settled", log, deadline)
        finally:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
        payments = watch.terminal.all()
        items = {i.id: i for i in watch.queue.list_items(bot=cnaps.VOUCHER_BOT)}
        key_steps = {kill["item"]: watch.key_step(items[kill["item"]]) for kill in kills}
        audit = watch.store.verify_audit()

    per_reference = collections.Counter(p.reference for p in payments)
    print(f"\nkills: {kills}")
    for kill in kills:
        step = key_steps[kill["item"]]
        print(
            f"  {kill['moment']}: {kill['reference']} key step {step.status} attempts={step.attempts} adopted={step.adopted}"
        )
    assert len(items) == VOUCHERS
    assert {i.status for i in items.values()} == {ItemStatus.done}, [
        (i.reference, i.reason) for i in items.values()
    ]
    assert sorted(per_reference.values()) == [1] * VOUCHERS, per_reference
    typing, submitted = kills[0], kills[-1]
    assert typing["reference"] in per_reference
    assert items[typing["item"]].crashes >= 1
    # the payment was on the terminal while its step was not done: the lookup adopted it
    assert submitted["step"] in (StepStatus.started, StepStatus.retrying), kills
    assert key_steps[submitted["item"]].adopted
    journal = [
        json.loads(line) for line in (workspace / cnaps.JOURNAL).read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(line["serial_no"] for line in journal) == sorted(p.serial_no for p in payments)
    assert audit.ok, audit.problems
