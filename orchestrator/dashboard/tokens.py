"""API tokens of machine clients: a role, scopes, and only the token's SHA-256 in the store.

Scopes narrow what a token may do below its role:

* ``read`` — every GET of the JSON API and ``/metrics``;
* ``items:write`` — enqueue work items (``POST /api/bots/{bot}/items`` and ``…/items/batch``);
* ``manual:act`` — act on the manual queue (``POST /api/manual/{run}/{action}``), except
  approve: a four-eyes approval needs a person.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update

from orchestrator.api.security import Role
from orchestrator.dashboard.tables import ApiTokenRow
from orchestrator.dashboard.users import UserError, normalise_name
from orchestrator.models import AuditEvent
from orchestrator.store.sql import SQLRunStore, aware, utcnow

TOKENS = ApiTokenRow.__table__  # type: ignore[attr-defined]
TOKEN_PREFIX = "rpat_"  # noqa: S105 - marks our tokens, not a secret  # nosec B105
SCOPES: dict[str, str] = {
    "read": "read the JSON API and /metrics",
    "items:write": "enqueue work items",
    "manual:act": "retry, resume or reject runs waiting for a person (approving needs a person)",
}
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_ENQUEUE = re.compile(r"/api/bots/[^/]+/items(/batch)?/?")
_MANUAL = re.compile(r"/api/manual/[^/]+/[^/]+/?")
_USED_EVERY = timedelta(minutes=1)


def required_scope(method: str, path: str) -> str | None:
    """The scope a token needs for this request; None when no token may make it."""
    if method.upper() not in _WRITE_METHODS:
        if path.startswith("/api/") or path in ("/metrics", "/openapi.json"):
            return "read"
        return None  # the HTML pages are for people
    if _ENQUEUE.fullmatch(path):
        return "items:write"
    if _MANUAL.fullmatch(path):
        # four-eyes means two people: no token approves, whatever its scopes
        return None if path.rstrip("/").endswith("/approve") else "manual:act"
    return None


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiToken:
    name: str
    role: Role
    scopes: frozenset[str]
    created_by: str
    created_at: datetime | None
    last_used_at: datetime | None


def _token(row: object) -> ApiToken:
    return ApiToken(
        name=row.name,  # type: ignore[attr-defined]
        role=Role[row.role],  # type: ignore[attr-defined]
        scopes=frozenset(row.scopes.split()),  # type: ignore[attr-defined]
        created_by=row.created_by,  # type: ignore[attr-defined]
        created_at=aware(row.created_at),  # type: ignore[attr-defined]
        last_used_at=aware(row.last_used_at),  # type: ignore[attr-defined]
    )


class TokenRegistry:
    """Create, list, revoke and check machine tokens."""

    def __init__(self, store: SQLRunStore) -> None:
        self.store = store

    def create(self, name: str, role: Role, scopes: list[str], *, actor: str) -> str:
        """Store a new token and return it in clear — the only time it is ever shown."""
        name = normalise_name(name)
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise UserError(
                f"unknown scope(s) {', '.join(unknown) or '(none given)'}: expected some of {', '.join(SCOPES)}"
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        with self.store._tx_with_audit() as (conn, append):
            if conn.execute(select(TOKENS.c.name).where(TOKENS.c.name == name)).first() is not None:
                raise UserError(f"a token named {name} exists already (revoke it first)")
            conn.execute(
                insert(TOKENS).values(
                    name=name,
                    sha256=token_sha256(token),
                    role=role.name,
                    scopes=" ".join(sorted(set(scopes))),
                    created_by=actor,
                    created_at=now,
                )
            )
            append(
                AuditEvent(
                    kind="token_created",
                    actor=actor,
                    at=now,
                    payload={"token": name, "role": role.name, "scopes": sorted(set(scopes))},
                )
            )
        return token

    def list(self) -> list[ApiToken]:
        with self.store.reading() as conn:
            return [_token(r) for r in conn.execute(select(TOKENS).order_by(TOKENS.c.name)).all()]

    def revoke(self, name: str, *, actor: str) -> None:
        name = normalise_name(name)
        now = utcnow()
        with self.store._tx_with_audit() as (conn, append):
            if not conn.execute(delete(TOKENS).where(TOKENS.c.name == name)).rowcount:
                raise UserError(f"no token named {name}")
            append(AuditEvent(kind="token_revoked", actor=actor, at=now, payload={"token": name}))

    def check(self, presented: str) -> ApiToken | None:
        """The token matching ``presented``, or None (unknown, revoked, or not one of ours)."""
        if not presented.startswith(TOKEN_PREFIX):
            return None
        digest = token_sha256(presented)
        with self.store.reading() as conn:
            row = conn.execute(select(TOKENS).where(TOKENS.c.sha256 == digest)).first()
        if row is None or not hmac.compare_digest(row.sha256, digest):
            return None
        token = _token(row)
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at > _USED_EVERY:
            with self.store.writing() as conn:  # at most one write a minute per token
                conn.execute(update(TOKENS).where(TOKENS.c.name == token.name).values(last_used_at=now))
        return token
