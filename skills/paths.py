"""Confining file paths named by data (messages, work items, YAML) to configured roots.

A path from outside the bank must never reach ``../../etc/passwd``: every file skill resolves
its paths here. A relative path is taken under the first root; the fully resolved path (all
symlinks followed) must lie inside one of the roots, otherwise ``BusinessError(code=
"path_outside_root")`` is raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from skills import BusinessError, service


def resolve_within(candidate: str | Path, roots: Iterable[str | Path]) -> Path:
    """``candidate`` resolved (symlinks followed) and checked to lie inside one of ``roots``."""
    resolved_roots = [Path(r).resolve() for r in roots]
    if not resolved_roots:
        raise BusinessError("no file roots are configured", code="path_outside_root")
    raw = Path(candidate)
    if "\x00" in str(candidate):
        raise BusinessError("path contains a NUL character", code="path_outside_root")
    try:
        target = (raw if raw.is_absolute() else resolved_roots[0] / raw).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, an over-long name
        raise BusinessError(
            f"path {str(candidate)[:200]!r} cannot be resolved: {exc}", code="bad_path"
        ) from None
    for root in resolved_roots:
        if target == root or root in target.parents:
            return target
    shown = ", ".join(str(r) for r in resolved_roots)
    raise BusinessError(
        f"path {str(candidate)!r} is outside the allowed folders ({shown})", code="path_outside_root"
    )


class FileRoots:
    """The folders file skills may touch: the work folder plus ``file_roots`` from settings."""

    def __init__(self, roots: Iterable[str | Path]) -> None:
        self.roots = [Path(r).resolve() for r in roots]

    def resolve(self, candidate: str | Path, work_dir: Path | None = None) -> Path:
        roots = ([work_dir] if work_dir is not None else []) + list(self.roots)
        return resolve_within(candidate, roots)


@service("file_roots")
def file_roots_service(settings: Mapping[str, Any]) -> FileRoots:
    """Roots from the ``file_roots`` setting (a list of folders)."""
    return FileRoots(settings.get("file_roots") or [])


def confine(ctx: Any, candidate: str | Path) -> Path:
    """Resolve ``candidate`` for a skill: inside ``ctx.work_dir`` or a configured file root."""
    extra: list[Path] = []
    if ctx.services is not None:
        try:
            extra = ctx.service("file_roots").roots
        except Exception:
            extra = []
    return resolve_within(candidate, [ctx.work_dir, *extra])
