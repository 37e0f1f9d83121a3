"""``rpa plan``: what a workflow will do, step by step, without running anything.

The plan is built from the validated workflow, the skill registry and whatever inputs are
given: expressions are evaluated where the values they read are known before the run
(inputs, defaults, ``env``, ``run.workflow``) and shown as ``Unresolved`` where they are not
(``steps.*`` outputs, ``item``, ``run.id``, secrets). Nothing is stored and no skill is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from orchestrator.enums import Effect, OnError
from orchestrator.errors import ExpressionError
from orchestrator.expressions import CompiledExpression, evaluate, references, split_template, truthy
from orchestrator.plugin import SkillSpec
from orchestrator.registry import SkillRegistry
from orchestrator.retry import RetryPolicy
from orchestrator.spec.validate import LoadedWorkflow
from orchestrator.spec.workflow import InputSpec, StepSpec, coerce_input

DEFAULT_TIMEOUT = timedelta(minutes=10)
AT_RUN_TIME = "known at run time"


@dataclass(frozen=True)
class Unresolved:
    """A value that cannot be known before the run, with the reason."""

    expression: str
    why: str
    shown: str | None = None  # a template with its known parts filled in

    def __str__(self) -> str:
        return self.shown if self.shown is not None else f"<{self.expression}: {self.why}>"


@dataclass(frozen=True)
class InputPlan:
    name: str
    type: str
    value: Any  # the typed value, or Unresolved when not given and without default
    source: str  # given | default | missing
    description: str = ""


@dataclass(frozen=True)
class StepPlan:
    """One step as it will run."""

    number: int
    id: str
    skill: str
    summary: str
    effect: str
    recovery: str
    verify: str | None
    platform: str | None
    platform_known: bool | None  # None when no settings were given to check against
    resources: dict[str, int]
    retry: RetryPolicy
    retry_source: str
    timeout: timedelta | None
    timeout_source: str
    on_error: str
    on_error_means: str
    condition: str | None  # the `if` as written
    runs: bool | Unresolved  # True (runs), False (skipped) or decided at run time
    foreach: str | list[Any] | None  # the `foreach` as written
    elements: list[Any] | Unresolved | None
    idempotency_key: Any
    arguments: dict[str, Any]
    name: str | None = None
    description: str = ""


@dataclass
class WorkflowPlan:
    """The whole plan: inputs, steps in order, outputs and anything that looks wrong."""

    workflow: str
    file: str
    description: str
    inputs: list[InputPlan]
    steps: list[StepPlan]
    outputs: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


ON_ERROR_MEANS = {
    OnError.retry: "technical errors are retried, then the run fails; business errors go to the manual queue",
    OnError.manual: "technical errors are retried, then the run goes to the manual queue; "
    "business errors go to the manual queue",
    OnError.fail: "no retry: any error fails the run",
    OnError.continue_: "technical errors are retried; a step that still fails is recorded and the run "
    "carries on",
}


def expression_text(value: Any) -> str:
    """How a value reads inside a text template (as the engine renders it)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


class _Resolver:
    """Evaluates what is known before the run; everything else becomes ``Unresolved``."""

    def __init__(self, known: dict[str, Any], missing_inputs: set[str]) -> None:
        self.known = known
        self.missing_inputs = missing_inputs
        self.warnings: list[str] = []

    def why_unknown(self, expression: CompiledExpression) -> str | None:
        for ref in references(expression):
            root, parts = ref.root, ref.parts
            if root == "steps":
                return AT_RUN_TIME
            if root in ("item", "index"):
                return "each element"
            if root == "secrets":
                return "secret, read at run time"
            if root == "run" and (len(parts) < 2 or parts[1] != "workflow"):
                return AT_RUN_TIME
            if root == "inputs" and len(parts) > 1 and parts[1] in self.missing_inputs:
                return "input not given"
            if root == "inputs" and len(parts) == 1 and self.missing_inputs:
                return "input not given"
        return None

    def value(self, raw: Any, where: str) -> Any:
        if isinstance(raw, str):
            return self.text(raw, where) if "${{" in raw else raw
        if isinstance(raw, Mapping):
            return {key: self.value(child, f"{where}.{key}") for key, child in raw.items()}
        if isinstance(raw, list):
            return [self.value(child, f"{where}[{i}]") for i, child in enumerate(raw)]
        return raw

    def text(self, raw: str, where: str) -> Any:
        try:
            parts = split_template(raw)
        except ExpressionError as exc:  # validation reports it too; keep the plan going
            return Unresolved(raw, f"error: {exc.message}")
        values = [part if isinstance(part, str) else self.expression(part, where) for part in parts]
        if len(parts) == 1 and isinstance(parts[0], CompiledExpression):
            return values[0]
        if not any(isinstance(v, Unresolved) for v in values):
            return "".join(
                v if isinstance(p, str) else expression_text(v) for p, v in zip(parts, values, strict=True)
            )
        whys = sorted({v.why for v in values if isinstance(v, Unresolved)})
        shown = "".join(
            str(v) if isinstance(v, Unresolved) else (v if isinstance(p, str) else expression_text(v))
            for p, v in zip(parts, values, strict=True)
        )
        return Unresolved(raw, "; ".join(whys), shown)

    def expression(self, expression: CompiledExpression, where: str) -> Any:
        why = self.why_unknown(expression)
        if why is not None:
            return Unresolved(expression.source, why)
        try:
            return evaluate(expression, self.known)
        except ExpressionError as exc:
            self.warnings.append(f"{where}: {exc.message}")
            return Unresolved(expression.source, f"error: {exc.message}")


