"""The workflow language: pydantic models of a workflow file (the edge), frozen after load.

See ``docs/workflow-language.md`` for the reference. Durations are written ``"30s"`` and become
``timedelta`` here; amounts stay ``Decimal``; nothing in a YAML file is converted by guessing.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from orchestrator.durations import parse_duration
from orchestrator.enums import OnError
from orchestrator.retry import RetryPolicy

IDENTIFIER = r"^[a-z][a-z0-9_]*$"
WORKFLOW_NAME = r"^[a-z][a-z0-9_\-]*$"
EXPRESSION_HINT = "a ${{ ... }} expression"


def _duration(value: Any) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    WithJsonSchema(
        {
            "type": ["string", "number"],
            "pattern": r"^(\d+(\.\d+)?(ms|s|m|h|d))+$|^\d+(\.\d+)?$",
            "description": "A duration such as '30s', '5m', '1h30m' or '250ms' (a bare number is seconds).",
        }
    ),
]

InputType = Literal["string", "decimal", "integer", "boolean", "date", "datetime", "list", "object"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class InputSpec(_Model):
    """A declared workflow input."""

    type: InputType = Field("string", description="Type the value is converted to (amounts: decimal).")
    description: str = Field("", description="What the input is for.")
    default: Any = Field(None, description="Value used when the input is not given.")
    required: bool | None = Field(
        None, description="Whether a value must be given; default: true when there is no default."
    )

    @property
    def is_required(self) -> bool:
        return self.required if self.required is not None else self.default is None


class RetrySpec(_Model):
    """Retry policy of a step: exponential backoff with full jitter."""

    max_attempts: int = Field(3, ge=1, le=100, description="Attempts in all, the first one included.")
    initial_interval: Duration = Field(timedelta(seconds=1), description="Upper bound of the first delay.")
    backoff_coefficient: float = Field(2.0, ge=1.0, le=10.0, description="Growth of the delay bound.")
    max_interval: Duration = Field(timedelta(seconds=60), description="Largest delay bound.")
    retry_business_codes: list[str] = Field(
        default_factory=list, description="BusinessError codes that are retried instead of parked."
    )

    def to_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            initial_interval=self.initial_interval,
            backoff_coefficient=self.backoff_coefficient,
            max_interval=self.max_interval,
            retry_business_codes=frozenset(self.retry_business_codes),
        )


class VerifySpec(_Model):
    """How to check, after a crash, whether a ``once`` step's effect is already on the platform.

    The verify skill's result must have a boolean ``found``; when it is true the result's
    fields become the step's output and the step is not run again.
    """

    uses: str = Field(description="Skill that looks the effect up (e.g. by reference).")
    with_: dict[str, Any] = Field(
        default_factory=dict, alias="with", description="Arguments of the verify skill."
    )


class StepSpec(_Model):
    """One step: a call of a skill with arguments, conditions and an error policy."""

    id: str = Field(pattern=IDENTIFIER, description="Unique id; outputs are read as steps.<id>.<field>.")
    name: str | None = Field(None, description="Human-readable title.")
    description: str = Field("", description="What the step does.")
    uses: str = Field(description="Skill id, e.g. think.parse_payment.")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with", description="Arguments of the skill.")
    if_: str | bool | None = Field(
        None, alias="if", description=f"Run the step only when this ({EXPRESSION_HINT} or true/false) holds."
    )
    foreach: str | list[Any] | None = Field(
        None, description=f"Run the step once per element ({EXPRESSION_HINT} giving a list, or a list)."
    )
    retry: RetrySpec | None = Field(None, description="Retry policy; default: the skill's, else 3 attempts.")
    timeout: Duration | None = Field(None, description="Time limit of one attempt, e.g. '30s'.")
    on_error: OnError = Field(OnError.retry, description="retry | manual | fail | continue (see the docs).")
    platform: str | None = Field(None, description="Target platform the step acts on (from settings).")
    idempotency_key: str | None = Field(
        None, description=f"Key handed to the skill ({EXPRESSION_HINT}); default: derived from run and step."
    )
    verify: VerifySpec | None = Field(
        None, description="Verify call for a 'once' step (overrides the skill's)."
    )

    @field_validator("if_", mode="before")
    @classmethod
    def _if_literal(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
            return value.strip().lower() == "true"
        return value


class WorkflowSpec(_Model):
    """A workflow file."""

    name: str = Field(pattern=WORKFLOW_NAME, description="Workflow name (lower case, digits, - and _).")
    description: str = Field("", description="What the workflow does.")
    version: str = Field("1", description="Version label of the workflow.")
    inputs: dict[str, InputSpec] = Field(default_factory=dict, description="Declared inputs.")
    steps: list[StepSpec] = Field(min_length=1, description="Steps, run in order.")
    outputs: dict[str, Any] = Field(default_factory=dict, description="Values the run returns (expressions).")

    @field_validator("inputs")
    @classmethod
    def _input_names(cls, value: dict[str, InputSpec]) -> dict[str, InputSpec]:
        import re

        for name in value:
            if not re.match(IDENTIFIER, name):
                raise ValueError(f"input name {name!r} must be lower_snake_case")
        return value

    def step(self, step_id: str) -> StepSpec:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


@functools.cache
def _input_adapter(type_name: str) -> Any:
    """The pydantic adapter of a declared input type (built once: building one costs ≈0.1 ms)."""
    from datetime import date, datetime

    from pydantic import TypeAdapter

    targets: dict[str, Any] = {
        "string": str,
        "decimal": Decimal,
        "integer": int,
        "boolean": bool,
        "date": date,
        "datetime": datetime,
        "list": list[Any],
        "object": dict[str, Any],
    }
    return TypeAdapter(targets[type_name])


def coerce_input(spec: InputSpec, value: Any) -> Any:
    """Convert a given input value (from YAML, JSON or ``--input k=v``) to its declared type."""
    if spec.type == "string" and isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return _input_adapter(spec.type).validate_python(value)
