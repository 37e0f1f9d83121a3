"""The error tree of Digital Employee.

::

    RpaError
    ├── WorkflowError            a workflow or bot file is wrong (carries diagnostics; never retried)
    ├── ExpressionError          a ${{ }} expression cannot be parsed or evaluated (carries a location)
    ├── SkillError               raised by skills; decides how the engine reacts
    │   ├── BusinessError        the data or the world is not as expected: manual queue, no retry
    │   └── TechnicalError       transient or system fault (timeout, platform down): retried
    │       ├── SkillTimeout     the skill exceeded its timeout
    │       └── ResourceUnavailable   a browser, display or platform could not be reached
    ├── PluginLoadError          a skill plugin (entry point) failed to load
    ├── StoreError               the run store failed
    │   └── StoreUnavailable     the database cannot be reached
    ├── LeaseLostError           this runner no longer owns the run or resource (fencing)
    └── ConfigError (ValueError) settings or configuration files are invalid

"TechnicalError" is what RPA suites call a "system exception"; the name avoids shadowing
Python's builtin ``SystemError``. Any exception a skill raises that is not a ``SkillError`` is
treated as a ``TechnicalError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class RpaError(Exception):
    """Base class of every error this project raises on purpose."""


@dataclass(frozen=True)
class Location:
    """A 1-based position in a source file, with the field path it belongs to."""

    file: str
    line: int
    column: int
    path: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where} {self.path}" if self.path else where


class WorkflowError(RpaError):
    """A workflow or bot definition is invalid. ``diagnostics`` holds every problem found."""

    def __init__(self, message: str, diagnostics: list[Any] | None = None) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics or [])


class ExpressionError(RpaError):
    """An expression failed to parse or evaluate."""

    def __init__(self, message: str, expression: str = "", location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.location = location

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        return f"{prefix}{self.message}"


class SkillError(RpaError):
    """Base of the errors a skill raises to tell the engine what happened.

    ``step_id``, ``skill``, ``run_id`` and ``attempt`` are attached by the engine as the error
    travels up, so a skill only states what was expected and what was found.
    """

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})
        self.run_id: str | None = None
        self.step_id: str | None = None
        self.skill: str | None = None
        self.attempt: int | None = None


class BusinessError(SkillError):
    """The data or the target platform is not as expected (a business exception).

    Never retried by default: the run is parked in the manual queue with this message as the
    reason. ``code`` is a short machine-readable reason (e.g. ``amount_mismatch``).
    """

    def __init__(
        self, message: str, *, code: str = "business_error", details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.code = code


class TechnicalError(SkillError):
    """A transient or system fault: retried under the step's retry policy.

    ``applied`` tells the engine whether the side effect of a ``once`` skill happened: ``False``
    when the skill knows nothing reached the platform (connection refused before sending), which
    makes a retry safe even without a verify companion; ``None`` (unknown) otherwise.
    """

    def __init__(
        self, message: str, *, applied: bool | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.applied = applied


class SkillTimeout(TechnicalError):
    """The skill did not finish within its timeout.

    ``pending`` is the still-running call of a plain (threaded) skill, which Python cannot
    stop: for an effect ``once`` the engine waits for it before deciding anything, so that a
    late success is neither lost nor repeated.
    """

    def __init__(self, message: str, *, pending: object = None) -> None:
        super().__init__(message)
        self.pending = pending


class ResourceUnavailable(TechnicalError):
    """A resource (browser, display, platform session) could not be obtained."""


class PluginLoadError(RpaError):
    """A skill plugin failed to load; only workflows that use its skills are affected."""

    def __init__(self, plugin: str, reason: str) -> None:
        super().__init__(f"skill plugin {plugin!r} failed to load: {reason}")
        self.plugin = plugin
        self.reason = reason


class SkillRegistrationError(RpaError):
    """A skill was declared wrongly (bad signature, duplicate id, unknown capability)."""


class StoreError(RpaError):
    """The run store failed."""


class StoreUnavailable(StoreError):
    """The database cannot be reached."""


class UniqueConflict(StoreError):
    """A write met a row with the same unique key (``constraint`` names it); nothing of its
    transaction was kept. Raised by the hot path (``SQLRunStore.hot_tx``); on SQLite
    ``constraint`` is None (SQLite names the columns, not the constraint)."""

    def __init__(self, constraint: str | None, message: str) -> None:
        super().__init__(message)
        self.constraint = constraint


class LeaseLostError(RpaError):
    """This runner no longer holds the lease (on a run or a resource) it acted under."""


class ItemNotWaiting(RpaError):
    """A work item a person acted on is no longer waiting for a person (someone else did)."""


class RunNotFound(RpaError, LookupError):
    """No run with this id exists."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run with id {run_id!r}")
        self.run_id = run_id


class ConfigError(RpaError, ValueError):
    """Settings or a configuration file are invalid."""
