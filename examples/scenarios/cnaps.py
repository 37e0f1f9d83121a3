"""Scenario 2, interbank clearing (CNAPS): voucher scans keyed into the clearing terminal, reconciled.

The contract with ``rpa demo`` is in ``base.py``. What this scenario does (docs/scenarios/cnaps.md):

* ``prepare`` renders ``size`` transfer vouchers (``examples.vouchers``) into
  ``inbox/cnaps-vouchers`` with a realistic share of defects (wrong capital-numeral amounts,
  invalid accounts and bank codes, unreadable scans, a truncated file), records the customer's
  answer to the confirmation call for every voucher above the bot's ``call_above`` amount in
  ``calls/<voucher number>.wav`` (mostly "yes", some refusals and "call me later"), and drops a
  few scans a second time; the ground truth goes to ``.cnaps/truth.json``;
* ``after_main_batch`` exports the terminal's end-of-day clearing result file, with one amount
  altered and one submission left out (what reconciliation must find), into
  ``inbox/cnaps-results``;
* ``evaluate`` compares the outcome with the ground truth, reading the terminal's own SQLite
  store, the journal, the reconciliation report and the queue.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from examples.scenarios.base import GroundTruth, ScenarioBatch, ScenarioReport
from examples.scenarios.cnaps_truth import (
    DEFECT_REASONS,
    VoucherTruth,
    judge_recon,
    judge_voucher,
    load_truth,
    save_truth,
)

NAME = "cnaps"
BOTS = ["cnaps-vouchers", "cnaps-reconcile"]
PLATFORMS = ["terminal"]
VOUCHER_BOT, RECON_BOT = BOTS
STATE_DIR = ".cnaps"
VOUCHER_INBOX = "inbox/cnaps-vouchers"
RESULTS_INBOX = "inbox/cnaps-results"
CALLS_DIR = "calls"
JOURNAL = "outbox/cnaps-submissions.jsonl"
REPORT_DIR = "outbox/reconciliation"
TERMINAL_USER = ("clerk", "clerk-pass")  # the example terminal's default operator
NOISE = "noisy"
VOUCHER_DEFECTS = {"amount_mismatch": 0.05, "bad_account": 0.05, "bad_bank_code": 0.05, "unreadable": 0.03}
CALL_INTENTS = {"confirm": 0.6, "refuse": 0.2, "call_later": 0.2}
DEFAULT_CALL_ABOVE = Decimal("1000000.00")


def platform_settings(handles: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The clearing terminal: its defaults (docs/do.md), signing in as the demo clerk."""
    secret_name = "terminal_password"  # the name of the secret, not a password  # nosec B105
    return {"terminal": {"login": {"username": TERMINAL_USER[0], "password_secret": secret_name}}}


def secrets() -> dict[str, str]:
    return {"terminal_password": TERMINAL_USER[1]}


def call_threshold(workspace: Path) -> Decimal:
    """The bot's ``call_above`` input (the workspace's copy of bots/cnaps-vouchers.yaml)."""
    for folder in (workspace, Path(__file__).resolve().parents[2]):
        bot = folder / "bots" / f"{VOUCHER_BOT}.yaml"
        if bot.is_file():
            data = yaml.safe_load(bot.read_text(encoding="utf-8")) or {}
            value = (data.get("inputs") or {}).get("call_above")
            return Decimal(str(value)) if value is not None else DEFAULT_CALL_ABOVE
    return DEFAULT_CALL_ABOVE


