"""``rpa manual list|show|retry|resume|approve|reject``: the manual queue from the terminal."""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from orchestrator import jsoncodec
from orchestrator.cli.common import OPTIONS, CliError, out, print_json, resolve_run_id
from orchestrator.cli.run_cmds import parse_inputs
from orchestrator.cli.when import moment_or_none, not_before_option
from orchestrator.errors import RpaError

if TYPE_CHECKING:
    from orchestrator.queue.manual import ManualEntry


def _manual() -> Any:
    from orchestrator.queue.manual import ManualQueue
    from orchestrator.queue.store import SQLWorkQueue

    runtime = OPTIONS.runtime()
    return ManualQueue(runtime.store, SQLWorkQueue(runtime.store), runtime.registry)


def _user(given: str | None) -> str:
    return given or getpass.getuser()


def _waits(moment: datetime | None) -> str:
    return f"; not before {moment.isoformat(timespec='minutes')}" if moment else ""


def register(app: typer.Typer) -> None:
    manual = typer.Typer(help="Runs waiting for a person.", no_args_is_help=True)

    @manual.command("list")
    def list_(as_json: bool = typer.Option(False, "--json")) -> None:
        """Every run waiting for a person, with its reason and step."""
        entries = _manual().entries()
        if as_json:
            print_json(
                [
                    {
                        "run_id": e.run.id,
                        "workflow": e.run.workflow,
                        "step": e.run.parked_step,
                        "reason_code": e.run.reason_code,
                        "reason": e.run.reason,
                        "item": e.item.id if e.item else None,
                        "reference": e.item.reference if e.item else None,
                    }
                    for e in entries
                ]
            )
            return
        table = Table("run", "reference", "workflow", "step", "code", "reason", box=None, header_style="bold")
        for e in entries:
            table.add_row(
                e.run.id[:12],
                e.item.reference if e.item else "",  # the business key a person looks up
                e.run.workflow,
                e.run.parked_step or "",
                e.run.reason_code or "",
                (e.run.reason or "")[:90],
            )
        out.print(table)

    @manual.command("show")
    def show(run_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
        """A parked run: the reason, the step and the arguments a person may correct."""
        queue = _manual()
        entry = queue.entry(resolve_run_id(OPTIONS.runtime(), run_id))
        data = {
            "run_id": entry.run.id,
            "workflow": entry.run.workflow,
            "status": entry.run.status.value,
            "reason": entry.run.reason,
            "reason_code": entry.run.reason_code,
            "step": entry.run.parked_step,
            "skill": entry.step.skill if entry.step else None,
            "arguments": entry.step.params if entry.step else None,
            "item": entry.item.__dict__ if entry.item else None,
        }
        if as_json:
            print_json(data)
        else:
            out.print(json.dumps(jsoncodec.to_jsonable(data), ensure_ascii=False, indent=2), markup=False)

    def _act(fn: object, *args: object, **kwargs: object) -> None:
        try:
            fn(*args, **kwargs)  # type: ignore[operator]
        except RpaError as exc:  # ManualActionError and friends
            raise CliError(str(exc)) from None

    @manual.command("retry")
    def retry(
        run_id: str,
        note: str = typer.Option("", "--note"),
        not_before: str | None = not_before_option(),
        user: str | None = typer.Option(None, "--as"),
    ) -> None:
        """Run the parked step again — or a failed run's failed step (a once step verifies first)."""
        moment = moment_or_none(not_before)
        rid = resolve_run_id(OPTIONS.runtime(), run_id)
        _act(_manual().retry, rid, _user(user), note, not_before=moment)
        out.print(f"run {rid} sent back to the queue{_waits(moment)}", markup=False)

    @manual.command("retry-failed")
    def retry_failed(
        bot: str | None = typer.Option(None, "--bot", help="Only this bot's items."),
        code: str | None = typer.Option(None, "--code", help="Only runs that failed with this reason code."),
        limit: int = typer.Option(500, "--limit", min=1, max=10000, help="At most this many, newest first."),
        dry_run: bool = typer.Option(False, "--dry-run", help="List them; retry nothing."),
        note: str = typer.Option("", "--note"),
        not_before: str | None = not_before_option(),
        user: str | None = typer.Option(None, "--as"),
    ) -> None:
        """Retry every failed item (after an outage that outlasted the steps' retries)."""
        moment = moment_or_none(not_before)
        skipped: list[tuple[ManualEntry, str]] = []
        try:
            entries = _manual().retry_failed(
                _user(user),
                bot=bot,
                reason_code=code,
                note=note,
                not_before=moment,
                limit=limit,
                dry_run=dry_run,
                skipped=skipped,
            )
        except RpaError as exc:
            raise CliError(str(exc)) from None
        for e in entries:
            reference = e.item.reference if e.item else ""
            out.print(
                f"{e.run.id[:12]}  {reference}  {e.run.reason_code or ''}  {e.run.reason or ''}", markup=False
            )
        verb = "would retry" if dry_run else "sent back to the queue:"
        out.print(f"{verb} {len(entries)} failed item(s){_waits(moment)}", markup=False)
        for e, why in skipped:
            out.print(
                f"not retried: {e.run.id[:12]}  {e.item.reference if e.item else ''}: {why}", markup=False
            )

    @manual.command("resume")
    def resume(
        run_id: str,
        corrections: list[str] = typer.Option(
            ..., "--set", help="Corrected argument NAME=VALUE (repeatable)."
        ),
        note: str = typer.Option("", "--note"),
        not_before: str | None = not_before_option(),
        user: str | None = typer.Option(None, "--as"),
    ) -> None:
        """Correct the parked step's arguments (validated) and run it again."""
        moment = moment_or_none(not_before)
        rid = resolve_run_id(OPTIONS.runtime(), run_id)
        try:
            change = _manual().resume(
                rid, _user(user), parse_inputs(corrections, None), note, not_before=moment
            )
        except RpaError as exc:  # ManualActionError and friends
            raise CliError(str(exc)) from None
        out.print(
            f"run {rid}: {change['before']} → {change['after']}; sent back to the queue{_waits(moment)}",
            markup=False,
        )

    @manual.command("approve")
    def approve(
        run_id: str,
        note: str = typer.Option("", "--note"),
        not_before: str | None = not_before_option(),
        user: str | None = typer.Option(None, "--as"),
    ) -> None:
        """Approve a run waiting for four-eyes approval (the approver must not be the maker)."""
        moment = moment_or_none(not_before)
        rid = resolve_run_id(OPTIONS.runtime(), run_id)
        _act(_manual().approve, rid, _user(user), note, not_before=moment)
        out.print(f"run {rid} approved by {_user(user)}{_waits(moment)}", markup=False)

    @manual.command("reject")
    def reject(
        run_id: str,
        reason: str = typer.Option(..., "--reason"),
        user: str | None = typer.Option(None, "--as"),
    ) -> None:
        """End the item with a reason (a parked or a failed one)."""
        rid = resolve_run_id(OPTIONS.runtime(), run_id)
        _act(_manual().reject, rid, _user(user), reason)
        out.print(f"run {rid} rejected", markup=False)

    app.add_typer(manual, name="manual")
