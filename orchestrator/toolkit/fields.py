"""The fields of a skill's parameter and result models, for people: types, defaults, examples.

Types are read from the models' annotations (not from the JSON Schema) so an amount reads
``decimal`` rather than ``number | string``, and nested models are listed field by field.
"""

from __future__ import annotations

import enum
import inspect
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

_NAMES: dict[Any, str] = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "boolean",
    Decimal: "decimal",
    date: "date",
    datetime: "datetime",
    time: "time",
    timedelta: "duration",
    Path: "path",
    bytes: "bytes",
    Any: "any",
    type(None): "null",
}


def _origin(annotation: Any) -> Any:
    return typing.get_origin(annotation)


def _unwrap(annotation: Any) -> Any:
    while _origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def type_text(annotation: Any) -> str:
    """A short, readable name of a type: ``list of text``, ``decimal | null``, ``one of 'a', 'b'``."""
    annotation = _unwrap(annotation)
    if annotation in _NAMES:
        return _NAMES[annotation]
    origin = _origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_text(a) for a in args)
    if origin in (list, set, frozenset, tuple):
        inner = [a for a in args if a is not Ellipsis]
        return f"list of {type_text(inner[0])}" if inner else "list"
    if origin is dict:
        return f"mapping of {type_text(args[0])} → {type_text(args[1])}" if args else "mapping"
    if inspect.isclass(annotation) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in annotation)
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation.__name__
    return getattr(annotation, "__name__", str(annotation))


def nested_models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation (``list[Item] | None`` → ``[Item]``)."""
    annotation = _unwrap(annotation)
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        for model in nested_models(arg):
            if model not in found:
                found.append(model)
    return found


def default_of(info: FieldInfo) -> Any:
    """The default value, ``PydanticUndefined`` when the field is required."""
    if info.default is not PydanticUndefined:
        return info.default
    if info.default_factory is not None:
        return info.default_factory()  # type: ignore[call-arg]
    return PydanticUndefined


@dataclass(frozen=True)
class FieldDoc:
    """One documented field; nested model fields have dotted names (``expect.text``)."""

    name: str
    type: str
    required: bool
    default: Any
    description: str


def field_docs(
    model: type[BaseModel], prefix: str = "", seen: frozenset[type] = frozenset()
) -> Iterator[FieldDoc]:
    """Every field of ``model``, nested models' fields right after the field that holds them."""
    for name, info in model.model_fields.items():
        shown = info.alias or name
        yield FieldDoc(
            name=prefix + shown,
            type=type_text(info.annotation),
            required=info.is_required(),
            default=None if info.is_required() else default_of(info),
            description=(info.description or "").strip(),
        )
        for nested in nested_models(info.annotation):
            if nested not in seen:
                suffix = "[]" if _is_list(info.annotation) else ""
                yield from field_docs(nested, f"{prefix}{shown}{suffix}.", seen | {model, nested})


def _is_list(annotation: Any) -> bool:
    annotation = _unwrap(annotation)
    if _origin(annotation) in (list, set, frozenset, tuple):
        return True
    return any(
        _is_list(a)
        for a in typing.get_args(annotation)
        if _origin(annotation) in (typing.Union, types.UnionType)
    )


# -- examples -----------------------------------------------------------------------------
def _number_example(info: FieldInfo | None, kind: type) -> Any:
    low = None
    for item in info.metadata if info is not None else []:
        for attribute, step in (("ge", 0), ("gt", 1)):
            bound = getattr(item, attribute, None)
            if bound is not None:
                low = bound + step
    if kind is int:
        return int(low) if low is not None else 1
    return float(low) if low is not None else 1.0


def example_value(
    annotation: Any, name: str, info: FieldInfo | None = None, every_field: bool = False
) -> Any:
    """A placeholder value of the right type (``"<name>"`` for text, ``"100.00"`` for amounts)."""
    annotation = _unwrap(annotation)
    origin = _origin(annotation)
    args = typing.get_args(annotation)
    if annotation is str or annotation is Any or annotation is Path:
        return f"<{name}>"
    if annotation is bool:
        return False
    if annotation is int or annotation is float:
        return _number_example(info, annotation)
    if annotation is Decimal:
        return "100.00"
    if annotation is datetime:
        return "2026-01-31T09:30:00+08:00"
    if annotation is date:
        return "2026-01-31"
    if annotation is time:
        return "09:30"
    if annotation is timedelta:
        return "30s"
    if origin is typing.Literal:
        return args[0]
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in args if a is not type(None)]
        return example_value(arms[0], name, info, every_field) if arms else None
    if origin in (list, set, frozenset, tuple):
        inner = [a for a in args if a is not Ellipsis]
        return [example_value(inner[0], name.rstrip("s") or name)] if inner else []
    if origin is dict:
        return {"<key>": example_value(args[1], "value")} if args else {}
    if inspect.isclass(annotation) and issubclass(annotation, enum.Enum):
        return next(iter(annotation)).value
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return example_arguments(annotation, every_field=every_field)
    return f"<{name}>"


def example_arguments(model: type[BaseModel], *, every_field: bool = False) -> dict[str, Any]:
    """Placeholder arguments: the required fields (or every field)."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.is_required() or every_field:
            values[info.alias or name] = example_value(info.annotation, name, info, every_field)
    return values


def generated_example(model: type[BaseModel]) -> tuple[dict[str, Any], bool]:
    """Example arguments and whether they pass the model's validation as they are.

    Required fields first; when the model wants more (a field needed with another), every
    field is filled in.
    """
    first = example_arguments(model)
    for candidate in (first, example_arguments(model, every_field=True)):
        try:
            model.model_validate(candidate)
        except ValidationError:
            continue
        return candidate, True
    return first, False
