"""How soon a PostgreSQL connection gives up on a server that stopped answering.

libpq's defaults wait forever for a server that accepted the TCP connection but never answers
(a wedged host, a proxy in front of a stopped database) and leave a dead idle connection to
the kernel's retransmissions (about 15 minutes). A runner working unattended would hang there,
its leases would run out, and nobody would read why. These limits make such a connection fail
within a minute with an error the store reports as ``StoreUnavailable``; a URL's own value of
any of them (``?connect_timeout=30``) wins.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL, make_url

PG_CONNECT_DEFAULTS: dict[str, int] = {
    "connect_timeout": 10,  # seconds for the server to answer a new connection
    "keepalives": 1,  # an idle connection (pooled, or a runner's between items) is probed ...
    "keepalives_idle": 30,  # ... after 30 s of silence,
    "keepalives_interval": 10,  # every 10 s,
    "keepalives_count": 3,  # and dropped after 3 probes unanswered
    "tcp_user_timeout": 30_000,  # ms a statement sent may stay unacknowledged by the server's host
}


def pg_connect_args(url: str | URL) -> dict[str, Any]:
    """The limits above that ``url`` does not set itself, as psycopg connection arguments."""
    given = make_url(url).query
    return {name: value for name, value in PG_CONNECT_DEFAULTS.items() if name not in given}
