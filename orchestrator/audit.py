"""Hash-chained audit events: each holds the hash of its predecessor and of its own content.

Events are appended to *chains*: one chain per writing process (runner, CLI call, API server),
so that runners on several machines never serialise on one global lock. Within a chain,
``seq`` runs 1, 2, 3... without gaps and ``prev_hash`` of event ``n`` is the ``hash`` of event
``n - 1`` (``GENESIS`` for the first). Editing, deleting or reordering an event breaks a link
that ``verify_chain`` reports with its position.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from datetime import datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]

from orchestrator import jsoncodec
from orchestrator.models import AuditEvent, AuditProblem

GENESIS = "0" * 64


def new_chain_id() -> str:
    """A chain id naming the writer: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def content_hash(
    *,
    chain: str,
    seq: int,
    at: datetime,
    run_id: str | None,
    step_id: str | None,
    kind: str,
    actor: str,
    payload_json: str,
    prev_hash: str,
) -> str:
    """SHA-256 over the canonical form of an event's content and its predecessor's hash.

    The canonical form is ``jsoncodec.canonical_json`` of a dict of the fields under the keys
    actor, at, chain, kind, payload, prev, run_id, seq, step_id (the hash of every stored event
    depends on that exact text). Every value is a str, an int or None, so the text is written
    here directly, each string by the same escaper ``json`` uses; a test
    (tests/security/test_audit_tamper.py) keeps it equal to the encoder's form.
    """
    enc = encode_basestring
    canonical = (
        f'{{"actor":{enc(actor)},"at":{enc(at.isoformat(timespec="microseconds"))},'
        f'"chain":{enc(chain)},"kind":{enc(kind)},"payload":{enc(payload_json)},'
        f'"prev":{enc(prev_hash)},"run_id":{"null" if run_id is None else enc(run_id)},'
        f'"seq":{int(seq)},"step_id":{"null" if step_id is None else enc(step_id)}}}'
    )
    return jsoncodec.sha256_text(canonical)


def verify_chain(events: Iterable[AuditEvent]) -> list[AuditProblem]:
    """Check one chain's events (sorted by seq); returns the problems, first one first."""
    problems: list[AuditProblem] = []
    expected_seq = 1
    prev = GENESIS
    for event in events:
        assert event.chain is not None
        assert event.seq is not None
        assert event.at is not None
        if event.seq != expected_seq:
            missing = (
                f"{expected_seq}" if event.seq == expected_seq + 1 else f"{expected_seq}..{event.seq - 1}"
            )
            reason = (
                f"missing event(s) {missing}"
                if event.seq > expected_seq
                else f"sequence number {event.seq} repeated or out of order"
            )
            problems.append(AuditProblem(event.chain, event.seq, reason))
            return problems
        if event.prev_hash != prev:
            problems.append(AuditProblem(event.chain, event.seq, "link to the previous event is broken"))
            return problems
        recomputed = content_hash(
            chain=event.chain,
            seq=event.seq,
            at=event.at,
            run_id=event.run_id,
            step_id=event.step_id,
            kind=event.kind,
            actor=event.actor,
            payload_json=jsoncodec.dumps(event.payload),
            prev_hash=event.prev_hash or "",
        )
        if recomputed != event.hash:
            problems.append(AuditProblem(event.chain, event.seq, "content does not match its hash (edited)"))
            return problems
        prev = event.hash
        expected_seq += 1
    return problems
