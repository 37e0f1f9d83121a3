"""The CIPS side of an outbound payment: read the pacs.008 we sent, answer with a pacs.002.

``CipsResponder`` looks at the outbox of pacs.008 files, decides an answer for each message it has
not answered yet (accepted and settled, ``ACSC``, or rejected with an ISO status reason code) and
writes a pacs.002.001.10 status report into the status inbox the ``rmb-status`` bot watches. Files
appear there atomically (written under a hidden ``.part`` name, then renamed), so the folder
watcher never reads half a report. What was answered is kept in a JSON-lines log, so a responder
started again never answers a message twice.

The answers come from a *plan* (message id -> ``ACSC`` or a reason code, e.g. the scenario's
ground truth) or, for messages not in the plan, from a reject rate drawn deterministically from
the message id and a seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from skills.think.payments import (
    MessageFormatError,
    OriginalReference,
    PaymentMessage,
    StatusReasonInput,
    build_pacs002,
    parse_message,
)

ACCEPTED = "ACSC"
REASON_TEXTS = {
    "AC01": "Account number is invalid or missing",
    "AC04": "Account number has been closed",
    "BE01": "Creditor name does not match the account",
    "RR04": "Regulatory reason",
    "AG01": "Transaction forbidden on this type of account",
    "AM02": "Amount exceeds the allowed maximum",
}


@dataclass(frozen=True)
class CipsAnswer:
    """One status report written: which message it answers and how."""

    original_message_id: str
    status: str  # ACSC or RJCT
    reason_code: str | None
    file_name: str
    sha256: str
    answered_at: str


class CipsResponder:
    """Answers every pacs.008 of ``outbox`` once, into ``inbox``.

    Args:
        outbox: folder of the pacs.008 files the bank sent.
        inbox: folder the pacs.002 status reports are written to.
        log: JSON-lines file of the answers given (created when missing).
        plan: message id -> ``ACSC`` or an ISO reason code to reject with.
        reject_rate: share of messages outside the plan that are rejected.
        seed: makes the reject draw for messages outside the plan reproducible.
    """

    def __init__(
        self,
        outbox: Path,
        inbox: Path,
        log: Path,
        *,
        plan: Mapping[str, str] | None = None,
        reject_rate: float = 0.1,
        seed: int = 0,
    ) -> None:
        self.outbox = outbox
        self.inbox = inbox
        self.log = log
        self.plan = dict(plan or {})
        self.reject_rate = reject_rate
        self.seed = seed
        self._lock = threading.Lock()

    def answered(self) -> list[CipsAnswer]:
        if not self.log.exists():
            return []
        return [CipsAnswer(**json.loads(line)) for line in self.log.read_text("utf-8").splitlines() if line]

    def decide(self, message_id: str) -> str:
        """``ACSC`` or the reason code this message is rejected with."""
        if message_id in self.plan:
            return self.plan[message_id]
        draw = random.Random(f"{self.seed}:{message_id}")  # a reproducible test draw  # nosec B311
        if draw.random() < self.reject_rate:
            return draw.choice(sorted(REASON_TEXTS))
        return ACCEPTED

    def answer_pending(self) -> list[CipsAnswer]:
        """Answer the pacs.008 files not answered yet; returns the new answers."""
        with self._lock:
            done = {a.original_message_id for a in self.answered()}
            new = []
            for path in sorted(self.outbox.glob("*.xml")) if self.outbox.is_dir() else []:
                original = _original(path)
                if original is None or original.message_id in done:
                    continue
                new.append(self._answer(original))
                done.add(original.message_id)
            return new

    def _answer(self, original: OriginalReference) -> CipsAnswer:
        decision = self.decide(original.message_id)
        rejected = decision != ACCEPTED
        reasons = [StatusReasonInput(code=decision)] if rejected else []
        if rejected and decision in REASON_TEXTS:
            reasons[0].additional_information = [REASON_TEXTS[decision]]
        status_id = f"CIPS{hashlib.sha256(original.message_id.encode()).hexdigest()[:12].upper()}"
        text = build_pacs002(
            original,
            "rejected" if rejected else ACCEPTED,
            reasons,
            message_id=status_id,
            creation_time=datetime.now(UTC).replace(microsecond=0),
        )
        data = text.encode("utf-8")
        name = f"pacs002-{original.message_id}.xml".replace("/", "_")
        self.inbox.mkdir(parents=True, exist_ok=True)
        partial = self.inbox / f".{name}.part"
        partial.write_bytes(data)
        os.replace(partial, self.inbox / name)
        answer = CipsAnswer(
            original_message_id=original.message_id,
            status="RJCT" if rejected else ACCEPTED,
            reason_code=decision if rejected else None,
            file_name=name,
            sha256=hashlib.sha256(data).hexdigest(),
            answered_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(answer)) + "\n")
        return answer

    def run(
        self, stop: threading.Event, *, poll: float = 0.5, until: Callable[[], bool] | None = None
    ) -> None:
        """Keep answering new pacs.008 files until ``stop`` is set or ``until()`` is true."""
        while not stop.is_set():
            self.answer_pending()
            if until is not None and until():
                return
            stop.wait(poll)


def _original(path: Path) -> OriginalReference | None:
    """The references of the pacs.008 in ``path``; None when it is not a readable credit transfer."""
    try:
        message = parse_message(path.read_bytes(), validate_schema=False)
    except (MessageFormatError, OSError):
        return None
    if not isinstance(message, PaymentMessage) or len(message.payments) != 1:
        return None
    return OriginalReference.of(message.payments[0])
