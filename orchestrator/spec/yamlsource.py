"""Safe YAML loading that keeps every value's position and never guesses types.

PyYAML implements YAML 1.1, where ``12:30`` is 750, ``no`` is False, ``01234567`` is an octal
number and ``12345.60`` a float. Workflow files carry times, account numbers and amounts, so
this loader keeps every plain scalar as a string (only ``null``/``~``/empty become ``None``)
and lets the typed model that reads the value decide: a ``Decimal`` field gets
``Decimal("12345.60")``, a ``str`` field keeps ``"01234567"``.

Only the standard tags are accepted; ``!!python/...`` and custom tags are rejected with their
position, as are duplicate keys, oversized or deeply nested documents and alias bombs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestrator.spec.diagnostics import Diagnostic, PathKey, path_to_str

# libyaml's composer is ~10x faster and gives the same nodes and marks
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DOCUMENT_BYTES = 2_000_000
MAX_DEPTH = 64
MAX_NODES = 200_000

_NULLS = {"", "~", "null", "Null", "NULL"}
_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:binary",
    "tag:yaml.org,2002:merge",
}


@dataclass
class LocatedYaml:
    """A loaded YAML document: plain Python data plus the 1-based position of every value."""

    file: str
    data: Any
    positions: dict[tuple[PathKey, ...], tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[tuple[PathKey, ...], tuple[int, int]] = field(default_factory=dict)
    errors: list[Diagnostic] = field(default_factory=list)

    def position(self, path: tuple[PathKey, ...], *, key: bool = False) -> tuple[int, int]:
        """Position of the value at ``path`` (or of its key), else of the nearest ancestor."""
        table = self.key_positions if key else self.positions
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.positions:
                return self.positions[probe]
            probe = probe[:-1]
        return self.positions.get((), (1, 1))

    def diagnostic(
        self, path: tuple[PathKey, ...], message: str, rule: str = "syntax", *, key: bool = False
    ) -> Diagnostic:
        line, column = self.position(path, key=key)
        return Diagnostic(self.file, line, column, path_to_str(path), message, rule)


class _Builder:
    def __init__(self, doc: LocatedYaml) -> None:
        self.doc = doc
        self.count = 0

    def build(self, node: yaml.Node, path: tuple[PathKey, ...], depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Abort(self.doc.diagnostic(path, f"document has more than {MAX_NODES} values", "too-large"))
        if depth > MAX_DEPTH:
            raise _Abort(
                self.doc.diagnostic(path, f"document is nested deeper than {MAX_DEPTH} levels", "too-deep")
            )
        self.doc.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if node.tag not in _STANDARD_TAGS or node.tag.endswith(":merge"):
            self.doc.errors.append(
                self.doc.diagnostic(path, f"tag {node.tag!r} is not allowed (only plain YAML)", "unsafe-tag")
            )
            return None
        if isinstance(node, yaml.ScalarNode):
            if not node.style and node.value in _NULLS:
                return None
            return node.value
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if (
                    not isinstance(key_node, yaml.ScalarNode)
                    or key_node.tag not in _STANDARD_TAGS
                    or (key_node.tag.endswith(":merge"))
                ):
                    what = (
                        "merge keys (<<) are not supported"
                        if key_node.tag.endswith(":merge")
                        else ("mapping keys must be plain strings")
                    )
                    self.doc.positions[(*path, "?")] = (
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                    )
                    self.doc.errors.append(self.doc.diagnostic((*path, "?"), what, "syntax"))
                    continue
                key = key_node.value
                child_path = (*path, key)
                self.doc.key_positions[child_path] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                if key in result:
                    self.doc.errors.append(
                        self.doc.diagnostic(child_path, f"duplicate key {key!r}", "duplicate-key", key=True)
                    )
                    continue
                result[key] = self.build(value_node, child_path, depth + 1)
            return result
        raise _Abort(self.doc.diagnostic(path, "unsupported YAML node", "syntax"))


class _Abort(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def load_yaml(text: str, file: str = "<string>") -> LocatedYaml:
    """Parse ``text``; problems are returned in ``.errors`` (never raised), all in one pass."""
    doc = LocatedYaml(file=file, data=None)
    if len(text.encode("utf-8", errors="replace")) > MAX_DOCUMENT_BYTES:
        doc.errors.append(
            Diagnostic(file, 1, 1, "", f"document is larger than {MAX_DOCUMENT_BYTES} bytes", "too-large")
        )
        return doc
    try:
        nodes = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        doc.errors.append(Diagnostic(file, line, column, "", f"YAML syntax error: {problem}", "syntax"))
        return doc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        doc.errors.append(
            Diagnostic(
                file, line, column, "", f"character #x{exc.character:04x} is not allowed in YAML", "syntax"
            )
        )
        return doc
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        doc.errors.append(Diagnostic(file, 1, 1, "", f"YAML error: {message}", "syntax"))
        return doc
    except RecursionError:
        doc.errors.append(
            Diagnostic(file, 1, 1, "", f"document is nested deeper than {MAX_DEPTH} levels", "too-deep")
        )
        return doc
    if not nodes:
        doc.errors.append(Diagnostic(file, 1, 1, "", "the file is empty", "syntax"))
        return doc
    if len(nodes) > 1:
        second = nodes[1].start_mark
        doc.errors.append(
            Diagnostic(file, second.line + 1, 1, "", "expected one YAML document, found several", "syntax")
        )
    try:
        doc.data = _Builder(doc).build(nodes[0], (), 0)
    except _Abort as abort:
        doc.errors.append(abort.diagnostic)
        doc.data = None
    except RecursionError:
        doc.errors.append(
            Diagnostic(file, 1, 1, "", f"document is nested deeper than {MAX_DEPTH} levels", "too-deep")
        )
        doc.data = None
    return doc


def load_yaml_file(path: str | Path) -> LocatedYaml:
    """Read and parse a file; an unreadable file becomes a diagnostic, not an exception."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        doc = LocatedYaml(file=name, data=None)
        doc.errors.append(Diagnostic(name, 1, 1, "", f"cannot read file: {exc.strerror or exc}", "io"))
        return doc
    if len(raw) > MAX_DOCUMENT_BYTES:
        doc = LocatedYaml(file=name, data=None)
        doc.errors.append(
            Diagnostic(name, 1, 1, "", f"document is larger than {MAX_DOCUMENT_BYTES} bytes", "too-large")
        )
        return doc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        doc = LocatedYaml(file=name, data=None)
        doc.errors.append(Diagnostic(name, 1, 1, "", f"file is not UTF-8 text ({exc.reason})", "syntax"))
        return doc
    return load_yaml(text, name)
