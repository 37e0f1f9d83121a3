"""``rpa validate`` for workflows: structure, skills, arguments and expressions in one pass."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from orchestrator.errors import ExpressionError, WorkflowError
from orchestrator.expressions import (
    CompiledExpression,
    has_expression,
    iter_strings,
    references,
    split_template,
)
from orchestrator.registry import SkillRegistry
from orchestrator.spec.diagnostics import Diagnostic, PathKey, validation_diagnostics
from orchestrator.spec.workflow import InputSpec, StepSpec, WorkflowSpec
from orchestrator.spec.yamlsource import LocatedYaml, load_yaml, load_yaml_file

FOREACH_OUTPUT = "items"


@dataclass(frozen=True)
class LoadedWorkflow:
    """A validated workflow with the exact source it came from (runs keep it for resume)."""

    spec: WorkflowSpec
    source: str
    file: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()


class _Checker:
    def __init__(self, doc: LocatedYaml, registry: SkillRegistry) -> None:
        self.doc = doc
        self.registry = registry
        self.diagnostics: list[Diagnostic] = []

    def error(self, path: tuple[PathKey, ...], message: str, rule: str, *, key: bool = False) -> None:
        self.diagnostics.append(self.doc.diagnostic(path, message, rule, key=key))

    # -- structure ---------------------------------------------------------------------------
    def check(self) -> WorkflowSpec | None:
        data = self.doc.data
        if not isinstance(data, Mapping):
            self.error(
                (), "expected a workflow: a mapping with name, steps and optional inputs, outputs", "schema"
            )
            return None
        spec: WorkflowSpec | None = None
        try:
            spec = WorkflowSpec.model_validate(data)
        except ValidationError as exc:
            self.diagnostics.extend(validation_diagnostics(exc, self.doc, model=WorkflowSpec))
        inputs = self._parse_inputs(data.get("inputs"))
        steps = self._parse_steps(data.get("steps"))
        self._check_steps(steps, inputs)
        self._check_outputs(data.get("outputs"), steps, inputs)
        return spec if not self.diagnostics else None

    def _parse_inputs(self, raw: Any) -> dict[str, InputSpec]:
        parsed: dict[str, InputSpec] = {}
        if not isinstance(raw, Mapping):
            return parsed
        for name, value in raw.items():
            try:
                parsed[name] = InputSpec.model_validate(value if value is not None else {})
            except ValidationError:
                continue  # already reported by the whole-model validation
        return parsed

    def _parse_steps(self, raw: Any) -> list[tuple[int, StepSpec]]:
        parsed: list[tuple[int, StepSpec]] = []
        if not isinstance(raw, list):
            return parsed
        for index, value in enumerate(raw):
            try:
                parsed.append((index, StepSpec.model_validate(value)))
            except ValidationError:
                # reported by the whole-model validation; still check the skill and its arguments
                if isinstance(value, Mapping) and isinstance(value.get("uses"), str):
                    skill = self.registry.get(value["uses"])
                    if skill is None:
                        self._unknown_skill(("steps", index, "uses"), value["uses"])
                    elif isinstance(value.get("with"), Mapping):
                        self._check_arguments(("steps", index, "with"), value["with"], skill.params_model)
        return parsed

    # -- semantics ---------------------------------------------------------------------------
    def _check_steps(self, steps: list[tuple[int, StepSpec]], inputs: dict[str, InputSpec]) -> None:
        seen: dict[str, int] = {}
        earlier: dict[str, tuple[StepSpec, type[BaseModel] | None]] = {}
        for index, step in steps:
            base: tuple[PathKey, ...] = ("steps", index)
            if step.id in seen:
                self.error(
                    (*base, "id"),
                    f"duplicate step id {step.id!r} (first used by steps[{seen[step.id]}])",
                    "duplicate-id",
                )
            seen.setdefault(step.id, index)
            skill = self.registry.get(step.uses)
            result_model: type[BaseModel] | None = None
            if skill is None:
                self._unknown_skill((*base, "uses"), step.uses)
            else:
                result_model = skill.result_model
                self._check_arguments((*base, "with"), step.with_, skill.params_model)
            scope = _Scope(inputs=inputs, steps=earlier, in_foreach=step.foreach is not None)
            self._check_value((*base, "with"), step.with_, scope)
            if isinstance(step.if_, str):
                self._check_value((*base, "if"), step.if_, _Scope(inputs, earlier, in_foreach=False))
            if isinstance(step.foreach, str):
                if not has_expression(step.foreach):
                    self.error(
                        (*base, "foreach"),
                        "expected a ${{ ... }} expression giving a list, or a list",
                        "expression",
                    )
                self._check_value((*base, "foreach"), step.foreach, _Scope(inputs, earlier, in_foreach=False))
            if step.idempotency_key is not None:
                self._check_value((*base, "idempotency_key"), step.idempotency_key, scope)
            if step.verify is not None:
                self._check_verify(base, step, scope)
            if step.platform is not None and has_expression(step.platform):
                self.error((*base, "platform"), "expected a platform name, not an expression", "expression")
            earlier[step.id] = (step, result_model)

    def _check_verify(self, base: tuple[PathKey, ...], step: StepSpec, scope: _Scope) -> None:
        assert step.verify is not None
        verify_skill = self.registry.get(step.verify.uses)
        if verify_skill is None:
            self._unknown_skill((*base, "verify", "uses"), step.verify.uses)
        else:
            if "found" not in verify_skill.result_model.model_fields:
                self.error(
                    (*base, "verify", "uses"),
                    f"skill {step.verify.uses!r} cannot verify: its result has no boolean 'found' field",
                    "verify",
                )
            self._check_arguments((*base, "verify", "with"), step.verify.with_, verify_skill.params_model)
        self._check_value((*base, "verify", "with"), step.verify.with_, scope)
        skill = self.registry.get(step.uses)
        if skill is not None and skill.effect.value != "once":
            self.error(
                (*base, "verify"),
                f"verify only applies to skills with effect 'once'; {step.uses} has "
                f"effect {skill.effect.value!r}",
                "verify",
            )

    def _unknown_skill(self, path: tuple[PathKey, ...], skill_id: str) -> None:
        hint = self.registry.suggest(skill_id)
        failed = [f.plugin for f in self.registry.failures]
        message = f"unknown skill {skill_id!r}"
        if hint:
            message += f"; did you mean {hint!r}?"
        if failed:
            message += f" (plugins that failed to load: {', '.join(failed)})"
        self.error(path, message, "unknown-skill")

    def _check_arguments(self, base: tuple[PathKey, ...], arguments: Any, model: type[BaseModel]) -> None:
        """Validate literal arguments against the skill's model; expression values are checked at run time."""
        if not isinstance(arguments, Mapping):
            return
        known = {name for name in model.model_fields} | {
            f.alias for f in model.model_fields.values() if f.alias is not None
        }
        extra_allowed = model.model_config.get("extra") == "allow"
        for name in arguments:
            if name not in known and not extra_allowed:
                close = difflib.get_close_matches(str(name), sorted(known), n=1)
                hint = (
                    f"; did you mean {close[0]!r}?"
                    if close
                    else f"; expected one of {', '.join(sorted(known))}"
                )
                self.error((*base, name), f"unknown argument {name!r}{hint}", "unknown-field", key=True)
        try:
            model.model_validate(arguments)
        except ValidationError as exc:
            kept = []
            for error in exc.errors(include_url=False):
                loc = tuple(error.get("loc", ()))
                if _touches_expression(arguments, loc):
                    continue
                if error.get("type") == "extra_forbidden" and len(loc) == 1:
                    continue  # reported above as an unknown argument, with a suggestion
                kept.append(error)
            if kept:
                sub = ValidationError.from_exception_data(exc.title, kept)  # type: ignore[arg-type]
                self.diagnostics.extend(validation_diagnostics(sub, self.doc, base_path=base, model=model))

    def _check_value(self, base: tuple[PathKey, ...], value: Any, scope: _Scope) -> None:
        for sub_path, text in iter_strings(value):
            if "${{" not in text:
                continue
            path = (*base, *sub_path)
            try:
                parts = split_template(text)
            except ExpressionError as exc:
                self.error(path, exc.message, "expression")
                continue
            for part in parts:
                if isinstance(part, CompiledExpression):
                    for problem in scope.problems(part):
                        self.error(path, problem, "expression")

    def _check_outputs(
        self, raw: Any, steps: list[tuple[int, StepSpec]], inputs: dict[str, InputSpec]
    ) -> None:
        if not isinstance(raw, Mapping):
            return
        every: dict[str, tuple[StepSpec, type[BaseModel] | None]] = {}
        for _, step in steps:
            skill = self.registry.get(step.uses)
            every[step.id] = (step, skill.result_model if skill else None)
        self._check_value(("outputs",), raw, _Scope(inputs, every, in_foreach=False))


