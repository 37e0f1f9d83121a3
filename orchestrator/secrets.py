"""Where secret values come from. Workflows reach them only through ``secrets.NAME``.

``EnvSecretSource`` reads ``RPA_SECRET_<NAME>`` variables; the encrypted vault file adds a
second source (``orchestrator/vault.py``). Every value read is registered with the masker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Protocol

from orchestrator.masking import GLOBAL_MASKER, Masker

ENV_PREFIX = "RPA_SECRET_"


class SecretSource(Protocol):
    """A read-only source of secrets by name."""

    def get(self, name: str) -> str | None: ...

    def names(self) -> list[str]: ...


class EnvSecretSource:
    """Secrets from environment variables ``RPA_SECRET_<NAME>`` (name compared upper-case)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ if environ is not None else os.environ

    def get(self, name: str) -> str | None:
        return self._environ.get(ENV_PREFIX + name.upper())

    def names(self) -> list[str]:
        return sorted(k.removeprefix(ENV_PREFIX) for k in self._environ if k.startswith(ENV_PREFIX))


class ChainedSecretSource:
    """The first source that knows a name wins."""

    def __init__(self, *sources: SecretSource) -> None:
        self.sources = list(sources)

    def get(self, name: str) -> str | None:
        for source in self.sources:
            value = source.get(name)
            if value is not None:
                return value
        return None

    def names(self) -> list[str]:
        return sorted({n for s in self.sources for n in s.names()})


class SecretsView(Mapping[str, str]):
    """The ``secrets`` an expression or a service reads: looks up lazily and registers for masking."""

    def __init__(self, source: SecretSource, masker: Masker) -> None:
        self._source = source
        self._masker = masker

    def __getitem__(self, name: str) -> str:
        value = self._source.get(name)
        if value is None:
            raise KeyError(
                f"secret {name!r} is not set (expected RPA_SECRET_{name.upper()} or a vault entry)"
            )
        self._masker.register(value)
        GLOBAL_MASKER.register(value)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._source.names())

    def __len__(self) -> int:
        return len(self._source.names())
