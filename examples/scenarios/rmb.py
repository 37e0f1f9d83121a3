"""Scenario 1, cross-border RMB: inbound MT103/pacs.008 credits, outbound payments, CIPS statuses.

The contract with ``rpa demo`` is in ``base.py``. What this scenario does (docs/scenarios/rmb.md):

* ``prepare`` writes ``size`` inbound messages (half MT103, half CIPS pacs.008, about 20 % with
  one defect, 2 % dropped a second time) into ``inbox/rmb-inbound`` and returns about
  ``size / 10`` outbound customer instructions to enqueue for ``rmb-outbound``; the ground truth
  goes to ``.rmb/truth.json`` in the workspace;
* ``after_main_batch`` plays the two parties the bank waits for once the first wave settled: a
  second person (user ``checker``) approves the outbound payments parked for four-eyes approval,
  and CIPS answers every pacs.008 sent with a pacs.002 (``examples/cips``) into
  ``inbox/rmb-status`` — now for the ones already sent, then in a background thread for the
  approved ones as the runners send them;
* ``evaluate`` compares the outcome with the ground truth, reading the portal's credits and the
  reporting platform's reports through their own APIs, the outbox files and the queue.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from examples.scenarios.base import GroundTruth, ScenarioBatch, ScenarioReport

NAME = "rmb"
BOTS = ["rmb-inbound", "rmb-outbound", "rmb-status"]
PLATFORMS = ["portal", "reporting"]
INBOUND_BOT, OUTBOUND_BOT, STATUS_BOT = BOTS
APPROVER = "checker"
STATE_DIR = ".rmb"
INBOUND_INBOX = "inbox/rmb-inbound"
STATUS_INBOX = "inbox/rmb-status"
PACS008_OUTBOX = "outbox/pacs008"
PACS002_OUTBOX = "outbox/pacs002"
STATUS_LOG = "outbox/outbound-status.jsonl"
PORTAL_USER = ("bot", "bot-password")  # the example portal's default robot user
PORTAL_SECRET = "portal_password"  # the name of the secret, not a password  # nosec B105
RESPONDER_TIMEOUT = 900.0

_responders: dict[Path, tuple[threading.Thread, threading.Event]] = {}


def platform_settings(handles: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The portal (browser sign-in as the robot user) and the reporting platform (JSON API)."""
    return {
        "portal": {
            "base_url": handles["portal"].base_url,
            "login": {"path": "/login", "username": PORTAL_USER[0], "password_secret": PORTAL_SECRET},
        },
        "reporting": {"base_url": handles["reporting"].base_url},
    }


def secrets() -> dict[str, str]:
    return {PORTAL_SECRET: PORTAL_USER[1]}


def prepare(
    workspace: Path,
    *,
    size: int,
    seed: int,
    outbound: int | None = None,
    inbound_defects: dict[str, int] | None = None,
    outbound_defects: dict[str, int] | None = None,
    four_eyes: int | None = None,
    rejections: int | None = None,
    duplicates: int | None = None,
    value_date: date | None = None,
) -> ScenarioBatch:
    """Write the inbound files, return the outbound instructions, keep the ground truth.

    ``size`` is the number of distinct inbound messages (work items); the keyword options after
    it let tests choose the mix (defaults: ``generate_inbound`` / ``generate_outbound``).
    """
    from examples.messages.inbound import generate_inbound
    from examples.messages.outbound import generate_outbound

    messages = generate_inbound(
        size, seed, defect_counts=inbound_defects, duplicates=duplicates, value_date=value_date
    )
    instructions = generate_outbound(
        max(2, round(size / 10)) if outbound is None else outbound,
        seed,
        four_eyes=four_eyes,
        defect_counts=outbound_defects,
        rejections=rejections,
        value_date=value_date,
    )
    inbox = workspace / INBOUND_INBOX
    inbox.mkdir(parents=True, exist_ok=True)
    (workspace / STATUS_INBOX).mkdir(parents=True, exist_ok=True)
    arrived = time.time() - 120
    for message in messages:
        path = inbox / message.file_name
        path.write_bytes(message.content)
        # a resent copy arrives after its original, so the original is the one processed
        stamp = arrived + (60 if message.duplicate_of else 0)
        os.utime(path, (stamp, stamp))
    truth = {
        "seed": seed,
        "inbound": [m.truth() for m in messages],
        "outbound": [i.truth() for i in instructions],
    }
    state = workspace / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    (state / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False), encoding="utf-8")
    truths = [
        GroundTruth(
            reference=m.sha256,
            bot=INBOUND_BOT,
            clean=m.defect is None,
            defect=m.defect,
            expected_reason_code=m.expected_reason_code,
            amount=m.amount,
            account=m.creditor_account,
        )
        for m in messages
    ] + [
        GroundTruth(
            reference=i.reference,
            bot=OUTBOUND_BOT,
            clean=i.defect is None,
            defect=i.defect,
            expected_reason_code=i.expected_reason_code,
            amount=i.amount,
            account=str(i.inputs["creditor_account"]),
        )
        for i in instructions
    ]
    return ScenarioBatch(
        truths=truths,
        api_items=[(OUTBOUND_BOT, i.reference, i.inputs) for i in instructions],
        expected_items=sum(1 for m in messages if not m.duplicate_of) + len(instructions),
    )


