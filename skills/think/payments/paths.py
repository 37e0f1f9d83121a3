"""Safe resolution of file paths handed to the payment skills (one helper, used by all of them).

A path from a workflow is resolved against a root folder (the ``root`` parameter, else the run's
work folder) and must end inside it after ``..`` and symbolic links are resolved: a message
cannot make a skill read ``/etc/passwd`` or write beside the root.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from skills import BusinessError

MAX_MESSAGE_BYTES = 50 * 1024 * 1024


def resolve_within(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> Path:
    """``path`` resolved against ``root``; a ``BusinessError`` (code ``path_outside_root``) if it escapes.

    Relative paths are taken from ``root``; absolute ones must already point inside it.
    """
    try:
        base = Path(root).resolve()
        candidate = Path(path)
        resolved = (candidate if candidate.is_absolute() else base / candidate).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # NUL bytes, unreadable components, symlink loops
        raise BusinessError(f"path {str(path)!r} cannot be resolved: {exc}", code="bad_path") from exc
    if not resolved.is_relative_to(base):
        raise BusinessError(
            f"path {str(path)!r} resolves to {resolved}, outside the allowed folder {base}",
            code="path_outside_root",
        )
    return resolved


def read_bytes_within(path: str, root: str | os.PathLike[str]) -> bytes:
    """The content of a file inside ``root`` (at most ``MAX_MESSAGE_BYTES``)."""
    target = resolve_within(path, root)
    if not target.is_file():
        raise BusinessError(f"no message file at {target}", code="file_not_found")
    size = target.stat().st_size
    if size > MAX_MESSAGE_BYTES:
        raise BusinessError(
            f"{target} is {size} bytes; at most {MAX_MESSAGE_BYTES} are read", code="file_too_large"
        )
    return target.read_bytes()


def write_text_within(path: str, root: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to a file inside ``root`` atomically: a crash never leaves half a file."""
    target = resolve_within(path, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    # mkstemp creates 0600; keep the mode of the file being replaced, else rw-r--r-- for the gateway.
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
