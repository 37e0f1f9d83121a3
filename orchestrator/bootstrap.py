"""All wiring in one place: settings → store, registry, services, secrets, engine.

The CLI and the HTTP server are thin adapters over ``build_runtime``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.durations import parse_duration
from orchestrator.engine import EngineConfig, RunExecutor
from orchestrator.errors import ConfigError
from orchestrator.events import EngineEvent
from orchestrator.evidence import FileEvidenceSink
from orchestrator.registry import SkillRegistry
from orchestrator.secrets import ChainedSecretSource, EnvSecretSource, SecretSource
from orchestrator.services import ServicePool
from orchestrator.settings import Settings
from orchestrator.store.sql import SQLRunStore, open_store

ENV_EXPOSE_PREFIX = "RPA_ENV_"


@dataclass
class Runtime:
    settings: Settings
    store: SQLRunStore
    registry: SkillRegistry
    services: ServicePool
    secrets: SecretSource

    def executor(
        self, *, on_event: Callable[[EngineEvent], None] | None = None, owner: str | None = None
    ) -> RunExecutor:
        return RunExecutor(
            self.store,
            self.registry,
            config=engine_config(self.settings),
            services=self.services,
            secrets=self.secrets,
            on_event=on_event,
            owner=owner,
        )

    async def aclose(self) -> None:
        await self.services.aclose()
        self.store.close()


def exposed_env() -> dict[str, str]:
    """``env.X`` in expressions reads ``RPA_ENV_X`` (nothing else of the environment leaks in)."""
    return {
        k.removeprefix(ENV_EXPOSE_PREFIX): v for k, v in os.environ.items() if k.startswith(ENV_EXPOSE_PREFIX)
    }


def engine_config(settings: Settings) -> EngineConfig:
    from datetime import timedelta

    try:
        timeout = parse_duration(settings.default_timeout)
    except ValueError as exc:
        raise ConfigError(f"default_timeout: {exc}") from None
    return EngineConfig(
        lease=timedelta(seconds=settings.lease_seconds),
        default_timeout=timeout,
        work_dir=settings.work_dir.resolve(),
        platforms=settings.platforms,
        env=exposed_env(),
        evidence=FileEvidenceSink(settings.home / "evidence"),
        resources=settings.resources,
    )


def build_secrets(settings: Settings) -> SecretSource:
    sources: list[Any] = [EnvSecretSource()]
    try:
        from orchestrator.vault import vault_source_for

        vault = vault_source_for(settings)
        if vault is not None:
            sources.append(vault)
    except ImportError:
        pass
    return ChainedSecretSource(*sources)


def build_runtime(settings: Settings, registry: SkillRegistry | None = None) -> Runtime:
    registry = registry or SkillRegistry.from_entry_points()
    store = open_store(settings.database_url, synchronous=settings.sqlite_synchronous)
    services = ServicePool(registry.services, settings.service_settings())
    return Runtime(
        settings=settings, store=store, registry=registry, services=services, secrets=build_secrets(settings)
    )
