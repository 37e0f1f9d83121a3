"""One log line when the store goes away and one when it is back, not one per failed call.

A runner left alone at night keeps claiming, heartbeating and reaping while PostgreSQL is
restarted or the network is down; each of those calls fails. Logged one by one, a ten-minute
outage is a thousand warnings and the operator reading the log in the morning has to find its
start and end. ``StoreOutage`` says when it began (with the first error) and how long it lasted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from loguru import logger


@dataclass
class StoreOutage:
    who: str = "this runner"  # what keeps trying, as the first line says
    since: float | None = None  # monotonic time of the first failed call
    failed_calls: int = 0

    def failed(self, call: str, error: Exception) -> None:
        """A call to the store (a claim, a heartbeat, an inbox's enqueue) failed for want of it."""
        self.failed_calls += 1
        if self.since is None:
            self.since = time.monotonic()
            logger.warning(
                "store unavailable ({} failed: {}); {} keeps trying and says when it is back",
                call,
                error,
                self.who,
            )
        else:
            logger.debug("store still unavailable ({} failed: {})", call, error)

    def answered(self) -> None:
        """A call to the store succeeded: an outage under way is over."""
        if self.since is None:
            return
        lasted = time.monotonic() - self.since
        logger.warning(
            "store reachable again after {:.0f} s ({} call(s) failed meanwhile)", lasted, self.failed_calls
        )
        self.since, self.failed_calls = None, 0
