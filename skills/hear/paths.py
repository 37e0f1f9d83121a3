"""Keep file paths inside a root folder, and write files so readers never see half of one.

Used by the inbox functions (``skills.hear.inbox``) and by the speak skills that write output
(``speak.say``, ``speak.render``). A relative path given by a workflow is refused when it is
absolute, climbs with ``..``, or reaches outside the root through a symbolic link.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from skills import BusinessError


def confined_path(root: Path, relative: str, *, what: str = "path") -> Path:
    """Resolve ``relative`` under ``root`` and refuse anything that would land outside it.

    Args:
        root: The folder the path must stay in (need not exist yet).
        relative: A relative path with ``/`` separators, e.g. ``"letters/2024/notice.txt"``.
        what: What the path is, for the error message ("output path", "template").

    Returns:
        The absolute path, symbolic links resolved.

    Raises:
        BusinessError: (code ``path_outside_root``) for an empty, absolute or ``..`` path, a NUL
            byte, or a symbolic link that leads outside ``root``.
    """
    problem = None
    if not relative or not relative.strip():
        problem = "it is empty"
    elif "\x00" in relative:
        problem = "it contains a NUL byte"
    elif (
        PurePosixPath(relative).is_absolute()
        or PureWindowsPath(relative).is_absolute()
        or relative[1:2] == ":"
    ):
        problem = "it is absolute"
    elif ".." in PurePosixPath(relative.replace("\\", "/")).parts:
        problem = "it climbs out with '..'"
    root_resolved = root.resolve()
    try:
        candidate = (root_resolved / relative).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, an over-long name
        candidate = root_resolved.parent  # reported below as leaving the root
        problem = problem or "it cannot be resolved (a symbolic link loop?)"
    if problem is None and not candidate.is_relative_to(root_resolved):
        problem = "a symbolic link leads outside"
    if problem is not None:
        raise BusinessError(
            f"expected the {what} to stay inside {root_resolved}, got {relative!r}: {problem}",
            code="path_outside_root",
        )
    return candidate


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A reader (or a crash) sees either the old file or the complete new one, never a part.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
