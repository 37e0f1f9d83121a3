"""Tampering with the audit trail directly in the SQLite file, and catching it with its position.

The hash chain alone catches an edited, deleted or reordered event. Deleting the newest events
(tail truncation) and rewriting a whole chain with consistent hashes leave a valid chain, so
those two are caught only against a head file signed earlier with ``RPA_AUDIT_KEY``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from security_harness import EngineHarness

from orchestrator import jsoncodec
from orchestrator.audit import content_hash
from orchestrator.audit_head import (
    AuditHeadError,
    audit_key,
    compare_with_heads,
    load_head_file,
    read_heads,
    sign_heads,
    write_head_file,
)
from orchestrator.store import open_store
from skills.think.basics import evaluate

KEY = b"audit-key-kept-off-the-db-host"
WORKFLOW = """
name: audited
steps:
  - id: one
    uses: think.evaluate
    with: {value: 1}
  - id: two
    uses: think.evaluate
    with: {value: 2}
  - id: three
    uses: think.evaluate
    with: {value: 3}
"""


def _make_trail(tmp_path: Path, db: Path | None = None) -> Path:
    """Two chains (two store instances, like two runner processes) of a few runs each."""
    for _ in range(2):
        harness = EngineHarness(tmp_path, [evaluate], db=db)
        try:
            for _ in range(2):
                assert harness.run(WORKFLOW).status.value == "done"
        finally:
            harness.close()
    return db or tmp_path / "rpa.db"


def _edit(db: Path, chain: str, length: int) -> int:
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE audit_events SET payload_json = ? WHERE chain = ? AND seq = 3",
            (json.dumps({"outputs": {"amount": "999999.00"}}), chain),
        )
    return 3


def _delete_middle(db: Path, chain: str, length: int) -> int:
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_events WHERE chain = ? AND seq = 3", (chain,))
    return 4  # the chain breaks where event 4 expects 3 before it


def _reorder(db: Path, chain: str, length: int) -> int:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_events SET seq = -1 WHERE chain = ? AND seq = 2", (chain,))
        conn.execute("UPDATE audit_events SET seq = 2 WHERE chain = ? AND seq = 3", (chain,))
        conn.execute("UPDATE audit_events SET seq = 3 WHERE chain = ? AND seq = -1", (chain,))
    return 2


def _truncate_tail(db: Path, chain: str, length: int) -> int:
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_events WHERE chain = ? AND seq > ?", (chain, length - 3))
    return length - 2


def _rewrite_chain(db: Path, chain: str, length: int) -> int:
    """Edit event 2 and recompute every later hash: the chain itself stays perfectly valid."""
    store = open_store(f"sqlite:///{db}")
    try:
        events = sorted(
            (e for e in store.audit_events(limit=100_000) if e.chain == chain), key=lambda e: e.seq or 0
        )
    finally:
        store.close()
    prev = events[0].hash or ""
    with sqlite3.connect(db) as conn:
        for event in events[1:]:
            assert event.at is not None
            payload = {**event.payload, "note": "rewritten"} if event.seq == 2 else event.payload
            new_hash = content_hash(
                chain=chain,
                seq=event.seq or 0,
                at=event.at,
                run_id=event.run_id,
                step_id=event.step_id,
                kind=event.kind,
                actor=event.actor,
                payload_json=jsoncodec.dumps(payload),
                prev_hash=prev,
            )
            conn.execute(
                "UPDATE audit_events SET payload_json = ?, prev_hash = ?, hash = ? WHERE chain = ? AND seq = ?",
                (jsoncodec.dumps(payload), prev, new_hash, chain, event.seq),
            )
            prev = new_hash
    return length


def _drop_chain(db: Path, chain: str, length: int) -> int:
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_events WHERE chain = ?", (chain,))
    return 1


Tamper = Callable[[Path, str, int], int]
CASES: dict[str, tuple[Tamper, bool]] = {
    # name: (tampering, whether the hash chain alone already catches it)
    "edit": (_edit, True),
    "delete_middle": (_delete_middle, True),
    "reorder": (_reorder, True),
    "truncate_tail": (_truncate_tail, False),
    "rewrite_chain": (_rewrite_chain, False),
    "drop_chain": (_drop_chain, False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_tampering_is_caught_with_chain_and_position(tmp_path: Path, case: str) -> None:
    db = _make_trail(tmp_path)
    url = f"sqlite:///{db}"
    store = open_store(url)
    heads = read_heads(store)
    assert len(heads) == 2
    head_file = tmp_path / "head.json"
    write_head_file(head_file, sign_heads(heads, KEY))
    clean = store.verify_audit()
    assert clean.ok
    assert compare_with_heads(store, load_head_file(head_file, KEY)).ok
    store.close()

    target = heads[1]
    tamper, chain_alone = CASES[case]
    position = tamper(db, target.chain, target.seq)

    store = open_store(url)
    try:
        chain_problems = store.verify_audit().problems
        head_problems = compare_with_heads(store, load_head_file(head_file, KEY)).problems
    finally:
        store.close()
    problems = chain_problems + head_problems
    assert problems, f"{case} went unnoticed"
    assert all(p.chain == target.chain for p in problems), problems  # the other chain is intact
    assert (target.chain, position) in {(p.chain, p.seq) for p in problems}, problems
    assert bool(chain_problems) is chain_alone, chain_problems


def test_export_and_verify_against_through_the_cli(tmp_path: Path, run_rpa) -> None:
    _make_trail(tmp_path, db=tmp_path / ".rpa" / "rpa.db")  # where rpa looks by default
    env = {"RPA_AUDIT_KEY": KEY.decode()}
    head = tmp_path / "offsite" / "head.json"

    exported = run_rpa("audit", "export-head", "-o", str(head), "--json", cwd=tmp_path, env=env)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["chains"] == 2
    intact = run_rpa("audit", "verify", "--against", str(head), cwd=tmp_path, env=env)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "intact" in intact.stderr

    document = json.loads(head.read_text(encoding="utf-8"))
    chain, last = document["chains"][0]["chain"], document["chains"][0]["seq"]
    with sqlite3.connect(tmp_path / ".rpa" / "rpa.db") as conn:
        conn.execute("DELETE FROM audit_events WHERE chain = ? AND seq >= ?", (chain, last - 1))
    caught = run_rpa("audit", "verify", "--against", str(head), "--json", cwd=tmp_path, env=env)
    assert caught.returncode == 1
    report = json.loads(caught.stdout)
    assert report["problems"] == [
        {
            "chain": chain,
            "seq": last - 1,
            "reason": f"events {last - 1}..{last} are missing: the chain ends at {last - 2}, "
            f"the signed head says it reached {last} (newest events deleted)",
        }
    ]
    text = run_rpa("audit", "verify", "--against", str(head), cwd=tmp_path, env=env)
    assert f"BROKEN chain {chain} at event {last - 1}: events {last - 1}..{last} are missing" in text.stdout


def test_a_forged_or_foreign_head_file_is_refused(tmp_path: Path, run_rpa) -> None:
    head = tmp_path / "head.json"
    write_head_file(head, sign_heads([], KEY))
    document = json.loads(head.read_text(encoding="utf-8"))
    document["chains"] = [{"chain": "x", "seq": 1, "hash": "0" * 64}]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(AuditHeadError, match="fails its signature check: it was altered"):
        load_head_file(forged, KEY)
    with pytest.raises(AuditHeadError, match="signed with another key"):
        load_head_file(head, b"some-other-key-of-enough-length")
    (tmp_path / "junk.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(AuditHeadError, match="not a readable audit head file"):
        load_head_file(tmp_path / "junk.json", KEY)

    forged_cli = run_rpa(
        "audit", "verify", "--against", str(forged), cwd=tmp_path, env={"RPA_AUDIT_KEY": KEY.decode()}
    )
    assert forged_cli.returncode == 2
    assert "fails its signature check" in forged_cli.stderr
    assert "Traceback" not in forged_cli.stderr
    with pytest.raises(AuditHeadError, match="no audit signing key: set RPA_AUDIT_KEY"):
        audit_key(SimpleNamespace(audit_key_file=None), {})
    with pytest.raises(AuditHeadError, match="too short"):
        audit_key(None, {"RPA_AUDIT_KEY": "short"})
    key_file = tmp_path / "audit.key"
    key_file.write_text(KEY.decode() + "\n", encoding="utf-8")
    assert audit_key(SimpleNamespace(audit_key_file=key_file), {}) == KEY


def test_the_hash_of_an_event_is_pinned_so_chains_stored_earlier_still_verify() -> None:
    # the canonical text (compact, key-sorted, non-ASCII kept) is part of every stored hash:
    # a change to how it is written would make every chain on disk fail verification
    from datetime import UTC, datetime

    digest = content_hash(
        chain="c1",
        seq=3,
        at=datetime(2026, 11, 27, 8, 0, 1, 5, tzinfo=UTC),
        run_id="r1",
        step_id=None,
        kind="step.done",
        actor="bot:收款",
        payload_json='{"a":1}',
        prev_hash="0" * 64,
    )
    assert digest == "fe117a72087ed5745a63139452c8d9d12b004b042c64854bfc86a6c61b2bd53a"


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "",
        'quote " and back\\slash',
        "tab\tnew\nline\r\x00\x1f\x7f",
        "收款人 — café",
        "\u2028\ud7ff😀",
    ],
)
@pytest.mark.parametrize("optional", [None, "set"])
def test_the_hashed_text_is_the_json_encoders_canonical_form(text: str, optional: str | None) -> None:
    # content_hash writes the canonical text itself (it is on every item's hot path); it must
    # stay exactly what the JSON encoder makes of the same fields
    from datetime import UTC, datetime, timedelta, timezone

    from orchestrator import jsoncodec

    for at in (
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, tzinfo=timezone(timedelta(hours=8))),
    ):
        fields = {
            "chain": f"host:1:{text}",
            "seq": 12345678901,
            "at": at,
            "run_id": optional and text,
            "step_id": optional,
            "kind": text,
            "actor": text,
            "payload_json": jsoncodec.dumps({"v": text}),
            "prev_hash": "f" * 64,
        }
        reference = jsoncodec.canonical_json(
            {
                "chain": fields["chain"],
                "seq": fields["seq"],
                "at": at.isoformat(timespec="microseconds"),
                "run_id": fields["run_id"],
                "step_id": fields["step_id"],
                "kind": fields["kind"],
                "actor": fields["actor"],
                "payload": fields["payload_json"],
                "prev": fields["prev_hash"],
            }
        )
        assert content_hash(**fields) == jsoncodec.sha256_text(reference)
