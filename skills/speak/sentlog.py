"""A small append-only log of sent notifications, keyed by the step's idempotency key.

``speak.notify`` records each notification after the server accepted it, and its ``verify``
companion looks the key up after a crash: found means "already sent, here is the result".
One JSON object per line; appends and reads hold an exclusive ``flock`` so that several worker
processes on one machine can share the file.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Literal


class SentLog:
    """The JSON-lines file at ``path`` (created with its folder on first write)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _locked(self, mode: Literal["rb", "ab"]) -> Iterator[BinaryIO]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, mode) as stream:
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX)
            try:
                yield stream
            finally:
                fcntl.flock(stream.fileno(), fcntl.LOCK_UN)

    def find(self, key: str) -> dict[str, Any] | None:
        """The last entry recorded under ``key``, or ``None``."""
        if not self.path.exists():
            return None
        found = None
        with self._locked("rb") as stream:
            for raw in stream:
                try:
                    entry = json.loads(raw)
                except ValueError:  # a line cut short by a crash mid-write: skip it
                    continue
                if isinstance(entry, dict) and entry.get("key") == key:
                    found = entry
        return found

    def record(self, key: str, entry: dict[str, Any]) -> None:
        """Append ``entry`` under ``key`` and flush it to disk."""
        line = json.dumps({"key": key, **entry}, ensure_ascii=False, default=str) + "\n"
        with self._locked("ab") as stream:
            stream.write(line.encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