def _touches_expression(arguments: Any, loc: tuple[Any, ...]) -> bool:
    current = arguments
    for key in loc:
        if has_expression(current):
            return True
        try:
            current = current[key]
        except (KeyError, IndexError, TypeError):
            return False
    return has_expression(current)


@dataclass
class _Scope:
    inputs: dict[str, InputSpec]
    steps: dict[str, tuple[StepSpec, type[BaseModel] | None]]
    in_foreach: bool

    def problems(self, expression: CompiledExpression) -> list[str]:
        found = []
        for ref in references(expression):
            parts = ref.parts
            root = ref.root
            if root in {"item", "index"} and not self.in_foreach:
                found.append(f"{root!r} is only defined in the 'with' of a step that has 'foreach'")
            elif root == "inputs" and len(parts) > 1 and parts[1] not in self.inputs:
                known = ", ".join(sorted(self.inputs)) or "none declared"
                found.append(f"unknown input {parts[1]!r} (inputs: {known})")
            elif root == "steps" and len(parts) > 1:
                target = self.steps.get(str(parts[1]))
                if target is None:
                    found.append(f"step {parts[1]!r} does not run before this point")
                    continue
                step, result_model = target
                if len(parts) > 2 and result_model is not None:
                    allowed = {FOREACH_OUTPUT} if step.foreach is not None else set(result_model.model_fields)
                    if parts[2] not in allowed:
                        shown = ", ".join(sorted(allowed)) or "no fields"
                        found.append(f"step {parts[1]!r} has no output {parts[2]!r} (outputs: {shown})")
        return found


