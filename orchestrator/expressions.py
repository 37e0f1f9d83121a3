"""``${{ ... }}`` expressions, evaluated in a sandbox built on simpleeval (never Python ``eval``).

What an expression may use:

* names: ``inputs``, ``steps``, ``item``, ``index``, ``secrets``, ``env``, ``run``;
* attribute access and ``[...]`` on those mappings and lists (``steps.parse.amount``,
  ``item["ref"]``, ``steps.split.items[0]``) — never on Python objects, never ``_names``;
* literals (strings, numbers — a literal ``1.5`` is ``Decimal("1.5")``, never a float —,
  ``true``/``false``/``null`` also spelled ``True``/``False``/``None``, lists, mappings),
  arithmetic, comparisons, ``and``/``or``/``not``, ``in``, ``x if c else y``;
* the functions in ``FUNCTIONS`` (documented in docs/workflow-language.md) and nothing else:
  no method calls, no comprehensions, no lambdas, no f-strings, no imports.

Evaluation is bounded: expression length, AST size, exponent, string and list sizes, and the
size a value would print as (so ``[big] * n`` cannot build a value that ``str``, ``join`` or the
store would blow up). Parts of an expression that read no data are evaluated once when the
workflow is validated, so ``'a' * 10**9`` is refused by ``rpa validate`` rather than at run time.
A value that is exactly one expression (``"${{ inputs.amount }}"``) keeps its type; text with
expressions inside is rendered as a string.
"""

from __future__ import annotations

import ast
import decimal
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

import simpleeval

from orchestrator.errors import ExpressionError

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
MAX_EXPRESSION_LENGTH = 2_000
MAX_NODES = 400
MAX_STRING = 100_000
MAX_ITEMS = 100_000
MAX_EXPONENT = 100
MAX_WEIGHT = 1_000_000
"""Largest printed size (characters, counting shared references each time) of a built list."""
MAX_INT_DIGITS = 4_300
ROOT_NAMES = frozenset({"inputs", "steps", "item", "index", "secrets", "env", "run"})
LITERAL_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"cannot read {value!r} as a decimal number") from None


def _round(value: Any, places: int = 0) -> Decimal:
    exponent = Decimal(1).scaleb(-int(places))
    return _decimal(value).quantize(exponent, rounding=ROUND_HALF_UP)


def _format_amount(value: Any, places: int = 2) -> str:
    return f"{_round(value, places):,}"


def _default(value: Any, fallback: Any) -> Any:
    return fallback if value is None or value == "" else value


def _coalesce(*values: Any) -> Any:
    return next((v for v in values if v is not None and v != ""), None)


def _weight(value: Any, limit: int) -> int:
    """Roughly how many characters ``value`` prints as; counting stops once ``limit`` is passed.

    Shared references count every time they appear (``[s] * n`` weighs ``n`` times ``s``), which
    is what ``str``, ``join`` and JSON encoding would produce.
    """
    total = 0
    pending = [value]
    while pending and total <= limit:
        current = pending.pop()
        if isinstance(current, str):
            total += len(current) + 2
        elif isinstance(current, list | tuple):
            total += 2 + len(current)
            pending.extend(current)
        elif isinstance(current, dict):  # plain data only: a SecretsView is never walked
            total += 2 + 2 * len(current)
            pending.extend(current.keys())
            pending.extend(current.values())
        else:
            total += 8
    return total


def _str(value: Any) -> str:
    if isinstance(value, list | tuple | dict) and _weight(value, MAX_STRING) > MAX_STRING:
        raise ValueError(f"the text of this value would be longer than {MAX_STRING} characters")
    return str(value)


def _int(value: Any, base: int = 10) -> int:
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > MAX_INT_DIGITS:
        raise ValueError(f"{value} has more than {MAX_INT_DIGITS} digits")
    if isinstance(value, str) and len(value) > MAX_INT_DIGITS:
        raise ValueError(f"a number with more than {MAX_INT_DIGITS} digits is not read")
    return int(value, base) if isinstance(value, str) else int(value)


