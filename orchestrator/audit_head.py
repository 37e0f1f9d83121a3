"""Signed audit chain heads: catch what a hash chain alone cannot.

A hash chain shows an edit, a deletion or a reordering *inside* a chain, but someone who can
write the database can also delete the newest events (the chain still verifies, only shorter)
or rewrite a whole chain and recompute every hash. Both are caught by comparing the store with
a *head file* exported earlier: for each chain its last sequence number and hash, signed with
HMAC-SHA256 under a key kept outside the database (``RPA_AUDIT_KEY``, or the file named by the
``audit_key_file`` setting). Export heads often (cron) to storage the database's writers
cannot change (WORM, another host); events newer than the last export are only as safe as the
chain itself.

Head file (JSON)::

    {"format": "rpa-audit-head", "version": 1, "exported_at": "...", "key_id": "...",
     "chains": [{"chain": "...", "seq": 41, "hash": "..."}, ...], "hmac": "<hex>"}

``key_id`` is a fingerprint of the key (not the key), so an auditor can tell which key signed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from orchestrator.errors import ConfigError
from orchestrator.models import AuditProblem
from orchestrator.store.tables import AuditRow

HEAD_FORMAT = "rpa-audit-head"
HEAD_VERSION = 1
KEY_ENV = "RPA_AUDIT_KEY"
MIN_KEY_BYTES = 16
MAX_HEAD_FILE_BYTES = 64 * 1024 * 1024
_AUDIT = AuditRow.__table__  # type: ignore[attr-defined]


class AuditHeadError(ConfigError):
    """No usable signing key, or a head file that is unreadable, altered or signed with another key."""


@dataclass(frozen=True, order=True)
class ChainHead:
    """The newest event of one chain: its sequence number and hash."""

    chain: str
    seq: int
    hash: str


def audit_key(settings: Any, environ: Mapping[str, str] | None = None) -> bytes:
    """The signing key: ``RPA_AUDIT_KEY``, else the content of the ``audit_key_file`` setting."""
    env = os.environ if environ is None else environ
    text = env.get(KEY_ENV)
    origin = KEY_ENV
    if not text:
        key_file = getattr(settings, "audit_key_file", None)
        if key_file is None:
            raise AuditHeadError(
                f"no audit signing key: set {KEY_ENV} or the audit_key_file setting "
                "(keep the key away from the database it protects)"
            )
        origin = f"the audit key file {key_file}"
        try:
            text = Path(key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AuditHeadError(f"cannot read {origin}: {getattr(exc, 'strerror', None) or exc}") from None
    key = text.strip().encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise AuditHeadError(f"{origin} is too short: use at least {MIN_KEY_BYTES} random characters")
    return key


def key_id(key: bytes) -> str:
    """A public fingerprint of ``key`` (telling keys apart without revealing one)."""
    return hashlib.sha256(b"rpa-audit-key-id:" + key).hexdigest()[:16]


def read_heads(store: Any) -> list[ChainHead]:
    """The newest event of every chain in the store, sorted by chain."""
    newest = select(_AUDIT.c.chain, func.max(_AUDIT.c.seq).label("seq")).group_by(_AUDIT.c.chain).subquery()
    query = (
        select(_AUDIT.c.chain, _AUDIT.c.seq, _AUDIT.c.hash)
        .join(newest, (_AUDIT.c.chain == newest.c.chain) & (_AUDIT.c.seq == newest.c.seq))
        .order_by(_AUDIT.c.chain)
    )
    with store.reading() as conn:
        return [ChainHead(row.chain, int(row.seq), row.hash) for row in conn.execute(query)]


def _signed_part(exported_at: str, fingerprint: str, heads: Iterable[ChainHead]) -> bytes:
    body = {
        "format": HEAD_FORMAT,
        "version": HEAD_VERSION,
        "exported_at": exported_at,
        "key_id": fingerprint,
        "chains": [{"chain": h.chain, "seq": h.seq, "hash": h.hash} for h in sorted(heads)],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_heads(heads: Iterable[ChainHead], key: bytes, exported_at: datetime | None = None) -> dict[str, Any]:
    """The head document for ``heads``, with its HMAC-SHA256."""
    heads = sorted(heads)
    when = (exported_at or datetime.now(UTC)).isoformat(timespec="seconds")
    fingerprint = key_id(key)
    signature = hmac.new(key, _signed_part(when, fingerprint, heads), hashlib.sha256).hexdigest()
    return {
        "format": HEAD_FORMAT,
        "version": HEAD_VERSION,
        "exported_at": when,
        "key_id": fingerprint,
        "chains": [{"chain": h.chain, "seq": h.seq, "hash": h.hash} for h in heads],
        "hmac": signature,
    }


def write_head_file(path: Path, document: Mapping[str, Any]) -> None:
    """Write a head document atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=1, ensure_ascii=False)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_head_file(path: Path, key: bytes) -> list[ChainHead]:
    """The heads of a head file whose signature holds under ``key``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AuditHeadError(f"cannot read the head file {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_HEAD_FILE_BYTES:
        raise AuditHeadError(f"the head file {path} is larger than {MAX_HEAD_FILE_BYTES} bytes")
    try:
        document = json.loads(raw)
        if document.get("format") != HEAD_FORMAT or document.get("version") != HEAD_VERSION:
            raise AuditHeadError(f"{path} is not an audit head file (format {HEAD_FORMAT!r}, version 1)")
        heads = [ChainHead(str(c["chain"]), int(c["seq"]), str(c["hash"])) for c in document["chains"]]
        exported_at, fingerprint, given = (
            str(document["exported_at"]),
            str(document["key_id"]),
            document["hmac"],
        )
    except AuditHeadError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError):
        raise AuditHeadError(f"{path} is not a readable audit head file") from None
    expected = hmac.new(key, _signed_part(exported_at, fingerprint, heads), hashlib.sha256).hexdigest()
    if not isinstance(given, str) or not hmac.compare_digest(expected, given):
        other = (
            "" if fingerprint == key_id(key) else f" (it names key {fingerprint}, this key is {key_id(key)})"
        )
        raise AuditHeadError(
            f"the head file {path} fails its signature check: it was altered, or signed with another key{other}"
        )
    return heads


@dataclass
class HeadComparison:
    """How the store compares with a signed head file."""

    checked: int
    problems: list[AuditProblem]
    new_chains: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def compare_with_heads(store: Any, signed: Iterable[ChainHead]) -> HeadComparison:
    """Every signed head must still be in the store, with the same hash, at the same position."""
    current = {h.chain: h for h in read_heads(store)}
    problems: list[AuditProblem] = []
    signed = sorted(signed)
    for head in signed:
        now = current.get(head.chain)
        if now is None:
            problems.append(
                AuditProblem(
                    head.chain,
                    1,
                    f"the whole chain is missing (the signed head says it reached event {head.seq})",
                )
            )
            continue
        if now.seq < head.seq:
            problems.append(
                AuditProblem(
                    head.chain,
                    now.seq + 1,
                    f"events {now.seq + 1}..{head.seq} are missing: the chain ends at {now.seq}, "
                    f"the signed head says it reached {head.seq} (newest events deleted)",
                )
            )
            continue
        with store.reading() as conn:
            row = conn.execute(
                select(_AUDIT.c.hash).where(_AUDIT.c.chain == head.chain, _AUDIT.c.seq == head.seq)
            ).first()
        if row is None:
            problems.append(AuditProblem(head.chain, head.seq, "the signed head event is missing"))
        elif row.hash != head.hash:
            problems.append(
                AuditProblem(
                    head.chain,
                    head.seq,
                    "the event differs from the signed head (its hash changed): the chain was rewritten",
                )
            )
    signed_chains = {h.chain for h in signed}
    new_chains = sorted(chain for chain in current if chain not in signed_chains)
    return HeadComparison(checked=len(signed), problems=problems, new_chains=new_chains)
