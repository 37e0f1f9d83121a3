"""Signed session cookies with a time to live and a switch that expires every session at once."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from itsdangerous import BadSignature, URLSafeSerializer

COOKIE_NAME = "portal_session"


class SessionProblem(StrEnum):
    """Why a request carries no valid session."""

    missing = "missing"
    expired = "expired"
    invalid = "invalid"


@dataclass(frozen=True)
class SessionCheck:
    """The outcome of reading a session cookie: a user, or the reason there is none."""

    user: str | None
    problem: SessionProblem | None = None


class SessionManager:
    """Issues and checks session tokens.

    A token carries the user, the time it was issued and the *epoch* it was issued in.
    :meth:`expire_all` moves to the next epoch, which invalidates every token issued before
    (the ``expire_sessions`` fault); tokens older than the time to live are refused too.
    """

    def __init__(self, *, ttl_s: float, secret_key: str | None = None) -> None:
        self._serializer = URLSafeSerializer(secret_key or secrets.token_hex(32), salt="portal-session")
        self._ttl_s = ttl_s
        self._epoch = 0

    def issue(self, user: str) -> str:
        """Return a signed token for ``user``, valid from now."""
        return self._serializer.dumps({"user": user, "epoch": self._epoch, "issued_at": time.time()})

    def check(self, token: str | None) -> SessionCheck:
        """Return the user of ``token``, or why it is not valid."""
        if not token:
            return SessionCheck(None, SessionProblem.missing)
        try:
            payload = self._serializer.loads(token)
        except BadSignature:
            return SessionCheck(None, SessionProblem.invalid)
        if not isinstance(payload, dict) or not isinstance(payload.get("user"), str):
            return SessionCheck(None, SessionProblem.invalid)
        age = time.time() - float(payload.get("issued_at", 0))
        if payload.get("epoch") != self._epoch or age > self._ttl_s:
            return SessionCheck(None, SessionProblem.expired)
        return SessionCheck(payload["user"])

    def expire_all(self) -> None:
        """Invalidate every token issued so far."""
        self._epoch += 1
