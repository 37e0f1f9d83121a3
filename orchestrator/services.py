"""A per-process pool of services (browser pool, OCR engine...) built lazily from factories."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Mapping
from typing import Any

from orchestrator.errors import ResourceUnavailable
from orchestrator.plugin import ServiceSpec


class ServicePool:
    """Creates each service once, on first ``get``, and closes all of them on ``close``.

    ``settings`` is the mapping handed to every factory (the ``services`` section of the
    settings plus ``platforms``), so a factory never reads the environment itself.
    """

    def __init__(
        self, factories: Mapping[str, ServiceSpec], settings: Mapping[str, Any] | None = None
    ) -> None:
        self._factories = dict(factories)
        self._settings = dict(settings or {})
        self._instances: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Any:
        with self._lock:
            if name in self._instances:
                return self._instances[name]
            spec = self._factories.get(name)
            if spec is None:
                known = ", ".join(sorted(self._factories)) or "none"
                raise ResourceUnavailable(f"no service named {name!r} is registered (known: {known})")
            instance = spec.factory(self._settings)
            self._instances[name] = instance
            return instance

    def provide(self, name: str, instance: Any) -> None:
        """Install a ready-made service (tests, embedding)."""
        with self._lock:
            self._instances[name] = instance

    async def aclose(self) -> None:
        """Close every created service, newest first; errors are swallowed (shutdown path)."""
        with self._lock:
            instances = list(self._instances.items())[::-1]
            self._instances.clear()
        for _name, instance in instances:
            closer = getattr(instance, "aclose", None) or getattr(instance, "close", None)
            if closer is None:
                continue
            try:
                result = closer()
                if inspect.isawaitable(result):
                    await result
            except Exception:  # noqa: S110 - a service failing to close must not hide the run's outcome  # nosec B110
                pass

    def close(self) -> None:
        """Synchronous variant of ``aclose`` for code that runs outside an event loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self.aclose())
            return
        raise RuntimeError("ServicePool.close() called inside an event loop; await aclose() instead")