def load_truth(workspace: Path) -> dict[str, Any]:
    path = workspace / STATE_DIR / "truth.json"
    if not path.is_file():
        raise FileNotFoundError(f"no RMB ground truth at {path}: run prepare() on this workspace first")
    return json.loads(path.read_text(encoding="utf-8"))


def cips_plan(truth: dict[str, Any]) -> dict[str, str]:
    """Original message id -> how CIPS answers it (ACSC, or the reason code of a rejection)."""
    return {o["reference"]: o["cips_answer"] for o in truth["outbound"] if o["cips_answer"]}


def after_main_batch(workspace: Path, handles: dict[str, Any], queue: Any) -> None:
    """Approve the four-eyes payments as ``checker``; let CIPS answer what was and will be sent.

    Called from the demo's event loop: nothing here waits for the runners. The payments approved
    now are sent by the runners afterwards, and a daemon thread answers them as they appear.
    """
    approve_four_eyes(queue)
    responder = cips_responder(workspace)
    responder.answer_pending()
    plan = responder.plan
    stop = threading.Event()
    started = time.monotonic()

    def finished() -> bool:
        answered = {a.original_message_id for a in responder.answered()}
        return set(plan) <= answered or time.monotonic() - started > RESPONDER_TIMEOUT

    thread = threading.Thread(
        target=responder.run, args=(stop,), kwargs={"poll": 0.3, "until": finished}, daemon=True
    )
    thread.start()
    _responders[workspace.resolve()] = (thread, stop)


def approve_four_eyes(queue: Any, approver: str = APPROVER) -> list[str]:
    """Approve, as ``approver``, every outbound run waiting for a four-eyes approval."""
    from orchestrator.queue.manual import ManualQueue
    from orchestrator.registry import SkillRegistry

    manual = ManualQueue(queue.store, queue, SkillRegistry.from_entry_points())
    approved = []
    for entry in manual.entries(limit=10_000):
        item = entry.item
        if item is not None and item.bot == OUTBOUND_BOT and entry.run.reason_code == "awaiting_approval":
            manual.approve(entry.run.id, approver, note="four-eyes check of the RMB demo")
            approved.append(item.reference)
    return approved


def cips_responder(workspace: Path) -> Any:
    from examples.cips.responder import CipsResponder

    return CipsResponder(
        workspace / PACS008_OUTBOX,
        workspace / STATUS_INBOX,
        workspace / STATE_DIR / "cips-answers.jsonl",
        plan=cips_plan(load_truth(workspace)),
        reject_rate=0.0,
    )


def stop_responder(workspace: Path, timeout: float = 5.0) -> None:
    """Stop the background CIPS responder of ``workspace``, if one runs."""
    running = _responders.pop(workspace.resolve(), None)
    if running is None:
        return
    thread, stop = running
    stop.set()
    thread.join(timeout)


def evaluate(workspace: Path, handles: dict[str, Any], store: Any, queue: Any) -> ScenarioReport:
    """Judge the outcome against the ground truth (see ``rmb_evaluate``)."""
    from examples.scenarios.rmb_evaluate import evaluate_rmb

    stop_responder(workspace)
    return evaluate_rmb(workspace, handles, store, queue, load_truth(workspace))


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
