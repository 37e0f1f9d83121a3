"""Logging through loguru: readable lines by default, JSON lines with ``--log-json``.

Every record passes through the secret masker before it is written, so a secret a run read
never reaches a log file or the console.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from loguru import logger

from orchestrator.masking import GLOBAL_MASKER

READABLE = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> <level>{level: <7}</level> {extra[extra_text]}{message}"
)


def _mask_record(record: dict[str, Any]) -> None:
    if GLOBAL_MASKER:
        record["message"] = GLOBAL_MASKER.mask(record["message"])
        record["extra"] = GLOBAL_MASKER.mask_value(dict(record["extra"]))
    extra = {k: v for k, v in record["extra"].items() if k != "extra_text"}
    record["extra"]["extra_text"] = "".join(f"[{k}={v}] " for k, v in extra.items())


def configure_logging(
    level: str = "INFO", *, json_lines: bool = False, sink: TextIO | None = None, file: str | None = None
) -> None:
    """Replace loguru's handlers: one to ``sink`` (stderr), optionally one to ``file``."""
    logger.remove()
    logger.configure(patcher=_mask_record)  # type: ignore[arg-type]
    target = sink or sys.stderr
    if json_lines:
        logger.add(target, level=level.upper(), serialize=True)
    else:
        logger.add(target, level=level.upper(), format=READABLE, colorize=None)
    if file:
        logger.add(
            file,
            level=level.upper(),
            serialize=json_lines,
            format=READABLE if not json_lines else "{message}",
        )
