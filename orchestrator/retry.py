"""Retry policy: exponential backoff with full jitter (AWS architecture blog, Temporal's fields)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing step is tried again.

    The delay before attempt ``n + 1`` is drawn uniformly from
    ``[0, min(max_interval, initial_interval * backoff_coefficient ** (n - 1))]`` ("full
    jitter"), so that many runners failing together do not retry in lockstep.
    ``max_attempts`` counts the first try: ``1`` means no retry.
    """

    max_attempts: int = 3
    initial_interval: timedelta = timedelta(seconds=1)
    backoff_coefficient: float = 2.0
    max_interval: timedelta = timedelta(seconds=60)
    retry_business_codes: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_coefficient < 1:
            raise ValueError("backoff_coefficient must be at least 1")

    def ceiling(self, attempt: int) -> timedelta:
        """Upper bound of the delay after failed attempt number ``attempt`` (1-based)."""
        grown = self.initial_interval.total_seconds() * self.backoff_coefficient ** (attempt - 1)
        return timedelta(seconds=min(self.max_interval.total_seconds(), grown))

    def delay(self, attempt: int, rng: random.Random | None = None) -> timedelta:
        """A full-jitter delay to wait after failed attempt ``attempt`` before the next one."""
        upper = self.ceiling(attempt).total_seconds()
        draw = (rng or random).uniform(0.0, upper)
        return timedelta(seconds=draw)

    def allows_another(self, attempt: int) -> bool:
        """True when attempt ``attempt`` (1-based) failed and another may follow."""
        return attempt < self.max_attempts


NO_RETRY = RetryPolicy(max_attempts=1)
