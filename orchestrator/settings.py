"""Settings: one model built once at the edge (CLI, server) and passed down.

Sources, strongest first: environment variables ``RPA_*`` (nested with ``__``, e.g.
``RPA_PLATFORMS__PORTAL__BASE_URL``), then the configuration file (``--config``, ``RPA_CONFIG``
or ``./rpa.yaml``), then the defaults below. The file is read with the same located, type-safe
YAML loader as workflows, so a mistake is reported as ``rpa.yaml:LINE:COL field: message``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from orchestrator.errors import ConfigError


class Settings(BaseSettings):
    """Everything configurable about a Digital Employee installation."""

    model_config = SettingsConfigDict(env_prefix="RPA_", env_nested_delimiter="__", extra="forbid")

    home: Path = Field(Path(".rpa"), description="Data folder: the SQLite store, evidence, logs.")
    db_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite file under home.")
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = Field(
        "FULL", description="SQLite durability; FULL survives a power cut."
    )
    work_dir: Path = Field(Path("."), description="Folder file skills work in (relative paths start here).")
    file_roots: list[Path] = Field(default_factory=list, description="Extra folders file skills may touch.")
    lease_seconds: float = Field(30.0, gt=0, le=3600, description="Run and work-item lease duration.")
    default_timeout: str = Field(
        "10m", description="Timeout of a step attempt unless the step says otherwise."
    )
    log_json: bool = Field(False, description="Log JSON lines instead of readable text.")
    log_level: str = Field("INFO", description="Lowest level logged.")
    platforms: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Target platforms by name."
    )
    services: dict[str, Any] = Field(
        default_factory=dict, description="Settings handed to service factories."
    )
    bots_dir: Path = Field(Path("bots"), description="Folder of bot files published by 'rpa serve'.")
    runners: int = Field(
        2, ge=0, le=64, description="Runs executed at once by 'rpa serve' (embedded runners)."
    )
    poll_interval: float = Field(
        0.5,
        gt=0,
        le=60,
        description="Longest wait in seconds between claims when the queue is empty (a runner "
        "that just ran dry looks again after 5 ms, then twice as long each time up to this).",
    )
    shutdown_grace: float = Field(
        20.0, ge=0, le=600, description="Seconds running items get to finish on SIGTERM."
    )
    resources: dict[str, int] = Field(
        default_factory=dict, description="Capacity of named resources (default 1)."
    )
    api_host: str = Field("127.0.0.1", description="Address 'rpa serve' listens on.")
    api_port: int = Field(8400, ge=0, le=65535, description="Port 'rpa serve' listens on.")
    api_tokens: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Machine API tokens by name: {sha256: <hex of the token>, role: viewer|operator|admin}.",
    )
    vault_file: Path | None = Field(
        None, description="Encrypted secrets vault (default <home>/vault.json.enc); key in RPA_VAULT_KEY."
    )
    audit_key_file: Path | None = Field(
        None, description="File holding the key that signs exported audit chain heads (else RPA_AUDIT_KEY)."
    )
    config_file: Path | None = Field(None, description="The configuration file that was read, if any.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # the environment overrides the configuration file (passed in as init values)
        return env_settings, init_settings

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home / 'rpa.db').resolve()}"

    def service_settings(self) -> dict[str, Any]:
        """The mapping every service factory receives."""
        return {
            **self.services,
            "platforms": self.platforms,
            "file_roots": [str(p) for p in self.file_roots],
            "home": str(self.home),
            "work_dir": str(self.work_dir),
        }


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Build settings from the file (if any), the environment and explicit overrides."""
    from orchestrator.spec.diagnostics import validation_diagnostics
    from orchestrator.spec.yamlsource import load_yaml_file

    path = (
        Path(config) if config else (Path(os.environ["RPA_CONFIG"]) if os.environ.get("RPA_CONFIG") else None)
    )
    if path is None and Path("rpa.yaml").exists():
        path = Path("rpa.yaml")
    data: dict[str, Any] = {}
    if path is not None:
        doc = load_yaml_file(path)
        if doc.errors:
            raise ConfigError("\n".join(str(d) for d in doc.errors))
        if doc.data is not None and not isinstance(doc.data, dict):
            raise ConfigError(f"{path}:1:1: expected a mapping of settings")
        data = dict(doc.data or {})
        data["config_file"] = path
        try:
            Settings.model_validate(data)
        except ValidationError as exc:
            diagnostics = validation_diagnostics(exc, doc, model=Settings)
            if any(d.rule != "missing-field" for d in diagnostics):
                raise ConfigError("\n".join(str(d) for d in diagnostics)) from None
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from None
