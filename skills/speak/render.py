"""speak.render: fill a Jinja2 template (notice, letter, CSV or text message) into an outbox file.

Templates run in Jinja2's ``ImmutableSandboxedEnvironment``: no access to Python internals,
no mutation of the data passed in, and ``StrictUndefined``, so a missing field is an error that
names the template line rather than a blank in a customer letter. Autoescaping is on for
``.html``, ``.htm``, ``.xml`` and ``.xhtml`` outputs or templates. Templates are read only
from the templates root (``include``/``extends`` too), outputs go only under the outbox root,
and the file is written atomically. Payment XML (pacs.002/pacs.008) is built by the think
skills, not here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import jinja2
from jinja2.exceptions import SecurityError, TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, Field, model_validator

from skills import BusinessError, SkillContext, skill
from skills.hear.paths import confined_path, write_atomically
from skills.paths import confine

ESCAPED_SUFFIXES = frozenset({".html", ".htm", ".xml", ".xhtml"})


class _ConfinedLoader(jinja2.BaseLoader):
    """Loads templates only from inside ``root`` (symbolic links leading out are refused)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = confined_path(self.root, template, what="template")
        if not path.is_file():
            raise TemplateNotFound(template)
        modified = path.stat().st_mtime_ns
        return path.read_text(encoding="utf-8"), str(path), lambda: path.stat().st_mtime_ns == modified


def money(value: Any, places: int = 2) -> str:
    """Format an amount with thousands separators and fixed decimals: ``12000`` → ``12,000.00``."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"money expects an amount, got {value!r}") from exc
    return f"{amount:,.{places}f}"


MAX_TEXT = 1_000_000
"""Largest string a template may build with ``*``, and largest count a filter or call may get."""
MAX_COUNT = 100_000
_PRINTF_WIDTH = re.compile(r"%[-#0 +]*(?:\*|\d{5,})|%[-#0 +]*\d*\.(?:\*|\d{5,})")


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's sandbox, plus size limits: data cannot make a template build a huge string.

    The stock sandbox stops attribute escapes but not ``'-' * n``, ``9 ** 9 ** 9``,
    ``'%999999999d' % 1``, ``center(n)`` or ``lipsum(n)`` with ``n`` from a message.
    """

    intercepted_binops = frozenset({"*", "**", "%"})  # also keeps them out of compile-time folding

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and (_big_number(right, 100) or _big_number(left, 10**12)):
            raise SecurityError("a power this large is not allowed in a template")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(count, int)
                    and _size(seq) * count > MAX_TEXT
                ):
                    raise SecurityError(f"a repetition longer than {MAX_TEXT} is not allowed in a template")
        if operator == "%" and isinstance(left, str) and _PRINTF_WIDTH.search(left):
            raise SecurityError("'%' formats with widths of 10,000 or more are not allowed in a template")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if _big_number(value, MAX_COUNT):
                raise SecurityError(f"a count or width above {MAX_COUNT} is not allowed in a template")
        return super().call(__context, __obj, *args, **kwargs)


def _size(value: Any) -> int:
    """Characters and items in ``value``, nested lists included; counting stops past ``MAX_TEXT``."""
    total, pending = 0, [value]
    while pending and total <= MAX_TEXT:
        current = pending.pop()
        if isinstance(current, str):
            total += len(current)
        elif isinstance(current, list | tuple):
            total += 1 + len(current)
            pending.extend(current)
        else:
            total += 1
    return total


def _big_number(value: Any, limit: int) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool) and abs(value) > limit


