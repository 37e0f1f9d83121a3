"""``--not-before``: a moment on the command line (read by ``orchestrator.moments``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer

from orchestrator.cli.common import CliError
from orchestrator.moments import parse_moment

NOT_BEFORE_HELP = (
    "No runner takes the item before then: HH:MM (the next one), YYYY-MM-DD HH:MM (Shanghai "
    "time) or ISO 8601 with an offset."
)


def not_before_option() -> Any:
    return typer.Option(None, "--not-before", help=NOT_BEFORE_HELP)


def moment_or_none(text: str | None) -> datetime | None:
    """``--not-before``'s moment; a value that is not a time is the user's mistake, said plainly."""
    if text is None:
        return None
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise CliError(f"--not-before: {exc}") from None