def _sum(values: Any, start: Any = 0) -> Any:
    if isinstance(start, bool) or not isinstance(start, int | Decimal):
        raise ValueError("sum adds numbers only")
    return sum(values, start)


def _replace(text: Any, old: Any, new: Any) -> str:
    text, old, new = str(text), str(old), str(new)
    count = len(text) + 1 if not old else text.count(old)
    if len(text) + count * (len(new) - len(old)) > MAX_STRING:
        raise ValueError(f"result is longer than {MAX_STRING} characters")
    return text.replace(old, new)


def _contains(container: Any, needle: Any) -> bool:
    return needle in container


def _join(items: Any, separator: str = ",") -> str:
    separator = str(separator)
    pieces: list[str] = []
    total = 0
    for item in items:
        piece = _as_text(item)
        total += len(piece) + len(separator)
        if total > MAX_STRING + len(separator):
            raise ValueError(f"result is longer than {MAX_STRING} characters")
        pieces.append(piece)
    return separator.join(pieces)


def _now(tz: str = "Asia/Shanghai") -> datetime:
    return datetime.now(UTC).astimezone(ZoneInfo(tz))


def _today(tz: str = "Asia/Shanghai") -> date:
    return _now(tz).date()


def _get(mapping: Any, key: Any, fallback: Any = None) -> Any:
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return fallback


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "str": _str,
    "int": _int,
    "decimal": _decimal,
    "round": _round,
    "abs": abs,
    "min": min,
    "max": max,
    "sum": _sum,
    "lower": lambda s: str(s).lower(),
    "upper": lambda s: str(s).upper(),
    "strip": lambda s: str(s).strip(),
    "replace": _replace,
    "startswith": lambda s, p: str(s).startswith(str(p)),
    "endswith": lambda s, p: str(s).endswith(str(p)),
    "contains": _contains,
    "join": _join,
    "split": lambda s, sep=",": str(s).split(str(sep)),
    "default": _default,
    "coalesce": _coalesce,
    "format_amount": _format_amount,
    "get": _get,
    "pluck": lambda items, key: _bounded([_get(item, key) for item in items]),
    "keys": lambda m: list(m.keys()),
    "basename": lambda p: PurePath(str(p)).name,
    "stem": lambda p: PurePath(str(p)).stem,
    "now": _now,
    "today": _today,
}
"""The only callables an expression can reach. Documented in docs/workflow-language.md."""


def _bounded(result: Any) -> Any:
    if isinstance(result, str) and len(result) > MAX_STRING:
        raise ValueError(f"result is longer than {MAX_STRING} characters")
    if isinstance(result, list | tuple) and len(result) > MAX_ITEMS:
        raise ValueError(f"result has more than {MAX_ITEMS} items")
    return result


def _safe_pow(base: Any, exponent: Any) -> Any:
    if abs(exponent) > MAX_EXPONENT:
        raise ValueError(f"exponent {exponent} is larger than {MAX_EXPONENT}")
    if isinstance(base, Decimal | int) and abs(base) > 10**12:
        raise ValueError("base of a power is too large")
    return operator.pow(base, exponent)


def _safe_mult(a: Any, b: Any) -> Any:
    for seq, count in ((a, b), (b, a)):
        if not isinstance(count, int) or count <= 0:
            continue
        if isinstance(seq, str) and len(seq) * count > MAX_STRING:
            raise ValueError(f"result is longer than {MAX_STRING} characters")
        if isinstance(seq, list | tuple) and (
            len(seq) * count > MAX_ITEMS or _weight(seq, MAX_WEIGHT) * count > MAX_WEIGHT
        ):
            raise ValueError(f"result would be larger than {MAX_WEIGHT} characters of data")
    return operator.mul(a, b)


def _safe_add(a: Any, b: Any) -> Any:
    if isinstance(a, str) and isinstance(b, str) and len(a) + len(b) > MAX_STRING:
        raise ValueError(f"result is longer than {MAX_STRING} characters")
    if (
        isinstance(a, list | tuple)
        and isinstance(b, list | tuple)
        and _weight(a, MAX_WEIGHT) + _weight(b, MAX_WEIGHT) > MAX_WEIGHT
    ):
        raise ValueError(f"result would be larger than {MAX_WEIGHT} characters of data")
    return _bounded(operator.add(a, b))