def prepare(
    workspace: Path,
    *,
    size: int,
    seed: int,
    noise: str = NOISE,
    voucher_defects: dict[str, float] | None = None,
    call_intents: dict[str, float] | None = None,
    duplicates: int | None = None,
    malformed: int | None = None,
) -> ScenarioBatch:
    """Render the vouchers and record the call answers into the workspace; keep the ground truth.

    ``size`` is the number of distinct voucher files (work items). The keyword options after
    ``seed`` let tests choose the mix: defect shares of ``examples.vouchers`` (default
    ``VOUCHER_DEFECTS``), the answers' intents on calls of otherwise clean vouchers (default
    ``CALL_INTENTS``), how many scans arrive twice (default 2 %) and how many files are
    truncated (default 1 in 50).
    """
    from examples.calls import CallAnswer, record_answer
    from examples.calls.generator import NOISE_VOLUMES, SPEEDS, VOICES
    from examples.vouchers.generate import generate
    from skills.hear.answers import CONFIRMATION_INTENTS

    state = workspace / STATE_DIR
    generated = state / "vouchers"
    threshold = call_threshold(workspace)
    vouchers = generate(
        size,
        seed,
        generated,
        noise=noise,
        defects=VOUCHER_DEFECTS if voucher_defects is None else voucher_defects,
    )
    rng = random.Random(f"{seed}:cnaps")  # reproducible sample data, not secrets  # nosec B311
    intents = CALL_INTENTS if call_intents is None else call_intents
    truths: list[VoucherTruth] = []
    for voucher in vouchers:
        facts = voucher.facts
        defect = facts.defects[0] if facts.defects else None
        call = None
        if facts.amount > threshold:
            call = (
                rng.choices(list(intents), weights=list(intents.values()))[0] if defect is None else "confirm"
            )
            answer = CallAnswer(
                file=f"{facts.voucher_no}.wav",
                intent=call,
                text=rng.choice(CONFIRMATION_INTENTS[call]),
                voice=rng.choice(VOICES),
                speed=rng.randint(*SPEEDS),
                noise=round(rng.uniform(*NOISE_VOLUMES), 4),
                sample_rate=16000,
            )
            record_answer(answer, workspace / CALLS_DIR / answer.file)
            if defect is None and call != "confirm":
                defect = call
        truths.append(VoucherTruth.of(voucher, defect=defect, call=call))
    plain = [t for t in truths if t.defect is None]
    rng.shuffle(plain)
    malformed_count = size // 50 if malformed is None else malformed
    for truth in plain[:malformed_count]:
        truth.defect = "malformed"
    resent = plain[
        malformed_count : malformed_count + (round(size * 0.02) if duplicates is None else duplicates)
    ]
    inbox = workspace / VOUCHER_INBOX
    inbox.mkdir(parents=True, exist_ok=True)
    for truth in truths:  # answers first, files last: a running watcher never sees a voucher early
        data = (generated / truth.file).read_bytes()
        if truth.defect == "malformed":
            data = data[: len(data) // 3]  # cut off in transfer: not an image any more
        truth.sha256 = hashlib.sha256(data).hexdigest()
        _drop(inbox / truth.file, data)
    for truth in resent:
        copy = f"{Path(truth.file).stem}-resent{Path(truth.file).suffix}"
        _drop(inbox / copy, (inbox / truth.file).read_bytes())
        truth.resent_as = copy
    save_truth(
        workspace / STATE_DIR,
        {"seed": seed, "size": size, "noise": noise, "call_above": str(threshold)},
        truths,
    )
    ground = [t.ground_truth(VOUCHER_BOT) for t in truths]
    ground += [
        GroundTruth(t.sha256, VOUCHER_BOT, False, "duplicate", None, t.amount, t.payee_account)
        for t in resent
    ]
    return ScenarioBatch(truths=ground, api_items=[], expected_items=len(truths))


def _drop(target: Path, data: bytes) -> None:
    """Write a file into an inbox the way a scanner share does: under a temporary name, then renamed."""
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, target)