def _inputs(
    workflow: LoadedWorkflow, given: Mapping[str, Any]
) -> tuple[list[InputPlan], dict[str, Any], list[str]]:
    plans: list[InputPlan] = []
    typed: dict[str, Any] = {}
    problems: list[str] = []
    declared: dict[str, InputSpec] = dict(workflow.spec.inputs)
    for name in sorted(set(given) - set(declared)):
        problems.append(f"unknown input {name!r}; declared: {', '.join(sorted(declared)) or 'none'}")
    for name, spec in declared.items():
        source = "given" if name in given else "default"
        raw = given.get(name, spec.default)
        if raw is None:
            if spec.is_required:
                plans.append(
                    InputPlan(
                        name,
                        spec.type,
                        Unresolved(f"inputs.{name}", "input not given"),
                        "missing",
                        spec.description,
                    )
                )
                continue
            typed[name] = None
            plans.append(InputPlan(name, spec.type, None, source, spec.description))
            continue
        try:
            value = coerce_input(spec, raw)
        except ValueError as exc:
            first = exc.errors()[0]["msg"] if hasattr(exc, "errors") else str(exc)
            problems.append(f"input {name!r}: expected {spec.type}, got {raw!r} ({first})")
            continue
        typed[name] = value
        plans.append(InputPlan(name, spec.type, value, source, spec.description))
    return plans, typed, problems


def effective_retry(step: StepSpec, skill: SkillSpec, default: RetryPolicy) -> tuple[RetryPolicy, str]:
    """The policy the engine applies to this step, and where it comes from."""
    if step.on_error is OnError.fail:
        return RetryPolicy(max_attempts=1), "on_error: fail"
    if step.retry is not None:
        return step.retry.to_policy(), "step"
    if skill.retry is not None:
        return skill.retry, "skill"
    return default, "default"


def effective_timeout(
    step: StepSpec, skill: SkillSpec, default: timedelta | None
) -> tuple[timedelta | None, str]:
    if step.timeout is not None:
        return step.timeout, "step"
    if skill.timeout is not None:
        return skill.timeout, "skill"
    return default, "default"


def _recovery(step: StepSpec, skill: SkillSpec) -> tuple[str, str | None]:
    """What happens to an interrupted attempt, and which verify looks the effect up."""
    if skill.effect is not Effect.once:
        return "an interrupted attempt is simply run again", None
    if step.verify is not None:
        return (
            "an interrupted attempt is looked up on the platform first (the step's verify)",
            step.verify.uses,
        )
    if skill.verify is not None:
        return "an interrupted attempt is looked up on the platform first (the skill's verify)", "skill"
    return "never repeated blindly: an interrupted attempt goes to the manual queue (no verify)", None


def build_plan(
    workflow: LoadedWorkflow,
    registry: SkillRegistry,
    inputs: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    platforms: Mapping[str, Any] | None = None,
    default_timeout: timedelta | None = DEFAULT_TIMEOUT,
    default_retry: RetryPolicy | None = None,
) -> WorkflowPlan:
    """The plan of ``workflow`` (already validated against ``registry``).

    Args:
        inputs: Inputs as given (``--input``); missing ones stay unresolved.
        env: Values of ``env.NAME``.
        platforms: The configured platforms, to warn about a step naming an unknown one.
        default_timeout: Timeout of steps that set none (the settings' ``default_timeout``).
        default_retry: Retry policy of steps and skills that set none.

    Raises:
        ValueError: An input is unknown or cannot be converted to its declared type.
    """
    input_plans, typed, problems = _inputs(workflow, inputs or {})
    if problems:
        raise ValueError("; ".join(problems))
    missing = {p.name for p in input_plans if p.source == "missing"}
    resolver = _Resolver(
        {"inputs": typed, "env": dict(env or {}), "run": {"workflow": workflow.spec.name}}, missing
    )
    steps = [
        _step_plan(
            number, step, registry, resolver, platforms, default_timeout, default_retry or RetryPolicy()
        )
        for number, step in enumerate(workflow.spec.steps, start=1)
    ]
    outputs = resolver.value(dict(workflow.spec.outputs), "outputs")
    warnings = list(resolver.warnings)
    for step in steps:
        if step.platform is not None and step.platform_known is False:
            warnings.append(
                f"step {step.id}: platform {step.platform!r} is not configured (settings: platforms)"
            )
    return WorkflowPlan(
        workflow=workflow.spec.name,
        file=workflow.file,
        description=workflow.spec.description.strip(),
        inputs=input_plans,
        steps=steps,
        outputs=outputs,
        warnings=warnings,
    )