def _safe_mod(a: Any, b: Any) -> Any:
    if isinstance(a, str):  # printf-style formatting: widths like '%999999999d' build huge strings
        raise ValueError("'%' formatting of text is not supported; use join(), str() or format_amount()")
    return operator.mod(a, b)


_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: _safe_add,
    ast.Sub: operator.sub,
    ast.Mult: _safe_mult,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: _safe_mod,
    ast.Pow: _safe_pow,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Gt: operator.gt,
    ast.Lt: operator.lt,
    ast.GtE: operator.ge,
    ast.LtE: operator.le,
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}

_ALLOWED_NODES = (
    ast.Expression,
    ast.Expr,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.Compare,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.BinOp,
    ast.IfExp,
    ast.Call,
    ast.List,
    ast.Tuple,
    ast.Dict,
    *tuple(_OPERATORS),
)


class _Sandbox(simpleeval.SimpleEval):
    """simpleeval with attribute access limited to mappings and calls limited to FUNCTIONS."""

    def __init__(self, names: Mapping[str, Any]) -> None:
        super().__init__(operators=_OPERATORS, functions=FUNCTIONS, names=dict(names))
        self.nodes[ast.List] = lambda node: _bounded([self._eval(e) for e in node.elts])
        self.nodes[ast.Tuple] = lambda node: _bounded([self._eval(e) for e in node.elts])
        self.nodes[ast.Dict] = lambda node: {
            self._eval(k): self._eval(v) for k, v in zip(node.keys, node.values, strict=True) if k is not None
        }

    def _eval_name(self, node: ast.Name) -> Any:
        if node.id in LITERAL_NAMES:
            return LITERAL_NAMES[node.id]
        if node.id in self.names:
            return self.names[node.id]
        raise ValueError(f"unknown name {node.id!r}; expected one of {', '.join(sorted(ROOT_NAMES))}")

    @staticmethod
    def _eval_constant(node: ast.Constant) -> Any:
        value = node.value
        if isinstance(value, float):
            return Decimal(repr(value))
        if isinstance(value, complex | bytes):
            raise ValueError("complex and bytes literals are not supported")
        return value

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_"):
            raise ValueError(f"access to {node.attr!r} is not allowed")
        container = self._eval(node.value)
        return _lookup(container, node.attr)

    def _eval_subscript(self, node: ast.Subscript) -> Any:
        container = self._eval(node.value)
        key = self._eval(node.slice)
        if isinstance(key, str) and key.startswith("_"):
            raise ValueError(f"access to {key!r} is not allowed")
        if isinstance(key, slice):
            if not isinstance(container, list | tuple | str):
                raise ValueError("only lists and strings can be sliced")
            return container[key]
        if isinstance(container, list | tuple | str):
            if isinstance(key, bool) or not isinstance(key, int):
                raise ValueError(f"a list index must be an integer, got {key!r}")
            try:
                return container[key]
            except IndexError:
                raise ValueError(f"index {key} is out of range (length {len(container)})") from None
        return _lookup(container, key)

    def _eval_call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name):
            raise ValueError("only the documented functions can be called (no methods)")
        func = FUNCTIONS.get(node.func.id)
        if func is None:
            raise ValueError(f"unknown function {node.func.id!r}")
        args = [self._eval(a) for a in node.args]
        kwargs = dict(self._eval(k) for k in node.keywords)
        return _bounded(func(*args, **kwargs))


def _lookup(container: Any, key: Any) -> Any:
    if isinstance(container, Mapping):
        try:
            return container[key]
        except KeyError:
            raise ValueError(f"{key!r} is not defined here") from None
    kind = "nothing (null)" if container is None else type(container).__name__
    raise ValueError(f"cannot read {key!r} from {kind}")


@dataclass(frozen=True)
class Reference:
    """A path an expression reads, e.g. ``("steps", "parse", "amount")``."""

    parts: tuple[str | int, ...]

    @property
    def root(self) -> str:
        return str(self.parts[0])


