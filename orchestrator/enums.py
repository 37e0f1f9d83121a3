"""Enumerations shared by specs, the engine, the store and the API (values go to YAML and SQL)."""

from __future__ import annotations

from enum import StrEnum


class Capability(StrEnum):
    """The five capabilities a skill belongs to."""

    see = "see"
    hear = "hear"
    speak = "speak"
    think = "think"
    do = "do"


class Effect(StrEnum):
    """What calling a skill does to the world, which decides how a crash is recovered.

    ``none``: reads only; ``idempotent``: repeating it changes nothing more; ``once``: must
    happen at most once (a payment keyed into a platform) — needs verify to be repeated safely.
    """

    none = "none"
    idempotent = "idempotent"
    once = "once"


class OnError(StrEnum):
    """What a step does when it fails (see docs/workflow-language.md)."""

    retry = "retry"
    manual = "manual"
    fail = "fail"
    continue_ = "continue"


class RunStatus(StrEnum):
    """Lifecycle of a run."""

    pending = "pending"
    running = "running"
    done = "done"
    needs_review = "needs_review"
    failed = "failed"
    rejected = "rejected"

    @property
    def is_terminal(self) -> bool:
        return self in {RunStatus.done, RunStatus.failed, RunStatus.rejected}


class StepStatus(StrEnum):
    """Lifecycle of one step (or one foreach element) of a run."""

    started = "started"
    retrying = "retrying"
    done = "done"
    skipped = "skipped"
    failed = "failed"
    needs_review = "needs_review"
