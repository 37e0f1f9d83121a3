"""The skill plugin contract: ``@skill``, ``SkillSpec``, ``SkillContext`` and ``@service``.

A skill is a plain or async function ``(ctx: SkillContext, params: ParamsModel) -> ResultModel |
None``. ``@skill`` checks that shape when the module is imported, attaches a frozen
``SkillSpec`` to the function and returns the function unchanged, so it stays callable and
testable on its own. Skills are collected by the registry from modules named in the
``rpa.skills`` entry-point group; built-in skills are registered exactly like third-party ones.

A *service* is a long-lived object a skill uses (a browser pool, an OCR engine, a display). A
skill never builds one: it asks ``ctx.services.get("browser")``, and the orchestrator creates it
once per process from the factory registered with ``@service`` and closes it at shutdown.
*Resources* are different: they are named capacities a skill declares (``{"desktop": 1}``)
that the orchestrator leases before the skill runs, so that two runs never drive one desktop.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from orchestrator.durations import parse_duration
from orchestrator.enums import Capability, Effect
from orchestrator.errors import SkillRegistrationError
from orchestrator.retry import RetryPolicy

SKILL_ID = re.compile(r"^(see|hear|speak|think|do)(\.[a-z][a-z0-9_]*)+$")
_SPEC_ATTR = "__rpa_skill__"
_SERVICE_ATTR = "__rpa_service__"

SkillFunction = Callable[..., Any]
VerifyFunction = Callable[..., Any]


class EmptyResult(BaseModel):
    """Result model of skills that return nothing."""


@dataclass(frozen=True)
class SkillSpec:
    """Everything the engine, the validator and the docs need to know about one skill."""

    id: str
    func: SkillFunction
    params_model: type[BaseModel]
    result_model: type[BaseModel]
    effect: Effect
    description: str
    verify: VerifyFunction | None = None
    resources: Mapping[str, int] = field(default_factory=dict)
    timeout: timedelta | None = None
    retry: RetryPolicy | None = None
    aliases: tuple[str, ...] = ()
    example: str | None = None
    source: str = ""
    inline: bool = False

    @property
    def capability(self) -> Capability:
        return Capability(self.id.split(".", 1)[0])

    @property
    def summary(self) -> str:
        """The first line of the description."""
        return self.description.strip().splitlines()[0] if self.description.strip() else ""

    @property
    def is_async(self) -> bool:
        return self.coroutine

    @property
    def coroutine(self) -> bool:
        """Whether the skill is an ``async def`` (cached: the engine asks on every call)."""
        cached = self.__dict__.get("_coroutine")
        if cached is None:
            cached = inspect.iscoroutinefunction(self.func)
            object.__setattr__(self, "_coroutine", cached)
        return cached


class Services(Protocol):
    """Per-process shared objects (browser pool, OCR engine...) built by registered factories."""

    def get(self, name: str) -> Any:
        """Return the service, creating it on first use."""
        ...


class EvidenceSink(Protocol):
    """Stores run evidence (screenshots, documents) and returns where it went and its hash."""

    def save(self, name: str, data: bytes, media_type: str) -> EvidenceRef: ...


@dataclass(frozen=True)
class EvidenceRef:
    """A stored piece of evidence: its path and SHA-256 (recorded in the audit trail)."""

    name: str
    path: str
    sha256: str
    media_type: str


@dataclass(frozen=True)
class PlatformInfo:
    """The target platform a step acts on, from the ``platforms`` section of the settings."""

    name: str
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class SkillContext:
    """What a skill sees of the run that calls it.

    ``idempotency_key`` is stable across retries and resumes of the same step (and foreach
    element): a skill that talks to a platform should send it along or use it as the reference
    the platform deduplicates on.
    """

    run_id: str
    step_id: str
    skill_id: str
    attempt: int
    idempotency_key: str
    workflow: str = ""
    item_index: int | None = None
    platform: PlatformInfo | None = None
    services: Services | None = None
    evidence: EvidenceSink | None = None
    work_dir: Path = field(default_factory=Path.cwd)
    secrets: Mapping[str, str] = field(default_factory=dict)
    logger: Any = None
    heartbeat: Callable[[], None] = field(default=lambda: None)

    def service(self, name: str) -> Any:
        """Shortcut for ``ctx.services.get(name)``."""
        if self.services is None:
            raise SkillRegistrationError(f"no services are available to skill {self.skill_id}")
        return self.services.get(name)

    def save_evidence(self, name: str, data: bytes, media_type: str = "image/png") -> EvidenceRef | None:
        """Keep ``data`` as evidence of this step; returns ``None`` when no sink is configured."""
        if self.evidence is None:
            return None
        return self.evidence.save(f"{self.run_id}-{self.step_id}-{name}", data, media_type)

    def log(self, message: str, **fields: Any) -> None:
        """Log a line tagged with run, step and skill."""
        if self.logger is not None:
            self.logger.bind(run_id=self.run_id, step_id=self.step_id, skill=self.skill_id, **fields).info(
                message
            )


def _models_of(func: SkillFunction, skill_id: str) -> tuple[type[BaseModel], type[BaseModel]]:
    signature = inspect.signature(func)
    params = list(signature.parameters.values())
    if len(params) != 2 or any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params):
        raise SkillRegistrationError(
            f"skill {skill_id}: expected a function (ctx: SkillContext, params: Model), "
            f"got {func.__qualname__}{signature}"
        )
    try:
        hints = typing.get_type_hints(func)
    except Exception as exc:  # unresolvable forward references
        raise SkillRegistrationError(f"skill {skill_id}: cannot resolve type hints: {exc}") from exc
    params_model = hints.get(params[1].name)
    if not (inspect.isclass(params_model) and issubclass(params_model, BaseModel)):
        raise SkillRegistrationError(
            f"skill {skill_id}: the second parameter must be annotated with a pydantic model, "
            f"got {params_model!r}"
        )
    result = hints.get("return", None)
    result_model: type[BaseModel] = EmptyResult
    if result is not None and result is not type(None):
        candidates = [a for a in typing.get_args(result) if a is not type(None)] or [result]
        chosen = candidates[0]
        if typing.get_origin(chosen) is not None and issubclass(typing.get_origin(chosen), Awaitable):
            chosen = typing.get_args(chosen)[0]
        if not (inspect.isclass(chosen) and issubclass(chosen, BaseModel)):
            raise SkillRegistrationError(
                f"skill {skill_id}: the return annotation must be a pydantic model or None, got {result!r}"
            )
        result_model = chosen
    return params_model, result_model


def skill(
    skill_id: str,
    *,
    effect: Effect | str,
    verify: VerifyFunction | None = None,
    resources: Mapping[str, int] | None = None,
    timeout: str | timedelta | None = None,
    retry: RetryPolicy | None = None,
    aliases: tuple[str, ...] = (),
    example: str | None = None,
    inline: bool = False,
) -> Callable[[SkillFunction], SkillFunction]:
    """Declare a skill. See the module docstring for the contract.

    ``verify`` is the companion of an ``effect="once"`` skill: called with the same context and
    params after a crash or a failed attempt, it returns the skill's result when the effect is
    already on the platform (looked up by reference) and ``None`` when it is not.

    Plain (non-async) skills run in a worker thread so they cannot stall other runs.
    ``inline=True`` runs a plain skill directly on the engine's loop instead: only for tiny pure
    computations (no I/O), which then cost no thread hop but cannot be cut off by a timeout.
    """
    if not SKILL_ID.match(skill_id):
        raise SkillRegistrationError(
            f"skill id {skill_id!r} must look like '<capability>.<name>' with capability one of "
            "see, hear, speak, think, do and lower_snake names"
        )
    chosen_effect = Effect(effect)
    if verify is not None and chosen_effect is not Effect.once:
        raise SkillRegistrationError(f"skill {skill_id}: verify only makes sense for effect 'once'")

    def decorate(func: SkillFunction) -> SkillFunction:
        if hasattr(func, _SPEC_ATTR):
            raise SkillRegistrationError(f"{func.__qualname__} is already registered as a skill")
        params_model, result_model = _models_of(func, skill_id)
        spec = SkillSpec(
            id=skill_id,
            func=func,
            params_model=params_model,
            result_model=result_model,
            effect=chosen_effect,
            description=inspect.getdoc(func) or "",
            verify=verify,
            resources=dict(resources or {}),
            timeout=parse_duration(timeout) if timeout is not None else None,
            retry=retry,
            aliases=tuple(aliases),
            example=example,
            source=f"{func.__module__}:{func.__qualname__}",
            inline=inline,
        )
        setattr(func, _SPEC_ATTR, spec)
        return func

    return decorate


def spec_of(func: Any) -> SkillSpec | None:
    """The ``SkillSpec`` attached by ``@skill``, or ``None``."""
    spec = getattr(func, _SPEC_ATTR, None)
    return spec if isinstance(spec, SkillSpec) else None


@dataclass(frozen=True)
class ServiceSpec:
    """A factory of a per-process service; ``close`` is called on the object at shutdown."""

    name: str
    factory: Callable[[Mapping[str, Any]], Any]


def service(name: str) -> Callable[[Callable[[Mapping[str, Any]], Any]], Callable[[Mapping[str, Any]], Any]]:
    """Register a service factory ``factory(settings: Mapping) -> object`` under ``name``.

    The object may have a ``close()`` (or async ``aclose()``) method; the orchestrator calls it
    when the process shuts down.
    """

    def decorate(factory: Callable[[Mapping[str, Any]], Any]) -> Callable[[Mapping[str, Any]], Any]:
        setattr(factory, _SERVICE_ATTR, ServiceSpec(name=name, factory=factory))
        return factory

    return decorate


def service_spec_of(obj: Any) -> ServiceSpec | None:
    spec = getattr(obj, _SERVICE_ATTR, None)
    return spec if isinstance(spec, ServiceSpec) else None