@dataclass(frozen=True)
class CompiledExpression:
    source: str
    tree: ast.expr
    offset: int  # character offset of the expression text inside the template string


@lru_cache(maxsize=4096)
def compile_expression(source: str, offset: int = 0) -> CompiledExpression:
    """Parse one expression (the text between ``${{`` and ``}}``); raises ExpressionError."""
    text = source.strip()
    if not text:
        raise ExpressionError("empty expression", source)
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_EXPRESSION_LENGTH} characters", source)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse expression {text!r}: {exc.msg}", source) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, parser stack exhausted
        reason = "it is nested too deeply" if not isinstance(exc, ValueError) else str(exc)
        raise ExpressionError(f"cannot parse expression: {reason}", source) from None
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for count, node in enumerate(ast.walk(tree), start=1):
        if count > MAX_NODES:
            raise ExpressionError(f"expression has more than {MAX_NODES} parts", source)
        if not isinstance(node, (*_ALLOWED_NODES, ast.keyword)):
            raise ExpressionError(f"{type(node).__name__} is not allowed in an expression", source)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ExpressionError(f"access to {node.attr!r} is not allowed", source)
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ExpressionError(
                f"unknown function {name!r}; available: {', '.join(sorted(FUNCTIONS))}", source
            )
        if isinstance(node, ast.Name) and node.id not in ROOT_NAMES | set(LITERAL_NAMES) | set(FUNCTIONS):
            raise ExpressionError(
                f"unknown name {node.id!r}; expected one of {', '.join(sorted(ROOT_NAMES))}", source
            )
        _check_static(node, called, source)
    _fold_constants(tree.body, source)
    return CompiledExpression(source=text, tree=tree.body, offset=offset)


def _check_static(node: ast.AST, called: set[int], source: str) -> None:
    """Refuse, before any run, what can only fail or escape at run time."""
    if isinstance(node, ast.Name) and node.id in FUNCTIONS and id(node) not in called:
        raise ExpressionError(f"function {node.id!r} can only be called, as {node.id}(...)", source)
    if isinstance(node, ast.keyword) and node.arg is None:
        raise ExpressionError("'**' arguments are not allowed in an expression", source)
    if isinstance(node, ast.Attribute) and isinstance(
        node.value, ast.Constant | ast.List | ast.Tuple | ast.Dict
    ):
        raise ExpressionError(f"a literal has no field {node.attr!r} (no methods in expressions)", source)
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
        and node.slice.value.startswith("_")
    ):
        raise ExpressionError(f"access to {node.slice.value!r} is not allowed", source)


def _reads_data(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id in ROOT_NAMES for n in ast.walk(node))


def _fold_constants(node: ast.AST, source: str) -> None:
    """Evaluate, once, every largest part that reads no data: ``'a' * 10**9`` fails at validation."""
    trivial = ast.Constant | ast.Name | ast.Slice
    if isinstance(node, ast.expr) and not isinstance(node, trivial) and not _reads_data(node):
        try:
            _Sandbox({})._eval(node)
        except RecursionError:
            raise ExpressionError("expression is nested too deeply", source) from None
        except Exception as exc:  # the same message the run would give, but before any run
            raise ExpressionError(f"{ast.unparse(node)!r} cannot be evaluated: {exc}", source) from None
        return
    children = [*node.args, *node.keywords] if isinstance(node, ast.Call) else ast.iter_child_nodes(node)
    for child in children:
        _fold_constants(child, source)


def split_template(text: str) -> list[str | CompiledExpression]:
    """Literal text and compiled expressions of a string, in order."""
    parts: list[str | CompiledExpression] = []
    pos = 0
    for match in EXPRESSION.finditer(text):
        if match.start() > pos:
            parts.append(text[pos : match.start()])
        parts.append(compile_expression(match.group(1), match.start(1)))
        pos = match.end()
    if pos < len(text):
        parts.append(text[pos:])
    if "${{" in "".join(p for p in parts if isinstance(p, str)):
        raise ExpressionError("'${{' without a closing '}}'", text)
    return parts