def _step_plan(
    number: int,
    step: StepSpec,
    registry: SkillRegistry,
    resolver: _Resolver,
    platforms: Mapping[str, Any] | None,
    default_timeout: timedelta | None,
    default_retry: RetryPolicy,
) -> StepPlan:
    skill = registry.get(step.uses)
    assert skill is not None  # the workflow was validated against this registry
    where = f"step {step.id}"
    runs: bool | Unresolved = True
    if isinstance(step.if_, bool):
        runs = step.if_
    elif isinstance(step.if_, str):
        decided = resolver.value(step.if_, f"{where} if")
        runs = decided if isinstance(decided, Unresolved) else truthy(decided)
    elements: list[Any] | Unresolved | None = None
    if step.foreach is not None and runs is not False:
        resolved = resolver.value(step.foreach, f"{where} foreach")
        if isinstance(resolved, Unresolved | list):
            elements = resolved
        else:
            resolver.warnings.append(f"{where} foreach: expected a list, got {type(resolved).__name__}")
            elements = Unresolved(str(step.foreach), f"not a list: {resolved!r}")
    key: Any = (
        resolver.value(step.idempotency_key, f"{where} idempotency_key")
        if step.idempotency_key is not None
        else Unresolved("run.id", AT_RUN_TIME, f"<run.id>:{step.id}" + ("[<index>]" if step.foreach else ""))
    )
    retry, retry_source = effective_retry(step, skill, default_retry)
    timeout, timeout_source = effective_timeout(step, skill, default_timeout)
    recovery, verify = _recovery(step, skill)
    return StepPlan(
        number=number,
        id=step.id,
        name=step.name,
        description=step.description.strip(),
        skill=skill.id,
        summary=skill.summary,
        effect=skill.effect.value,
        recovery=recovery,
        verify=verify,
        platform=step.platform,
        platform_known=None if platforms is None or step.platform is None else step.platform in platforms,
        resources=dict(skill.resources),
        retry=retry,
        retry_source=retry_source,
        timeout=timeout,
        timeout_source=timeout_source,
        on_error=step.on_error.value,
        on_error_means=ON_ERROR_MEANS[step.on_error],
        condition=None
        if step.if_ is None
        else str(step.if_).lower()
        if isinstance(step.if_, bool)
        else step.if_,
        runs=runs,
        foreach=step.foreach,
        elements=elements,
        idempotency_key=key,
        arguments=typed_arguments(
            skill, resolver.value(dict(step.with_), f"{where} with"), where, resolver.warnings
        ),
    )


def _has_unresolved(value: Any) -> bool:
    if isinstance(value, Unresolved):
        return True
    if isinstance(value, Mapping):
        return any(_has_unresolved(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unresolved(v) for v in value)
    return False


def _as_data(value: Any) -> Any:
    """Validated values back as plain data: models as the fields that were given."""
    if isinstance(value, BaseModel):
        return _as_data(value.model_dump(exclude_unset=True, by_alias=True))
    if isinstance(value, dict):
        return {k: _as_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_data(v) for v in value]
    return value


def typed_arguments(
    skill: SkillSpec, arguments: dict[str, Any], where: str, warnings: list[str]
) -> dict[str, Any]:
    """Arguments converted by the skill's field types where fully known (``"true"`` → ``True``);
    a known value the skill will refuse is kept as given and reported as a warning."""
    fields = {info.alias or name: info for name, info in skill.params_model.model_fields.items()}
    typed: dict[str, Any] = {}
    for key, value in arguments.items():
        info = fields.get(key)
        if info is None or _has_unresolved(value):
            typed[key] = value
            continue
        try:
            annotation = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
            adapter: TypeAdapter[Any] = TypeAdapter(annotation)
            typed[key] = _as_data(adapter.validate_python(value))
        except ValidationError as exc:
            first = exc.errors()[0]
            detail = ".".join(str(p) for p in first["loc"])
            warnings.append(
                f"{where} with.{key}{'.' + detail if detail else ''}: {first['msg']} (given {value!r})"
            )
            typed[key] = value
        except Exception:
            typed[key] = value
    return typed
