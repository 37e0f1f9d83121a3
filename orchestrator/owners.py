"""Owners of runs and leases: ``host:pid:random`` strings, and whether one is known to be dead."""

from __future__ import annotations

import os
import socket


def owner_is_dead(owner: str | None) -> bool:
    """True when ``owner`` names a process on this host that no longer exists.

    An owner on another host, or one that cannot be checked, is assumed alive: callers then
    rely on lease expiry (and wait out in-flight attempts) instead.
    """
    if not owner:
        return True
    parts = owner.split(":")
    if len(parts) < 2 or parts[0] != socket.gethostname():
        return False
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False
