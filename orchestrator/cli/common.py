"""Shared CLI state: global options, the console, exit codes, run-id lookup."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from orchestrator import jsoncodec
from orchestrator.errors import RpaError, RunNotFound

if TYPE_CHECKING:  # the store and engine are imported only by commands that use them
    from orchestrator.bootstrap import Runtime
    from orchestrator.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NEEDS_REVIEW = 3
EXIT_INTERRUPTED = 4

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class CliError(RpaError):
    """A user-facing error: printed without a traceback, exit code 2 by default."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class GlobalOptions:
    config: Path | None = None
    db: str | None = None
    home: Path | None = None
    log_json: bool = False
    log_level: str | None = None
    debug: bool = False
    _settings: Settings | None = field(default=None, repr=False)
    _runtime: Runtime | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        from orchestrator.logsetup import configure_logging
        from orchestrator.settings import load_settings

        if self._settings is None:
            self._settings = load_settings(
                self.config,
                db_url=self.db,
                home=self.home,
                log_json=self.log_json or None,
                log_level=self.log_level,
            )
            configure_logging(self._settings.log_level, json_lines=self._settings.log_json)
        return self._settings

    def runtime(self) -> Runtime:
        from orchestrator.bootstrap import build_runtime

        if self._runtime is None:
            self._runtime = build_runtime(self.settings())
        return self._runtime


OPTIONS = GlobalOptions()


def print_error(message: str, prefix: str = "error") -> None:
    """``error: message`` on stderr; the message is never read as rich markup."""
    err.print(f"[red]{prefix}:[/] ", end="")
    err.print(message, markup=False)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(jsoncodec.to_jsonable(value), ensure_ascii=False, indent=2) + "\n")


def resolve_run_id(runtime: Runtime, given: str) -> str:
    """Accept a full run id or an unambiguous prefix (at least 6 characters)."""
    try:
        return runtime.store.get_run(given).id
    except RunNotFound:
        pass
    if len(given) >= 6:
        matches = runtime.store.find_runs_by_prefix(given)
        if len(matches) == 1:
            return matches[0].id
        if len(matches) > 1:
            raise CliError(f"run id prefix {given!r} is ambiguous ({len(matches)} runs)")
    raise CliError(f"no run with id {given!r}")
