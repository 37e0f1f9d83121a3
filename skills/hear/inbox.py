"""Inbox folders: list the files that are ready, and move each one out when its item ends.

These are plain functions, used by the orchestrator's watched-folder trigger and by the skills
``hear.list_inbox`` and ``hear.move_inbox_file``. The layout is::

    payments/inbox/       files dropped by other systems
    payments/processed/   files whose item ended well   (beside the inbox)
    payments/failed/      files whose item failed, each with a ``.reason.txt``

A file is *ready* when nothing seems to be writing it any more: its name is not a partial or
hidden one (``.part``, ``.tmp``, ``~``, leading dot...), its modification time is at least
``settle_seconds`` old and, when the caller passes the previous scan, its size and modification
time did not change since then. Sub-folders are ignored. Symbolic links are never followed: one
pointing outside the inbox is refused and reported, one pointing inside is skipped (its target
is listed itself). A name handed back to ``move_to_processed`` / ``move_to_failed`` must be a
plain file name in the inbox; ``..``, separators and absolute paths are refused.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from skills import BusinessError
from skills.hear.paths import write_atomically

#: Endings of files that are still being written by common transfer tools.
PARTIAL_SUFFIXES = (
    ".part",
    ".partial",
    ".tmp",
    ".temp",
    ".crdownload",
    ".filepart",
    ".download",
    ".swp",
    "~",
)
PROCESSED = "processed"
FAILED = "failed"


@dataclass(frozen=True)
class InboxFile:
    """A regular file in the inbox, as seen by one scan."""

    name: str
    path: Path
    size: int
    mtime_ns: int

    @property
    def signature(self) -> tuple[int, int]:
        """What must stay the same between scans for the file to count as settled."""
        return (self.size, self.mtime_ns)


@dataclass(frozen=True)
class SkippedEntry:
    """An inbox entry that is not offered for processing, with the reason."""

    name: str
    reason: str
    message: str


@dataclass(frozen=True)
class InboxScan:
    """The outcome of one look at an inbox."""

    ready: list[InboxFile] = field(default_factory=list)
    settling: list[InboxFile] = field(default_factory=list)
    refused: list[SkippedEntry] = field(default_factory=list)
    ignored: list[SkippedEntry] = field(default_factory=list)

    def signatures(self) -> dict[str, tuple[int, int]]:
        """Name → (size, mtime) of every regular file seen, to pass as ``previous`` next time."""
        return {f.name: f.signature for f in (*self.ready, *self.settling)}


def is_partial_name(name: str) -> bool:
    """Whether the name marks a hidden file or one still being transferred."""
    lowered = name.lower()
    return name.startswith((".", "~$")) or lowered.endswith(PARTIAL_SUFFIXES)


def _inbox_root(inbox: Path) -> Path:
    root = inbox.resolve()
    if not root.is_dir():
        raise BusinessError(f"expected an inbox folder at {inbox}, found none", code="inbox_missing")
    return root


def scan_inbox(
    inbox: Path,
    *,
    settle_seconds: float = 2.0,
    previous: Mapping[str, tuple[int, int]] | None = None,
    pattern: str = "*",
    now: float | None = None,
) -> InboxScan:
    """Look at the inbox once and sort its entries into ready, settling, refused and ignored.

    Args:
        inbox: The inbox folder.
        settle_seconds: How old (by modification time) a file must be to count as complete.
        previous: ``InboxScan.signatures()`` of the previous scan; a file whose size or
            modification time changed since then is still settling.
        pattern: Only names matching this glob are considered (others are ignored).
        now: The current time (seconds since the epoch); for tests.

    Returns:
        The scan; ``ready`` is sorted oldest first, then by name.

    Raises:
        BusinessError: The inbox folder does not exist.
    """
    root = _inbox_root(inbox)
    current = time.time() if now is None else now
    ready: list[InboxFile] = []
    settling: list[InboxFile] = []
    refused: list[SkippedEntry] = []
    ignored: list[SkippedEntry] = []
    with os.scandir(root) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            name = entry.name
            if entry.is_symlink():
                target = Path(os.path.realpath(entry.path))
                if not target.is_relative_to(root):
                    refused.append(
                        SkippedEntry(
                            name,
                            "symlink_outside",
                            f"{name} is a symbolic link to {target}, outside the inbox",
                        )
                    )
                else:
                    ignored.append(
                        SkippedEntry(name, "symlink", f"{name} is a symbolic link inside the inbox")
                    )
                continue
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                ignored.append(SkippedEntry(name, "folder", f"{name} is a folder"))
            elif not stat.S_ISREG(info.st_mode):
                refused.append(SkippedEntry(name, "not_a_file", f"{name} is not a regular file"))
            elif is_partial_name(name):
                ignored.append(
                    SkippedEntry(name, "partial_name", f"{name} is hidden or still being transferred")
                )
            elif not fnmatch(name, pattern):
                ignored.append(SkippedEntry(name, "pattern", f"{name} does not match {pattern}"))
            else:
                found = InboxFile(name=name, path=root / name, size=info.st_size, mtime_ns=info.st_mtime_ns)
                old_enough = current - info.st_mtime_ns / 1e9 >= settle_seconds
                unchanged = previous is None or previous.get(name) == found.signature
                (ready if old_enough and unchanged else settling).append(found)
    ready.sort(key=lambda f: (f.mtime_ns, f.name))
    return InboxScan(ready=ready, settling=settling, refused=refused, ignored=ignored)


def inbox_file(inbox: Path, name: str) -> Path:
    """The path of the file ``name`` directly in the inbox, refusing anything else.

    Raises:
        BusinessError: (``path_outside_inbox``) for an empty, absolute, nested or ``..`` name or
            a symbolic link; (``inbox_file_missing``) when no such regular file exists.
    """
    root = _inbox_root(inbox)
    problem = None
    if not name or name in (".", ".."):
        problem = "it is not a file name"
    elif "/" in name or "\\" in name or "\x00" in name or os.path.isabs(name):
        problem = "it is a path, not a plain file name"
    if problem is not None:
        raise BusinessError(
            f"expected a file name in the inbox {root}, got {name!r}: {problem}", code="path_outside_inbox"
        )
    path = root / name
    if path.is_symlink():
        raise BusinessError(
            f"{name} in the inbox {root} is a symbolic link; it is not moved", code="path_outside_inbox"
        )
    if not path.is_file():
        raise BusinessError(
            f"expected the file {name} in the inbox {root}, found none", code="inbox_file_missing"
        )
    return path


def _link_without_clobbering(source: Path, folder: Path) -> Path:
    """Hard-link ``source`` into ``folder`` under a free name: ``a.xml``, ``a.1.xml``, ``a.2.xml``..."""
    stem, suffix = Path(source.name).stem, Path(source.name).suffix
    for attempt in range(10_000):
        candidate = folder / (source.name if attempt == 0 else f"{stem}.{attempt}{suffix}")
        try:
            os.link(source, candidate)  # fails if the name exists: no check-then-write race
            return candidate
        except FileExistsError:
            continue
    raise BusinessError(f"no free name for {source.name} in {folder} after 10,000 tries", code="no_free_name")


def _move_no_clobber(source: Path, folder: Path) -> Path:
    if folder.is_symlink():  # a planted link would carry inbox files to wherever it points
        raise BusinessError(
            f"{folder} is a symbolic link; inbox files are never moved through one", code="path_outside_root"
        )
    folder.mkdir(parents=True, exist_ok=True)
    try:
        target = _link_without_clobbering(source, folder)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP):
            raise
        # Another file system (or one without hard links): copy to a hidden name, then link.
        staging = folder / f".{source.name}.moving"
        shutil.copy2(source, staging)
        try:
            target = _link_without_clobbering(staging, folder)
        finally:
            staging.unlink(missing_ok=True)
    source.unlink()
    return target


def move_to_processed(inbox: Path, name: str) -> Path:
    """Move the inbox file ``name`` to ``processed/`` beside the inbox; returns its new path."""
    return _move_no_clobber(inbox_file(inbox, name), inbox.resolve().parent / PROCESSED)


def move_to_failed(inbox: Path, name: str, reason: str | None = None) -> Path:
    """Move the inbox file ``name`` to ``failed/`` beside the inbox, with a ``.reason.txt`` if given."""
    target = _move_no_clobber(inbox_file(inbox, name), inbox.resolve().parent / FAILED)
    if reason:
        # through a temporary file and a rename: a symbolic link planted under this name is
        # replaced, never followed
        write_atomically(
            target.with_name(f"{target.name}.reason.txt"), (reason.rstrip() + "\n").encode("utf-8")
        )
    return target
