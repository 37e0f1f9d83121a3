"""What the API and the dashboard answer while the store is unavailable: 503 with Retry-After.

Not the 409 of a business conflict, which a client must not send again: a PostgreSQL restart
or a network cut is over in seconds, and an enqueue sent again is idempotent.
"""

from __future__ import annotations

from orchestrator.errors import StoreUnavailable

STORE_RETRY_AFTER = "5"  # seconds


def store_unavailable_detail(exc: StoreUnavailable) -> str:
    return f"the store is unavailable; send the request again shortly ({exc})"
