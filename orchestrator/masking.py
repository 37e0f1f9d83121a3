"""Masking of secret values before anything is logged or stored.

Every secret value a run reads through ``secrets.*`` (or a service reads for a platform login)
is registered here; ``mask`` replaces each occurrence in text and ``mask_value`` in nested
data. The store, the audit trail, the logs and the API all write masked data only.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 3


class Masker:
    """A set of secret values and the means to erase them from text and data."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._ordered: list[str] = []
        self._lock = threading.Lock()

    def register(self, value: str | None) -> None:
        if not value or len(value) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if value in self._values:
                return
            self._values.add(value)
            self._ordered = sorted(self._values, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._ordered)

    def mask(self, text: str) -> str:
        for value in self._ordered:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def mask_value(self, value: Any) -> Any:
        """Mask every string inside ``value`` (dicts, lists, pydantic-dumped data)."""
        if not self._ordered:
            return value
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, Mapping):
            return {k: self.mask_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.mask_value(v) for v in value]
        return value


GLOBAL_MASKER = Masker()
"""Process-wide masker used by logging; run maskers register here too."""
