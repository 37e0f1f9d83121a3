"""Who is calling: roles viewer < operator < admin.

Machine clients present ``Authorization: Bearer <token>``; tokens are configured by their
SHA-256 only (``api_tokens`` in the settings), never stored in clear. The dashboard adds
session logins on top of this (``orchestrator/dashboard``). Only ``/api/health`` is anonymous.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from fastapi import HTTPException, Request, status


class Role(IntEnum):
    viewer = 1
    operator = 2
    admin = 3


@dataclass(frozen=True)
class Principal:
    user: str
    role: Role
    via: str  # "token" or "session"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def principal_from_token(request: Request, tokens: dict[str, dict[str, str]]) -> Principal | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    digest = token_digest(header[7:].strip())
    for name, entry in tokens.items():
        if hmac.compare_digest(entry.get("sha256", ""), digest):
            try:
                role = Role[entry.get("role", "viewer")]
            except KeyError:
                return None
            return Principal(user=entry.get("user", name), role=role, via="token")
    return None


def current_principal(request: Request) -> Principal:
    """The caller, from a session (dashboard) or a bearer token; 401 otherwise."""
    resolver: Any = getattr(request.app.state, "resolve_principal", None)
    principal = resolver(request) if resolver is not None else None
    if principal is None:
        principal = principal_from_token(request, request.app.state.settings.api_tokens)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "sign in or present a bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def require(role: Role) -> Any:
    """A FastAPI dependency: the caller must have at least ``role`` (403 otherwise)."""

    def check(request: Request) -> Principal:
        principal = current_principal(request)
        if principal.role < role:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {role.name} role")
        return principal

    return check
