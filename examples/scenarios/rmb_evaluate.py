"""Judge an RMB scenario run against its ground truth, reading the platforms' own records.

Straight-through means the work item ended ``done`` without a person. A defect is *caught* when
its item waits in the manual queue with the expected reason code and nothing was posted for it
(a duplicate: when the queue recorded the second copy and the portal has one credit). A *wrong
posting* is anything on a platform or in the outbox that should not be there: a credit or report
for a reference that is not a clean one, a second credit for a reference, a credit or pacs.008
with another amount or account than the instruction's.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from examples.scenarios.base import ScenarioReport
from examples.scenarios.rmb import (
    APPROVER,
    BOTS,
    INBOUND_BOT,
    NAME,
    OUTBOUND_BOT,
    PACS002_OUTBOX,
    PACS008_OUTBOX,
    STATE_DIR,
    STATUS_BOT,
    STATUS_LOG,
    money,
)
from skills.think.payments import MessageFormatError, PaymentMessage, StatusReport, parse_message


@dataclass
class Tally:
    clean_total: int = 0
    clean_straight_through: int = 0
    defects_total: int = 0
    defects_caught: int = 0
    wrong_postings: int = 0
    caught_by_defect: Counter[str] = field(default_factory=Counter)
    total_by_defect: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def clean(self, straight_through: bool, what: str) -> None:
        self.clean_total += 1
        if straight_through:
            self.clean_straight_through += 1
        else:
            self.notes.append(f"clean item not straight through: {what}")

    def defect(self, kind: str, caught: bool, what: str) -> None:
        self.defects_total += 1
        self.total_by_defect[kind] += 1
        if caught:
            self.defects_caught += 1
            self.caught_by_defect[kind] += 1
        else:
            self.notes.append(f"defect {kind} not caught: {what}")

    def wrong(self, what: str) -> None:
        self.wrong_postings += 1
        self.notes.append(f"wrong posting: {what}")


def evaluate_rmb(
    workspace: Path, handles: dict[str, Any], store: Any, queue: Any, truth: dict[str, Any]
) -> ScenarioReport:
    items = {bot: {i.reference: i for i in queue.list_items(bot=bot, limit=100_000)} for bot in BOTS}
    credits = _by_reference(_get_json(handles["portal"].base_url, "/api/credits"))
    reports = _by_reference(_get_json(handles["reporting"].base_url, "/api/reports"))
    tally = Tally()
    clean_refs = _judge_inbound(
        workspace, truth["inbound"], items[INBOUND_BOT], credits, reports, queue, tally
    )
    for reference, posted in credits.items():
        if reference not in clean_refs:
            tally.wrong(f"portal credit(s) {[c['txn_no'] for c in posted]} for {reference}, not a clean item")
    for reference in reports:
        if reference not in clean_refs:
            tally.wrong(f"report for {reference}, not a clean item")
    _judge_outbound(workspace, truth["outbound"], items[OUTBOUND_BOT], store, tally)
    _judge_statuses(workspace, truth["outbound"], items[STATUS_BOT], tally)
    every = [i for by_reference in items.values() for i in by_reference.values()]
    statuses = Counter(i.status.value for i in every)
    audit = store.verify_audit()
    tally.notes.append(
        "audit chain verifies" if audit.ok else f"AUDIT CHAIN BROKEN: {getattr(audit, 'reason', audit)}"
    )
    tally.notes.append(
        "caught by defect: "
        + ", ".join(f"{k} {tally.caught_by_defect[k]}/{n}" for k, n in sorted(tally.total_by_defect.items()))
    )
    shares = time_by_skill(store, every)
    total_ms = sum(shares.values()) or 1.0
    tally.notes.append(
        "time by skill: "
        + ", ".join(f"{skill} {100 * ms / total_ms:.0f}%" for skill, ms in list(shares.items())[:6])
    )
    return ScenarioReport(
        name=NAME,
        items=len(every),
        done=statuses["done"],
        straight_through=sum(1 for i in every if i.status.value == "done" and i.straight_through),
        needs_review=statuses["needs_review"],
        failed=statuses["failed"] + statuses["rejected"],
        manual_by_reason=dict(
            Counter(i.reason_code or "unknown" for i in every if i.status.value == "needs_review")
        ),
        clean_total=tally.clean_total,
        clean_straight_through=tally.clean_straight_through,
        defects_total=tally.defects_total,
        defects_caught=tally.defects_caught,
        wrong_postings=tally.wrong_postings,
        notes=tally.notes,
    )


def time_by_skill(store: Any, items: list[Any]) -> dict[str, float]:
    """Milliseconds spent per skill over the runs of ``items``, largest first."""
    spent: dict[str, float] = defaultdict(float)
    for item in items:
        if item.run_id:
            for step in store.get_steps(item.run_id):
                if step.duration_ms:
                    spent[step.skill] += step.duration_ms
    return dict(sorted(spent.items(), key=lambda kv: -kv[1]))


def _get_json(base_url: str, path: str) -> list[dict[str, Any]]:
    response = httpx.get(base_url.rstrip("/") + path, timeout=30)
    response.raise_for_status()
    return response.json()


def _by_reference(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        grouped[record["reference"]].append(record)
    return grouped


def _stopped(item: Any, expected: str | None) -> bool:
    return item is not None and item.status.value == "needs_review" and item.reason_code == expected


def _done_alone(item: Any) -> bool:
    return item is not None and item.status.value == "done" and bool(item.straight_through)


def _judge_inbound(
    workspace: Path,
    messages: list[dict[str, Any]],
    items: dict[str, Any],
    credits: dict[str, list[dict[str, Any]]],
    reports: dict[str, list[dict[str, Any]]],
    queue: Any,
    tally: Tally,
) -> set[str]:
    duplicates = {
        (d.reference, Path(d.source_path or "").name) for d in queue.duplicates(INBOUND_BOT, 100_000)
    }
    clean_refs = set()
    for m in messages:
        item = items.get(m["sha256"])
        reference = m["reference"]
        what = f"{m['file_name']} ({reference}, {m['detail'] or m['defect'] or 'clean'})"
        if m["duplicate_of"]:
            copies = {(m["sha256"], m["file_name"]), (m["sha256"], m["duplicate_of"])}
            recorded = bool(copies & duplicates)
            tally.defect("duplicate", recorded and len(credits.get(reference, [])) <= 1, what)
            continue
        if m["defect"] is None:
            clean_refs.add(reference)
            tally.clean(_done_alone(item), f"{what}: {_state(item)}")
            _check_credit(m, credits.get(reference, []), reports.get(reference, []), tally)
            _check_pacs002(workspace, m, tally)
            continue
        posted = bool(credits.get(reference))
        tally.defect(
            m["defect"], _stopped(item, m["expected_reason_code"]) and not posted, f"{what}: {_state(item)}"
        )
    return clean_refs


def _state(item: Any) -> str:
    if item is None:
        return "no work item"
    return f"{item.status.value} ({item.reason_code or 'no reason'}: {(item.reason or '')[:160]})"


def _check_credit(
    m: dict[str, Any], posted: list[dict[str, Any]], reported: list[dict[str, Any]], tally: Tally
) -> None:
    reference = m["reference"]
    if len(posted) > 1:
        tally.wrong(f"{len(posted)} credits for {reference}")
    for credit in posted[:1]:
        expected = (money(m["amount"]), m["creditor_account"], m["creditor_name"], "CNY")
        found = (
            money(credit["amount"]),
            credit["account_number"],
            credit["beneficiary_name"],
            credit["currency"],
        )
        if found != expected:
            tally.wrong(f"credit {credit['txn_no']} for {reference} is {found}, expected {expected}")
        for report in reported:
            wanted = {
                "amount": money(m["amount"]),
                "transaction_code": m["reporting_code"],
                "bank_txn_no": credit["txn_no"],
                "payer_country": m["debtor_country"],
                "payee_account": m["creditor_account"],
                "direction": "inbound",
            }
            got = {k: (money(report[k]) if k == "amount" else report[k]) for k in wanted}
            if got != wanted:
                tally.wrong(f"report {report['report_id']} for {reference} is {got}, expected {wanted}")
    if posted and not reported:
        tally.notes.append(f"credit for {reference} was not reported")


def _check_pacs002(workspace: Path, m: dict[str, Any], tally: Tally) -> None:
    path = workspace / PACS002_OUTBOX / f"{m['reference'].replace('/', '_')}.xml"
    try:
        report = parse_message(path.read_bytes())
    except (OSError, MessageFormatError) as exc:
        tally.notes.append(f"no valid pacs.002 for {m['reference']}: {exc}")
        return
    ok = (
        isinstance(report, StatusReport)
        and report.schema_validated
        and len(report.transactions) == 1
        and report.transactions[0].status == "ACCC"
        and m["reference"] in (report.transactions[0].original_instruction_id, report.original_message_id)
    )
    if not ok:
        tally.notes.append(f"pacs.002 {path.name} does not answer {m['reference']} with ACCC")


def _judge_outbound(
    workspace: Path, instructions: list[dict[str, Any]], items: dict[str, Any], store: Any, tally: Tally
) -> None:
    for o in instructions:
        reference, item = o["reference"], items.get(o["reference"])
        path = workspace / PACS008_OUTBOX / f"{reference}.xml"
        what = f"outbound {reference} ({o['detail'] or o['defect'] or 'clean'}): {_state(item)}"
        if o["defect"] is None:
            tally.clean(_done_alone(item), what)
            _check_pacs008(path, o, tally)
        elif o["defect"] == "above_four_eyes":
            approver = _approved_by(store, item)
            sent_after_approval = _done(item) and approver == APPROVER and approver != o["inputs"]["maker"]
            waiting = _stopped(item, "awaiting_approval") and not path.exists()
            tally.defect("above_four_eyes", sent_after_approval or waiting, f"{what}, approved by {approver}")
            if path.exists():
                _check_pacs008(path, o, tally)
        else:
            tally.defect(f"outbound_{o['defect']}", _stopped(item, o["expected_reason_code"]), what)
            if path.exists():
                tally.wrong(f"pacs.008 {path.name} written for defective instruction {reference}")


def _done(item: Any) -> bool:
    return item is not None and item.status.value == "done"


def _approved_by(store: Any, item: Any) -> str | None:
    if item is None or not item.run_id:
        return None
    for step in store.get_steps(item.run_id):
        if step.step_id == "approval" and step.status.value == "done" and step.output:
            return step.output.get("approved_by")
    return None


def _check_pacs008(path: Path, o: dict[str, Any], tally: Tally) -> None:
    try:
        message = parse_message(path.read_bytes())
    except (OSError, MessageFormatError) as exc:
        tally.wrong(f"pacs.008 for {o['reference']} missing or invalid: {exc}")
        return
    inputs = o["inputs"]
    if not isinstance(message, PaymentMessage) or len(message.payments) != 1:
        tally.wrong(f"{path.name} is not one credit transfer")
        return
    p = message.payments[0]
    found = (
        message.schema_validated,
        p.settlement_amount.currency,
        p.settlement_amount.value,
        p.clearing_system,
        p.creditor.account.id if p.creditor and p.creditor.account else None,
        p.creditor.name if p.creditor else None,
        p.creditor_agent.bic if p.creditor_agent else None,
        p.purpose.code if p.purpose else None,
        p.regulatory_reporting[0].code if p.regulatory_reporting else None,
    )
    expected = (
        True,
        "CNY",
        Decimal(inputs["amount"]),
        "CIP",
        inputs["creditor_account"],
        inputs["creditor_name"],
        inputs["creditor_agent_bic"],
        inputs["purpose"],
        inputs["reporting_code"],
    )
    if found != expected:
        tally.wrong(f"{path.name} holds {found}, expected {expected}")


def _judge_statuses(
    workspace: Path, instructions: list[dict[str, Any]], items: dict[str, Any], tally: Tally
) -> None:
    log = workspace / STATE_DIR / "cips-answers.jsonl"
    answers = [json.loads(line) for line in log.read_text("utf-8").splitlines()] if log.exists() else []
    recorded: dict[str, list[dict[str, Any]]] = defaultdict(list)
    status_log = workspace / STATUS_LOG
    if status_log.exists():
        for line in status_log.read_text("utf-8").splitlines():
            record = json.loads(line)
            recorded[record["original_message_id"]].append(record)
    answered = {a["original_message_id"] for a in answers}
    for o in instructions:
        sent = (workspace / PACS008_OUTBOX / f"{o['reference']}.xml").exists()
        if o["cips_answer"] and sent and o["reference"] not in answered:
            tally.notes.append(f"CIPS never answered {o['reference']}")
    for a in answers:
        item = items.get(a["sha256"])
        what = (
            f"status of {a['original_message_id']} ({a['status']} {a['reason_code'] or ''}): {_state(item)}"
        )
        if a["status"] == "RJCT":
            tally.defect("cips_rejected", _stopped(item, a["reason_code"]), what)
        else:
            tally.clean(_done_alone(item), what)
        statuses = [r["status"] for r in recorded.get(a["original_message_id"], [])]
        if statuses != [a["status"]]:
            tally.notes.append(
                f"{STATUS_LOG} has {statuses} for {a['original_message_id']}, expected [{a['status']!r}]"
            )
