"""Fake skills for offline workflow tests: a fixed output, a function, or an error on the Nth call.

A fake replaces only a skill's *function*: the engine still validates the step's arguments
with the skill's parameter model and the fake's answer with the skill's result model, so a
test with fakes catches a misspelt argument or an output the next step cannot read.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from orchestrator.plugin import SkillContext, SkillSpec
from orchestrator.registry import SkillRegistry


class FakeSetupError(ValueError):
    """A fake is declared wrongly (unknown skill, an output that does not fit the result model)."""


@dataclass(frozen=True)
class FakeCall:
    """One call a fake received: where from and with which (validated) arguments."""

    step_id: str
    item_index: int | None
    attempt: int
    idempotency_key: str
    params: dict[str, Any]


_NOT_GIVEN: Any = object()


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors())


@dataclass
class FakeSkill:
    """Stands in for one skill in an offline run.

    Args:
        returns: The output of every call (a mapping or the result model), checked against the
            skill's result model when the fake is installed. May be omitted when the result
            model needs no values.
        function: Computes the output instead: ``function(params)`` or ``function(ctx, params)``.
        raises: An exception to raise (``BusinessError``, ``TechnicalError``...), on every
            call or only on the calls listed in ``on_call``.
        on_call: 1-based call number(s) that raise ``raises``; the other calls answer normally.
        found: For an ``effect: once`` skill with a verify: what the verify answers after a
            failed attempt — ``None`` (default: the effect is not on the platform) or the
            output to adopt.
    """

    returns: Mapping[str, Any] | BaseModel | None = None
    function: Callable[..., Any] | None = None
    raises: BaseException | None = None
    on_call: int | Collection[int] | None = None
    found: Mapping[str, Any] | BaseModel | None = None
    calls: list[FakeCall] = field(default_factory=list)
    verify_calls: list[FakeCall] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.returns is not None and self.function is not None:
            raise FakeSetupError("give a fake either 'returns' or 'function', not both")
        if self.on_call is not None and self.raises is None:
            raise FakeSetupError("'on_call' says which calls raise: give 'raises' too")

    # -- the answers ---------------------------------------------------------------------
    def _raises_now(self, number: int) -> bool:
        if self.raises is None:
            return False
        if self.on_call is None:
            return True
        wanted = {self.on_call} if isinstance(self.on_call, int) else set(self.on_call)
        return number in wanted

    def answer(self, spec: SkillSpec, ctx: SkillContext, params: BaseModel) -> Any:
        """What the faked skill returns (or raises) for this call."""
        self.calls.append(_call_of(ctx, params))
        if self._raises_now(len(self.calls)):
            assert self.raises is not None
            raise copy.copy(self.raises)
        if self.function is not None:
            arity = len(inspect.signature(self.function).parameters)
            result = self.function(ctx, params) if arity >= 2 else self.function(params)
            return result
        return _default_output(spec) if self.returns is None else _as_mapping(self.returns)

    def verify_answer(self, ctx: SkillContext, params: BaseModel) -> Any:
        self.verify_calls.append(_call_of(ctx, params))
        return None if self.found is None else _as_mapping(self.found)

    # -- installing ----------------------------------------------------------------------
    def check(self, spec: SkillSpec) -> None:
        """Refuse outputs that the skill's result model would refuse (said at install time)."""
        for label, value in (("returns", self.returns), ("found", self.found)):
            if value is None:
                continue
            try:
                spec.result_model.model_validate(_as_mapping(value))
            except ValidationError as exc:
                raise FakeSetupError(
                    f"fake {spec.id}: '{label}' does not fit {spec.result_model.__name__}: {_problems(exc)}"
                ) from None
        answers_normally = self.raises is None or self.on_call is not None
        if answers_normally and self.returns is None and self.function is None:
            _default_output(spec)  # raises FakeSetupError when the model needs values
        if self.found is not None and spec.verify is None:
            raise FakeSetupError(f"fake {spec.id}: 'found' is only used by skills that have a verify")

    def bind(self, spec: SkillSpec) -> SkillSpec:
        """A copy of ``spec`` whose function (and verify) are this fake."""
        self.check(spec)

        async def fake(ctx: SkillContext, params: BaseModel) -> Any:
            return self.answer(spec, ctx, params)

        fake.__qualname__ = f"fake[{spec.id}]"
        verify = None
        if spec.verify is not None:

            async def fake_verify(ctx: SkillContext, params: BaseModel) -> Any:
                return self.verify_answer(ctx, params)

            verify = fake_verify
        return dataclasses.replace(
            spec, func=fake, verify=verify, inline=False, source=f"fake of {spec.source}"
        )


