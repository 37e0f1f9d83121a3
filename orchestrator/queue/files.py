"""Files of folder-triggered items: moved beside the inbox when their item ends."""

from __future__ import annotations

from pathlib import Path

from loguru import logger

from orchestrator.errors import RpaError
from orchestrator.queue.models import ItemStatus, WorkItem


def settle_source_file(item: WorkItem, status: ItemStatus, reason: str | None = None) -> Path | None:
    """Move the item's file to ``processed/`` (done) or ``failed/`` (failed, rejected)."""
    if not item.source_path or not item.source.startswith("folder:") or not status.is_final:
        return None
    from skills.hear.inbox import move_to_failed, move_to_processed

    path = Path(item.source_path)
    if not path.exists():
        return None
    try:
        if status is ItemStatus.done:
            return move_to_processed(path.parent, path.name)
        return move_to_failed(path.parent, path.name, reason or status.value)
    except (RpaError, OSError) as exc:
        logger.warning("could not move {} after item {} ended: {}", path, item.id, exc)
        return None
