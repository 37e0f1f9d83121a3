"""Pieces every web platform shares: the loopback guard and the health answer."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import HTTPException, Request

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost", "testclient"})


def require_loopback(request: Request) -> None:
    """Refuse (403) callers that are not on this machine: test and admin routes carry no auth."""
    host = request.client.host if request.client else None
    if host not in LOOPBACK_HOSTS:
        raise HTTPException(status_code=403, detail=f"only local callers may use this route; found {host}")


def health(platform: str, store_path: Path) -> dict[str, object]:
    """The body of ``GET /health``; ``pid`` lets a launcher check that its own process answers."""
    return {"status": "ok", "platform": platform, "pid": os.getpid(), "store": str(store_path)}