def after_main_batch(workspace: Path, handles: dict[str, Any], queue: Any, *, mismatches: int = 2) -> None:
    """Export the terminal's clearing result file into the reconciliation inbox.

    The first of ``mismatches`` submissions (chosen with the batch's seed) gets another amount
    in the file, the second is left out; what was injected goes to ``.cnaps/recon.json``.
    """
    terminal = handles["terminal"]
    from examples.platforms.terminal.store import TerminalStore

    meta, _ = load_truth(workspace / STATE_DIR)
    payments = TerminalStore(terminal.store_path).all()
    references = sorted({p.reference for p in payments})
    rng = random.Random(f"{meta['seed']}:cnaps-recon")  # reproducible sample data  # nosec B311
    chosen = rng.sample(references, min(mismatches, len(references)))
    options: list[str] = []
    altered: dict[str, str] = {}
    for index, reference in enumerate(chosen):
        if index % 2 == 0:
            amount = next(p.amount for p in payments if p.reference == reference) + Decimal("0.10")
            altered[reference] = f"{amount:.2f}"
            options += ["--alter-amount", f"{reference}={amount:.2f}"]
        else:
            options += ["--drop", reference]
    day = datetime.now(UTC).strftime("%Y%m%d")
    staged = workspace / STATE_DIR / f"clearing-{day}.csv"
    done = subprocess.run(  # the terminal's own exporter, as the clearing front-end runs it
        [sys.executable, "-m", "examples.platforms.terminal", "export-results",
         "--data-dir", str(terminal.data_dir), "--out", str(staged), *options],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the terminal's export failed: {done.stderr.strip() or done.stdout.strip()}")
    inbox = workspace / RESULTS_INBOX
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / staged.name
    shutil.copyfile(staged, target.with_name(target.name + ".part"))
    os.replace(target.with_name(target.name + ".part"), target)
    recon = {
        "file": target.name,
        "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        "altered": altered,
        "dropped": [r for i, r in enumerate(chosen) if i % 2 == 1],
        "terminal_payments": len(payments),
    }
    (workspace / STATE_DIR / "recon.json").write_text(json.dumps(recon, indent=2) + "\n", encoding="utf-8")


def evaluate(workspace: Path, handles: dict[str, Any], store: Any, queue: Any) -> ScenarioReport:
    """Judge every voucher and the reconciliation against the ground truth, on the terminal's store."""
    from examples.platforms.terminal.store import TerminalStore

    _, truths = load_truth(workspace / STATE_DIR)
    payments = TerminalStore(handles["terminal"].store_path).all()
    items = [i for bot in BOTS for i in queue.list_items(bot=bot, limit=100_000)]
    by_reference = {(i.bot, i.reference): i for i in items}
    postings: dict[str, list[Any]] = {}
    for payment in payments:
        postings.setdefault(payment.reference, []).append(payment)
    notes: list[str] = []
    clean_total = clean_stp = defects_total = defects_caught = wrong = 0
    for truth in truths:
        verdict = judge_voucher(
            truth, by_reference.get((VOUCHER_BOT, truth.sha256)), postings.pop(truth.reference, [])
        )
        wrong += verdict.wrong_postings
        notes += verdict.notes
        if truth.defect is None:
            clean_total += 1
            clean_stp += verdict.straight_through
        else:
            defects_total += 1
            defects_caught += verdict.caught
        if truth.resent_as:
            defects_total += 1
            defects_caught += verdict.duplicate_caught(workspace / VOUCHER_INBOX)
    for reference, extra in postings.items():
        wrong += len(extra)
        notes.append(f"{reference}: {len(extra)} payment(s) on the terminal that no voucher asked for")
    recon_path = workspace / STATE_DIR / "recon.json"
    if recon_path.exists():
        recon = json.loads(recon_path.read_text(encoding="utf-8"))
        expect_mismatch = bool(recon["altered"] or recon["dropped"])
        verdict = judge_recon(recon, by_reference.get((RECON_BOT, recon["sha256"])), workspace / REPORT_DIR)
        notes += verdict.notes
        if expect_mismatch:
            defects_total += 1
            defects_caught += verdict.caught
    journal = workspace / JOURNAL
    journalled = journal.read_text(encoding="utf-8").splitlines() if journal.exists() else []
    notes.append(f"terminal: {len(payments)} payment(s); journal: {len(journalled)} line(s)")
    if len(journalled) != len(payments):
        notes.append("the journal and the terminal disagree on the number of submissions")
    audit = store.verify_audit()
    notes.append("audit chain verifies" if audit.ok else f"audit chain BROKEN: {audit.problems[:3]}")
    times = time_by_skill(store, [i for i in items if i.bot == VOUCHER_BOT])
    busy = sum(ms for _, ms in times.values()) or 1.0
    notes.append(
        "time by skill (voucher runs): "
        + ", ".join(
            f"{skill} {100 * ms / busy:.0f}%" for skill, (_, ms) in times.items() if ms / busy >= 0.005
        )
    )
    statuses = Counter(i.status.value for i in items)
    manual = Counter(i.reason_code or "unknown" for i in items if i.status.value == "needs_review")
    return ScenarioReport(
        name=NAME,
        items=len(items),
        done=statuses["done"],
        straight_through=sum(1 for i in items if i.status.value == "done" and i.straight_through),
        needs_review=statuses["needs_review"],
        failed=statuses["failed"] + statuses["rejected"],
        manual_by_reason=dict(manual),
        clean_total=clean_total,
        clean_straight_through=clean_stp,
        defects_total=defects_total,
        defects_caught=defects_caught,
        wrong_postings=wrong,
        notes=notes,
    )


def time_by_skill(store: Any, items: list[Any]) -> dict[str, tuple[int, float]]:
    """Steps and milliseconds per skill over the runs of ``items`` (the store's step rows), most first."""
    times: dict[str, tuple[int, float]] = {}
    for item in items:
        if not item.run_id:
            continue
        for step in store.get_steps(item.run_id):
            if step.duration_ms is not None:
                steps, ms = times.get(step.skill, (0, 0.0))
                times[step.skill] = (steps + 1, ms + step.duration_ms)
    return dict(sorted(times.items(), key=lambda kv: -kv[1][1]))


__all__ = [
    "BOTS",
    "DEFECT_REASONS",
    "NAME",
    "PLATFORMS",
    "after_main_batch",
    "evaluate",
    "platform_settings",
    "prepare",
    "secrets",
    "time_by_skill",
]