def check_workflow(doc: LocatedYaml, registry: SkillRegistry) -> tuple[WorkflowSpec | None, list[Diagnostic]]:
    """Every problem of a loaded document, sorted by position."""
    if doc.errors:
        return None, sorted(doc.errors)
    checker = _Checker(doc, registry)
    spec = checker.check()
    return spec, sorted(set(checker.diagnostics))


def validate_workflow_file(
    path: str | Path, registry: SkillRegistry
) -> tuple[WorkflowSpec | None, list[Diagnostic]]:
    return check_workflow(load_yaml_file(path), registry)


def load_workflow(path: str | Path, registry: SkillRegistry) -> LoadedWorkflow:
    """Load and validate a workflow file; raises WorkflowError carrying every diagnostic."""
    doc = load_yaml_file(path)
    spec, diagnostics = check_workflow(doc, registry)
    if spec is None or diagnostics:
        raise WorkflowError(f"{path}: {len(diagnostics)} problem(s)", diagnostics)
    return LoadedWorkflow(spec=spec, source=Path(path).read_text(encoding="utf-8"), file=str(path))


def load_workflow_text(text: str, file: str, registry: SkillRegistry) -> LoadedWorkflow:
    """Same as ``load_workflow`` for a workflow kept as text (a run's stored definition)."""
    spec, diagnostics = check_workflow(load_yaml(text, file), registry)
    if spec is None or diagnostics:
        raise WorkflowError(f"{file}: {len(diagnostics)} problem(s)", diagnostics)
    return LoadedWorkflow(spec=spec, source=text, file=file)