def has_expression(value: Any) -> bool:
    return isinstance(value, str) and "${{" in value


def iter_strings(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string inside a nested structure, with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, child in value.items():
            yield from iter_strings(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from iter_strings(child, (*path, i))


def references(expression: CompiledExpression) -> list[Reference]:
    """The name paths an expression reads (``inputs.x``, ``steps.a.b``, ``item``...)."""
    found: list[Reference] = []

    def chain(node: ast.AST) -> tuple[str | int, ...] | None:
        if isinstance(node, ast.Name):
            return (node.id,)
        if isinstance(node, ast.Attribute):
            base = chain(node.value)
            return (*base, node.attr) if base else None
        if isinstance(node, ast.Subscript):
            base = chain(node.value)
            if base and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str | int):
                return (*base, node.slice.value)
            return base
        return None

    seen_inner: set[int] = set()
    for node in ast.walk(expression.tree):
        if id(node) in seen_inner:
            continue
        if isinstance(node, ast.Attribute | ast.Subscript | ast.Name):
            parts = chain(node)
            if parts and parts[0] in ROOT_NAMES:
                found.append(Reference(parts))
                inner: ast.AST = node
                while isinstance(inner, ast.Attribute | ast.Subscript):
                    inner = inner.value
                    seen_inner.add(id(inner))
    return found


# sandboxes not in use: building one (simpleeval's node table, its checks) cost more than most
# evaluations; one is taken per evaluation, so nested and concurrent evaluations each get their own
_IDLE_SANDBOXES: list[_Sandbox] = []


def evaluate(expression: CompiledExpression, scope: Mapping[str, Any]) -> Any:
    """Evaluate a compiled expression against ``scope``; failures become ExpressionError."""
    try:
        sandbox = _IDLE_SANDBOXES.pop()
    except IndexError:
        sandbox = _Sandbox({})
    sandbox.names = scope  # type: ignore[assignment]  # read with `in` and [] only
    sandbox.expr = expression.source
    try:
        return _evaluate_in(sandbox, expression)
    finally:
        sandbox.names = {}
        _IDLE_SANDBOXES.append(sandbox)


def _evaluate_in(sandbox: _Sandbox, expression: CompiledExpression) -> Any:
    try:
        return sandbox._eval(expression.tree)
    except ExpressionError:
        raise
    except RecursionError:
        raise ExpressionError("expression is nested too deeply", expression.source) from None
    except (ArithmeticError, InvalidOperation) as exc:
        reason = str(exc) if not str(exc).startswith("[<class") else _DECIMAL_REASONS.get(type(exc), "")
        raise ExpressionError(
            f"arithmetic error in {expression.source!r}: {reason or type(exc).__name__}", expression.source
        ) from None
    except Exception as exc:  # the sandbox turns every failure into a located expression error
        raise ExpressionError(f"cannot evaluate {expression.source!r}: {exc}", expression.source) from None


_DECIMAL_REASONS: dict[type, str] = {
    decimal.Overflow: "the number is too large",
    decimal.DivisionByZero: "division by zero",
    decimal.InvalidOperation: "the number is too large for this operation, or not a number",
}


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """Evaluate every expression inside ``value`` (strings, lists, mappings), keeping types."""
    if isinstance(value, str):
        if "${{" not in value:
            return value
        parts = split_template(value)
        if len(parts) == 1 and isinstance(parts[0], CompiledExpression):
            return evaluate(parts[0], scope)
        rendered = "".join(p if isinstance(p, str) else _as_text(evaluate(p, scope)) for p in parts)
        return _bounded(rendered)
    if isinstance(value, Mapping):
        return {key: render(child, scope) for key, child in value.items()}
    if isinstance(value, list):
        return [render(child, scope) for child in value]
    return value


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return _str(value)


def truthy(value: Any) -> bool:
    """How ``if:`` reads a value: strings 'false', 'no', '0' and '' are false."""
    if isinstance(value, str):
        return value.strip().lower() not in {"", "false", "no", "0", "off", "none", "null"}
    return bool(value)
