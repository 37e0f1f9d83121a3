"""The live step view of ``rpa run`` / ``rpa resume``."""

from __future__ import annotations

from rich.console import Console
from rich.live import Live
from rich.table import Table

from orchestrator.events import EngineEvent, RunFinished, RunStarted, StepFinished, StepStarted

_STYLE = {
    "running": "cyan",
    "done": "green",
    "retrying": "yellow",
    "failed": "red",
    "needs_review": "magenta",
    "skipped": "dim",
    "pending": "dim",
    "adopted": "green",
}


class StepView:
    """A table of steps updated from engine events (a line per step when not on a terminal)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.rows: dict[str, list[str]] = {}
        self.live: Live | None = None
        self.interactive = console.is_terminal

    def __enter__(self) -> StepView:
        if self.interactive:
            self.live = Live(self._table(), console=self.console, refresh_per_second=8, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.update(self._table())
            self.live.__exit__(None, None, None)

    def _table(self) -> Table:
        table = Table(show_header=True, header_style="bold", box=None)
        for column in ("step", "status", "attempts", "ms", "note"):
            table.add_column(column)
        for step, (status, attempts, ms, note) in self.rows.items():
            table.add_row(step, f"[{_STYLE.get(status, 'white')}]{status}[/]", attempts, ms, note)
        return table

    def _label(self, step_id: str, index: int) -> str:
        return step_id if index < 0 else f"{step_id}[{index}]"

    def __call__(self, event: EngineEvent) -> None:
        if isinstance(event, RunStarted):
            for step in event.step_ids:
                self.rows.setdefault(step, ["pending", "", "", "resumed run" if event.resumed else ""])
        elif isinstance(event, StepStarted):
            if event.item_index >= 0:
                self.rows.pop(event.step_id, None)
            self.rows[self._label(event.step_id, event.item_index)] = ["running", str(event.attempt), "", ""]
        elif isinstance(event, StepFinished):
            status = "adopted" if event.adopted else event.status.value
            note = (event.error or "")[:100]
            if event.adopted:
                note = "verified on the platform; not repeated"
            label = self._label(event.step_id, event.item_index)
            self.rows[label] = [status, str(event.attempts), f"{event.duration_ms:.0f}", note]
            if not self.interactive:
                self.console.print(f"{label:<30} {status:<13} attempts={event.attempts} {note}")
        elif isinstance(event, RunFinished):
            pass
        if self.live is not None:
            self.live.update(self._table())
