"""Resources a skill declares (``resources={"desktop": 1}``): held while the skill runs.

These guard what a runner process has only one of — its display, its desktop session — so two
runs in one process never type into the same window at once. Capacities come from the
``resources`` setting (default 1 each). Capacities shared across runners on many machines
(``clearing-terminal: 1`` in a bot file) are leases in the store, taken when an item is claimed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping


class ResourceLocks:
    def __init__(self, capacities: Mapping[str, int] | None = None) -> None:
        self._capacities = dict(capacities or {})
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    def _semaphore(self, name: str) -> asyncio.Semaphore:
        if name not in self._semaphores:
            self._semaphores[name] = asyncio.Semaphore(max(1, int(self._capacities.get(name, 1))))
        return self._semaphores[name]

    @contextlib.asynccontextmanager
    async def hold(self, needs: Mapping[str, int]) -> AsyncIterator[None]:
        """Acquire every unit needed, in name order (no deadlock between two skills)."""
        taken: list[asyncio.Semaphore] = []
        try:
            for name in sorted(needs):
                semaphore = self._semaphore(name)
                for _ in range(max(1, int(needs[name]))):
                    await semaphore.acquire()
                    taken.append(semaphore)
            yield
        finally:
            for semaphore in reversed(taken):
                semaphore.release()
