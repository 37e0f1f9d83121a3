"""hear.list_inbox and hear.move_inbox_file: inbox folders from a workflow."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from skills import BusinessError, SkillContext, skill
from skills.hear.inbox import FAILED, PROCESSED, move_to_failed, move_to_processed, scan_inbox
from skills.paths import confine


def _folder(ctx: SkillContext, inbox: str) -> Path:
    # the inbox must lie inside the work folder or a configured file root (``inbox: /etc`` is refused)
    return confine(ctx, inbox)


class ListInboxParams(BaseModel):
    """Which inbox to look at and when a file counts as complete."""

    inbox: str = Field(description="The inbox folder; relative to the run's work folder unless absolute.")
    settle_seconds: float = Field(
        2.0, ge=0, le=3600, description="A file must be unmodified for this long to count as complete."
    )
    pattern: str = Field("*", description="Only file names matching this glob, e.g. '*.xml'.")
    limit: int | None = Field(None, ge=1, description="Return at most this many ready files (oldest first).")


class InboxFileModel(BaseModel):
    name: str = Field(description="File name in the inbox.")
    path: str = Field(description="Absolute path.")
    size: int = Field(description="Size in bytes.")
    modified: datetime = Field(description="Last modification time (UTC).")


class SkippedModel(BaseModel):
    name: str = Field(description="Entry name in the inbox.")
    reason: str = Field(
        description="Short code: symlink_outside, not_a_file, partial_name, symlink, folder..."
    )
    message: str = Field(description="Readable explanation.")


class ListInboxResult(BaseModel):
    files: list[InboxFileModel] = Field(description="Files ready to process, oldest first.")
    settling: list[str] = Field(description="Files that may still be being written (seen next time).")
    refused: list[SkippedModel] = Field(
        description="Entries refused for safety (symbolic links out of the inbox)."
    )
    ignored: list[SkippedModel] = Field(description="Entries skipped on purpose (partial names, folders...).")


@skill("hear.list_inbox", effect="none", timeout="30s")
def list_inbox(ctx: SkillContext, params: ListInboxParams) -> ListInboxResult:
    """List the files in an inbox folder that are completely written and ready to process.

    Partial and hidden names are skipped, files modified within ``settle_seconds`` wait for the
    next look, and symbolic links pointing out of the inbox are refused and reported.
    """
    scan = scan_inbox(
        _folder(ctx, params.inbox), settle_seconds=params.settle_seconds, pattern=params.pattern
    )
    ready = scan.ready[: params.limit] if params.limit else scan.ready
    return ListInboxResult(
        files=[
            InboxFileModel(
                name=f.name,
                path=str(f.path),
                size=f.size,
                modified=datetime.fromtimestamp(f.mtime_ns / 1e9, tz=UTC),
            )
            for f in ready
        ],
        settling=[f.name for f in scan.settling],
        refused=[SkippedModel(name=s.name, reason=s.reason, message=s.message) for s in scan.refused],
        ignored=[SkippedModel(name=s.name, reason=s.reason, message=s.message) for s in scan.ignored],
    )


class MoveInboxFileParams(BaseModel):
    """Which inbox file to move out, and whether its item succeeded."""

    inbox: str = Field(description="The inbox folder; relative to the run's work folder unless absolute.")
    name: str = Field(description="The file name in the inbox (a plain name, no folders).")
    outcome: Literal["processed", "failed"] = Field(
        description="Where it goes: processed/ or failed/ beside the inbox."
    )
    reason: str | None = Field(None, description="For failed files: written to <file>.reason.txt beside it.")


class MoveInboxFileResult(BaseModel):
    path: str = Field(description="Where the file is now.")
    already_moved: bool = Field(description="True when an earlier attempt had already moved it.")


def _moved_earlier(folder: Path, name: str) -> Path | None:
    """The newest file in ``folder`` named ``name`` or numbered after it (``a.xml``, ``a.3.xml``)."""
    stem, suffix = Path(name).stem, Path(name).suffix
    numbered = re.compile(rf"^{re.escape(stem)}(\.\d+)?{re.escape(suffix)}$")
    if not folder.is_dir():
        return None
    candidates = [p for p in folder.iterdir() if numbered.match(p.name) and p.is_file()]
    return max(candidates, key=lambda p: p.stat().st_mtime_ns, default=None)


@skill("hear.move_inbox_file", effect="idempotent", timeout="30s")
def move_inbox_file(ctx: SkillContext, params: MoveInboxFileParams) -> MoveInboxFileResult:
    """Move a file out of its inbox into processed/ or failed/ beside it, never overwriting.

    A name already taken there gets a number (``a.xml`` → ``a.1.xml``). Repeating the step after
    the file was moved returns where it went.
    """
    inbox = _folder(ctx, params.inbox)
    try:
        if params.outcome == "processed":
            return MoveInboxFileResult(path=str(move_to_processed(inbox, params.name)), already_moved=False)
        target = move_to_failed(inbox, params.name, params.reason)
        return MoveInboxFileResult(path=str(target), already_moved=False)
    except BusinessError as exc:
        if exc.code != "inbox_file_missing":
            raise
        folder = inbox.resolve().parent / (PROCESSED if params.outcome == "processed" else FAILED)
        earlier = _moved_earlier(folder, params.name)
        if earlier is None:
            raise
        return MoveInboxFileResult(path=str(earlier), already_moved=True)
