"""Files of folder-triggered items: moved beside the inbox when their item ends."""

from __future__ import annotations

import filecmp
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from loguru import logger

from orchestrator.errors import RpaError
from orchestrator.queue.models import ItemStatus, WorkItem

if TYPE_CHECKING:
    from orchestrator.queue.store import SQLWorkQueue


def settle_source_file(
    queue: SQLWorkQueue, item: WorkItem, status: ItemStatus, reason: str | None = None
) -> Path | None:
    """Move the item's file to ``processed/`` (done) or ``failed/`` (failed, rejected) and
    record on the item where it went (a name already taken there gets a new one)."""
    if not item.source_path or not item.source.startswith("folder:") or not status.is_final:
        return None
    from skills.hear.inbox import move_to_failed, move_to_processed

    path = Path(item.source_path)
    if not path.exists():
        return None
    try:
        if status is ItemStatus.done:
            moved = move_to_processed(path.parent, path.name)
        else:
            moved = move_to_failed(path.parent, path.name, reason or status.value)
    except (RpaError, OSError) as exc:
        logger.warning("could not move {} after item {} ended: {}", path, item.id, exc)
        return None
    try:
        queue.record_settled_file(item.id, moved)
    except RpaError as exc:  # the file has moved: say where, since the item cannot
        logger.warning(
            "item {}: its file is now {} but the store could not record it: {}", item.id, moved, exc
        )
    return moved


class InboxNameTaken(RpaError):
    """A failed item's file cannot go back to its inbox: another file of that name is there."""


@dataclass(frozen=True)
class RestoredFile:
    """A failed item's file put back in its inbox by ``restore_source_file``."""

    inbox: Path
    parked: Path  # where it was parked, in failed/
    moved: bool  # False: the same content was in the inbox already, only the parked copy went

    def undo(self) -> None:
        """Park it again as it was (the person's action did not go through)."""
        try:
            os.link(self.inbox, self.parked)
            if self.moved:
                self.inbox.unlink()
        except OSError as exc:
            logger.warning("could not park {} again as {}: {}", self.inbox, self.parked, exc)

    def forget_why_it_failed(self) -> None:
        """The item is back in the queue: the note of why it failed goes."""
        self.parked.with_name(f"{self.parked.name}.reason.txt").unlink(missing_ok=True)


def restore_source_file(item: WorkItem) -> RestoredFile | None:
    """Put a failed folder item's file back in its inbox, where its run reads it, when a person
    retries the item; None when it is not in ``failed/`` (nothing moves, and the run will say
    what is missing).

    ``InboxNameTaken`` when the inbox holds a *different* file under the item's name (the next
    day's file of the same name, say): the item's run would read that one, so nothing moves
    and the retry must not go on. The same content there (a person copied it back) counts
    as restored.

    Called before the item is requeued: the inbox watcher takes a file it has not seen before
    as settling, not ready, so it cannot send the file back to ``failed/`` in between. If the
    requeue does not go through, ``undo``; once it did, ``forget_why_it_failed``.
    """
    if not item.source_path or not item.source.startswith("folder:"):
        return None
    from skills.hear.inbox import FAILED

    path = Path(item.source_path)
    failed = path.parent.resolve().parent / FAILED
    # where the item's file went (recorded since this version), else where it would have gone
    parked = failed / (Path(item.settled_path).name if item.settled_path else path.name)
    if parked.is_symlink() or not parked.is_file():
        return None
    taken = InboxNameTaken(
        f"item {item.id}'s file is parked as {parked}, but {path} holds another file: its run "
        f"would read that one; move it away (or wait until its own item is done) and retry again"
    )
    moved = not path.exists()
    try:
        if not moved:
            if not filecmp.cmp(path, parked, shallow=False):
                raise taken
        else:
            os.link(parked, path)  # never over a file that arrived meanwhile under the same name
        parked.unlink()
    except FileExistsError:  # it arrived between the look and the link
        raise taken from None
    except OSError as exc:
        logger.warning("could not put {} back in its inbox for item {}: {}", parked, item.id, exc)
        return None
    return RestoredFile(inbox=path, parked=parked, moved=moved)