def _environment(root: Path | None, autoescape: bool) -> ImmutableSandboxedEnvironment:
    environment = _BoundedSandbox(
        loader=_ConfinedLoader(root) if root is not None else None,
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    environment.filters["money"] = money
    for name in ("center", "indent", "format", "wordwrap", "truncate"):  # filters do not go through call()
        environment.filters[name] = _checked(environment.filters[name])
    environment.globals.pop("lipsum", None)
    return environment


def _checked(filter_function: Callable[..., Any]) -> Callable[..., Any]:
    def checked(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[1:], *kwargs.values()):
            if _big_number(value, MAX_COUNT):
                raise SecurityError(f"a count or width above {MAX_COUNT} is not allowed in a template")
        if args and isinstance(args[0], str) and _PRINTF_WIDTH.search(args[0]):
            raise SecurityError("formats with widths of 10,000 or more are not allowed in a template")
        return filter_function(*args, **kwargs)

    checked.__name__ = filter_function.__name__
    for marker in ("jinja_pass_arg",):  # keep pass_environment / pass_eval_context markers
        if hasattr(filter_function, marker):
            setattr(checked, marker, getattr(filter_function, marker))
    return checked


def _template_line(traceback: TracebackType | None, code_name: str) -> int | None:
    """The template line an error happened on, from the traceback Jinja2 rewrites."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == code_name:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


class RenderParams(BaseModel):
    """The template, the data and where the output goes."""

    template: str | None = Field(None, description="Template file, relative to the templates root.")
    text: str | None = Field(None, description="Inline template text (instead of a template file).")
    data: dict[str, Any] = Field(default_factory=dict, description="Values the template uses.")
    output: str = Field(description="Output file, relative to the outbox root, e.g. notices/N123.txt.")
    templates_root: str | None = Field(
        None, description="Folder of templates; default <work folder>/templates."
    )
    outbox_root: str | None = Field(
        None, description="Folder outputs are confined to; default <work folder>/outbox."
    )
    autoescape: bool | None = Field(
        None, description="HTML/XML escaping; default on for .html/.htm/.xml/.xhtml."
    )
    encoding: Literal["utf-8", "utf-8-sig", "gb18030", "gbk"] = Field("utf-8", description="Output encoding.")
    newline: Literal["lf", "crlf"] = Field(
        "lf", description="Line endings of the output (crlf for some bank systems)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> RenderParams:
        if (self.template is None) == (self.text is None):
            raise ValueError("give exactly one of 'template' (a file) or 'text' (inline)")
        return self


class RenderResult(BaseModel):
    path: str = Field(description="Absolute path of the written file.")
    sha256: str = Field(description="SHA-256 of the written bytes.")
    bytes: int = Field(description="Size of the file in bytes.")


def _root(ctx: SkillContext, given: str | None, default: str) -> Path:
    # a root given by the workflow must lie inside the work folder or a configured file root,
    # else ``templates_root: /`` would read any file and ``outbox_root: /etc`` write anywhere
    return confine(ctx, given) if given else ctx.work_dir / default


def render_template(params: RenderParams, templates_root: Path) -> str:
    """Render the template of ``params`` with its data; errors become located business errors."""
    names = [params.output, params.template or ""]
    escape = params.autoescape
    if escape is None:
        escape = any(Path(n).suffix.lower() in ESCAPED_SUFFIXES for n in names)
    environment = _environment(templates_root if templates_root.is_dir() else None, escape)
    shown_name = params.template or "inline text"  # replaced by the template's full path once loaded
    code_name = "<template>"  # the file name Jinja2 gives the compiled template's code
    try:
        if params.template is not None:
            if not templates_root.is_dir():
                raise TemplateNotFound(params.template)
            template = environment.get_template(params.template)
        else:
            template = environment.from_string(params.text or "")
        code_name = template.filename or code_name
        if params.template is not None:
            shown_name = code_name
        return template.render(params.data)
    except TemplateNotFound as exc:
        raise BusinessError(
            f"expected the template {exc.name} under {templates_root}, found none", code="template_not_found"
        ) from exc
    except TemplateSyntaxError as exc:
        raise BusinessError(
            f"{exc.filename or shown_name}:{exc.lineno}: template syntax error: {exc.message}",
            code="template_syntax",
        ) from exc
    except SecurityError as exc:
        raise BusinessError(
            f"{shown_name}: refused by the template sandbox: {exc}", code="template_unsafe"
        ) from exc
    except UndefinedError as exc:
        line = _template_line(exc.__traceback__, code_name)
        where = f"{shown_name}:{line}" if line else shown_name
        raise BusinessError(f"{where}: {exc.message}; add it to 'data'", code="template_undefined") from exc
    except (ValueError, TypeError, ArithmeticError) as exc:
        line = _template_line(exc.__traceback__, code_name)
        where = f"{shown_name}:{line}" if line else shown_name
        raise BusinessError(f"{where}: {exc}", code="template_error") from exc


@skill("speak.render", effect="idempotent", timeout="30s")
def render(ctx: SkillContext, params: RenderParams) -> RenderResult:
    """Fill a template (file or inline) with data into an outbox file, written atomically.

    Sandboxed Jinja2 with strict undefined values; the same inputs give the same file.
    """
    templates_root = _root(ctx, params.templates_root, "templates")
    target = confined_path(_root(ctx, params.outbox_root, "outbox"), params.output, what="output path")
    text = render_template(params, templates_root)
    if params.newline == "crlf":
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    try:
        data = text.encode(params.encoding)
    except UnicodeEncodeError as exc:
        raise BusinessError(
            f"the rendered text has a character {exc.object[exc.start : exc.end]!r} that {params.encoding} "
            "cannot encode",
            code="unencodable_text",
        ) from exc
    write_atomically(target, data)
    return RenderResult(path=str(target), sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