def _call_of(ctx: SkillContext, params: BaseModel) -> FakeCall:
    return FakeCall(ctx.step_id, ctx.item_index, ctx.attempt, ctx.idempotency_key, params.model_dump())


def _as_mapping(value: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    return value.model_dump() if isinstance(value, BaseModel) else dict(value)


def _default_output(spec: SkillSpec) -> dict[str, Any]:
    try:
        return spec.result_model().model_dump()
    except ValidationError as exc:
        required = ", ".join(name for name, f in spec.result_model.model_fields.items() if f.is_required())
        raise FakeSetupError(
            f"fake {spec.id}: say what it returns (returns={{...}}); "
            f"{spec.result_model.__name__} needs {required or _problems(exc)}"
        ) from None


def fake(
    returns: Mapping[str, Any] | BaseModel | None = None,
    *,
    function: Callable[..., Any] | None = None,
    raises: BaseException | None = None,
    on_call: int | Collection[int] | None = None,
    found: Mapping[str, Any] | BaseModel | None = None,
) -> FakeSkill:
    """Shorthand for ``FakeSkill(...)``: ``fake({"txn_no": "TXN-1"})``, ``fake(raises=..., on_call=1)``."""
    return FakeSkill(returns=returns, function=function, raises=raises, on_call=on_call, found=found)


FakeSpec = FakeSkill | Mapping[str, Any] | BaseModel | Callable[..., Any] | BaseException


def as_fake(value: FakeSpec) -> FakeSkill:
    """Accept the short forms: an output mapping/model, a function, or an exception to raise."""
    if isinstance(value, FakeSkill):
        return value
    if isinstance(value, BaseException):
        return FakeSkill(raises=value)
    if isinstance(value, Mapping | BaseModel):
        return FakeSkill(returns=value)
    if callable(value):
        return FakeSkill(function=value)
    raise FakeSetupError(
        f"cannot fake a skill with {value!r}: give an output mapping, a function, an exception or fake(...)"
    )


def registry_with_fakes(
    base: SkillRegistry, fakes: Mapping[str, FakeSpec]
) -> tuple[SkillRegistry, dict[str, FakeSkill]]:
    """A copy of ``base`` in which each skill named in ``fakes`` (id or alias) is a fake.

    Returns the new registry and the installed fakes by canonical skill id.
    """
    registry = copy_registry(base)
    installed: dict[str, FakeSkill] = {}
    for skill_id, value in fakes.items():
        spec = base.get(skill_id)
        if spec is None:
            hint = base.suggest(skill_id)
            raise FakeSetupError(
                f"cannot fake {skill_id!r}: no such skill" + (f"; did you mean {hint!r}?" if hint else "")
            )
        installed[spec.id] = as_fake(value)
        registry.skills[spec.id] = installed[spec.id].bind(spec)
    return registry, installed


def copy_registry(base: SkillRegistry) -> SkillRegistry:
    """A registry with the same skills, aliases and services, whose skills can be swapped."""
    return SkillRegistry(
        skills=dict(base.skills),
        aliases=dict(base.aliases),
        services=dict(base.services),
        failures=list(base.failures),
        plugins=dict(base.plugins),
    )
