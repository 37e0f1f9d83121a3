"""Located diagnostics (``file:line:col path: message [rule]``) and pydantic error translation."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from orchestrator.spec.yamlsource import LocatedYaml

PathKey = str | int


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in a file, 1-based line and column, with the field path and a rule id."""

    file: str
    line: int
    column: int
    path: str
    message: str
    rule: str = "schema"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        field = f" {self.path}:" if self.path else ":"
        return f"{where}{field} {self.message} [{self.rule}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "rule": self.rule,
        }


def path_to_str(path: tuple[PathKey, ...] | list[PathKey]) -> str:
    """``("steps", 2, "with", "amount")`` → ``steps[2].with.amount``."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += f".{key}" if out else str(key)
    return out


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return repr(value)


_EXPECTED = {
    "decimal_parsing": "expected a decimal amount",
    "decimal_type": "expected a decimal amount",
    "decimal_max_places": "expected at most {decimal_places} decimal places",
    "decimal_max_digits": "expected at most {max_digits} digits",
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "date_parsing": "expected a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "expected a date (YYYY-MM-DD)",
    "datetime_parsing": "expected a date and time (ISO 8601)",
    "datetime_from_date_parsing": "expected a date and time (ISO 8601)",
    "time_parsing": "expected a time (HH:MM)",
    "greater_than": "expected a value greater than {gt}",
    "greater_than_equal": "expected a value of at least {ge}",
    "less_than": "expected a value less than {lt}",
    "less_than_equal": "expected a value of at most {le}",
    "string_too_short": "expected at least {min_length} characters",
    "string_too_long": "expected at most {max_length} characters",
    "too_short": "expected at least {min_length} items",
    "too_long": "expected at most {max_length} items",
    "string_pattern_mismatch": "expected text matching {pattern}",
    "enum": "expected one of {expected}",
    "literal_error": "expected one of {expected}",
}


def describe_pydantic_error(error: dict[str, Any], known_fields: list[str] | None = None) -> tuple[str, str]:
    """Turn one pydantic error into (message, rule)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    value = error.get("input")
    loc = error.get("loc") or ()
    if kind == "missing":
        return (
            f"required field {loc[-1]!r} is missing" if loc else "required field is missing",
            "missing-field",
        )
    if kind == "union_tag_invalid":
        field = str(ctx.get("discriminator", "type")).strip("'")
        return (f"unknown {field} {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}", "value")
    if kind == "union_tag_not_found":
        field = str(ctx.get("discriminator", "type")).strip("'")
        return f"required field {field!r} is missing", "missing-field"
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        hint = ""
        if known_fields:
            close = difflib.get_close_matches(name, known_fields, n=1)
            if close:
                hint = f"; did you mean {close[0]!r}?"
            else:
                hint = f"; expected one of {', '.join(sorted(known_fields))}"
        return f"unknown field {name!r}{hint}", "unknown-field"
    template = _EXPECTED.get(kind)
    if template is not None:
        try:
            expected = template.format(**ctx)
        except (KeyError, IndexError):
            expected = template
        return f"{expected}, got {_shown(value)}", "type"
    if kind in {"value_error", "assertion_error"}:
        message = str(ctx.get("error", error.get("msg", "invalid value")))
        return message, "value"
    return f"{error.get('msg', 'invalid value')}, got {_shown(value)}", "type"


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """Field names of the (nested) model that ``loc`` points into, for "did you mean" hints."""
    current: Any = model
    for key in loc[:-1]:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(key) if isinstance(key, str) else None
        if info is None:
            # aliases: find by alias
            info = next((f for f in current.model_fields.values() if f.alias == key), None)
        if info is None:
            if isinstance(key, int | str):
                continue
            return None
        annotation = info.annotation
        current = _unwrap_model(annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return None


def _unwrap_model(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _unwrap_model(arg)
        if found is not None:
            return found
    return None


def validation_diagnostics(
    exc: ValidationError,
    doc: LocatedYaml,
    *,
    base_path: tuple[PathKey, ...] = (),
    model: type[BaseModel] | None = None,
) -> list[Diagnostic]:
    """Map every error of a pydantic ``ValidationError`` to a located diagnostic."""
    diagnostics = []
    for error in exc.errors(include_url=False):
        loc = tuple(k for k in error.get("loc", ()) if not (isinstance(k, str) and "[" in k and "]" in k))
        loc = _align_with_data(doc.data, base_path, loc)
        path = (*base_path, *loc)
        known = _fields_at(model, loc) if model is not None else None
        message, rule = describe_pydantic_error(error, known)
        on_key = error.get("type") == "extra_forbidden"
        diagnostics.append(doc.diagnostic(path, message, rule, key=on_key))
    return diagnostics


def _align_with_data(data: Any, base: tuple[PathKey, ...], loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the parts of a pydantic location that are not in the data (union tags such as the
    ``cron`` of ``triggers[0].cron.timezone``), so the path and position are the file's own."""
    current = data
    for key in base:
        try:
            current = current[key]
        except (KeyError, IndexError, TypeError):
            return loc
    aligned: list[Any] = []
    for position, key in enumerate(loc):
        if isinstance(current, dict):
            following = loc[position + 1] if position + 1 < len(loc) else None
            if key in current:
                child = current[key]
                inside = (isinstance(child, dict) and following in child) or (
                    isinstance(child, list) and isinstance(following, int)
                )
                if following is not None and following in current and not inside:
                    continue  # a union tag that happens to be a field name too (cron.cron)
                aligned.append(key)
                current = child
            elif following is not None and following in current:
                continue  # a tag pydantic inserted
            else:
                aligned.append(key)
                current = None
        elif isinstance(current, list) and isinstance(key, int) and 0 <= key < len(current):
            aligned.append(key)
            current = current[key]
        else:
            aligned.append(key)
            current = None
    return tuple(aligned)


def validate_model(
    model: type[BaseModel], doc: LocatedYaml, *, data: Any = None, base_path: tuple[PathKey, ...] = ()
) -> tuple[BaseModel | None, list[Diagnostic]]:
    """Validate ``data`` (default: the whole document) with ``model``; never raises."""
    payload = doc.data if data is None else data
    try:
        return model.model_validate(payload), []
    except ValidationError as exc:
        return None, validation_diagnostics(exc, doc, base_path=base_path, model=model)
