"""``rpa run``, ``rpa resume``, ``rpa runs``, ``rpa show``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from orchestrator.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NEEDS_REVIEW,
    EXIT_OK,
    OPTIONS,
    CliError,
    err,
    out,
    print_json,
    resolve_run_id,
)
from orchestrator.cli.view import StepView
from orchestrator.enums import RunStatus
from orchestrator.errors import LeaseLostError
from orchestrator.models import RunRecord
from orchestrator.owners import owner_is_dead
from orchestrator.spec.validate import load_workflow

if TYPE_CHECKING:
    from orchestrator.engine import RunOutcome

EXIT_BY_STATUS = {
    RunStatus.done: EXIT_OK,
    RunStatus.failed: EXIT_FAILED,
    RunStatus.needs_review: EXIT_NEEDS_REVIEW,
    RunStatus.rejected: EXIT_FAILED,
}


def parse_inputs(pairs: list[str], inputs_file: Path | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if inputs_file is not None:
        from orchestrator.spec.yamlsource import load_yaml_file

        doc = load_yaml_file(inputs_file)
        if doc.errors:
            raise CliError("\n".join(str(d) for d in doc.errors))
        if not isinstance(doc.data, dict):
            raise CliError(f"{inputs_file}: expected a mapping of input names to values")
        values.update(doc.data)
    for pair in pairs:
        if "=" not in pair:
            raise CliError(f"--input expects NAME=VALUE, got {pair!r}")
        name, value = pair.split("=", 1)
        if value.startswith(("[", "{")):
            try:
                values[name.strip()] = json.loads(value)
                continue
            except json.JSONDecodeError:
                pass
        values[name.strip()] = value
    return values


def _report(outcome: RunOutcome, as_json: bool) -> int:
    if as_json:
        print_json(
            {
                "run_id": outcome.run_id,
                "status": outcome.status.value,
                "reason": outcome.reason,
                "reason_code": outcome.reason_code,
                "outputs": outcome.outputs,
            }
        )
    else:
        style = {"done": "green", "failed": "red", "needs_review": "magenta"}.get(
            outcome.status.value, "white"
        )
        err.print(f"run {outcome.run_id}: [{style}]{outcome.status.value}[/]")
        if outcome.reason:
            err.print(f"  reason: {outcome.reason}", markup=False)
        if outcome.outputs:
            for key, value in outcome.outputs.items():
                err.print(f"  {key} = {value}", markup=False)
    return EXIT_BY_STATUS.get(outcome.status, EXIT_FAILED)


async def _execute(run_id: str, *, force: bool, as_json: bool) -> RunOutcome:
    runtime = OPTIONS.runtime()
    view = StepView(err)
    executor = runtime.executor(on_event=view if not as_json else None)
    with view if not as_json else _null():
        return await executor.execute(run_id, force=force)


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        workflow: Path = typer.Argument(..., help="Workflow file."),
        input_pairs: list[str] = typer.Option([], "--input", "-i", help="Input as NAME=VALUE (repeatable)."),
        inputs_file: Path | None = typer.Option(None, "--inputs-file", help="YAML or JSON file of inputs."),
        as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON (no live view)."),
    ) -> None:
        """Run a workflow now on this machine, with a live view of its steps.

        Exit codes: 0 done, 1 failed, 3 needs review (manual queue), 2 invalid input, 4 interrupted.
        """
        runtime = OPTIONS.runtime()
        loaded = load_workflow(workflow, runtime.registry)
        inputs = parse_inputs(input_pairs, inputs_file)
        record = runtime.executor().create_run(loaded, inputs)
        if not as_json:
            err.print(
                f"run {record.id} of {loaded.spec.name} (store: {runtime.store.safe_url})", markup=False
            )
        try:
            outcome = asyncio.run(_execute(record.id, force=False, as_json=as_json))
        except LeaseLostError as exc:
            raise CliError(
                f"run {record.id} was taken over by another runner: {exc}", EXIT_INTERRUPTED
            ) from None
        raise typer.Exit(_report(outcome, as_json))

    @app.command("resume")
    def resume(
        run_id: str | None = typer.Argument(None, help="Run to resume (id or unique prefix)."),
        all_runs: bool = typer.Option(False, "--all", help="Resume every interrupted run."),
        force: bool = typer.Option(
            False, "--force", help="Take the run over even if its lease has not expired."
        ),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Resume interrupted runs from their last checkpoint (done steps are not repeated)."""
        runtime = OPTIONS.runtime()
        if all_runs == (run_id is not None):
            raise CliError("give a RUN_ID or --all (not both)")
        if all_runs:
            candidates = runtime.store.find_interrupted_runs(runtime.executor().clock.now())
            running = [
                r for r in runtime.store.list_runs(RunStatus.running, limit=1000) if owner_is_dead(r.owner)
            ]
            ids = list(dict.fromkeys([r.id for r in candidates] + [r.id for r in running]))
            if not ids:
                err.print("no interrupted runs")
                raise typer.Exit(EXIT_OK)
        else:
            ids = [resolve_run_id(runtime, run_id or "")]
        worst = EXIT_OK
        for rid in ids:
            record = runtime.store.get_run(rid)
            _check_resumable(record)
            take_over = force or owner_is_dead(record.owner)
            if not as_json:
                err.print(f"resuming run {rid} ({record.workflow}, was {record.status.value})", markup=False)
            try:
                outcome = asyncio.run(_execute(rid, force=take_over, as_json=as_json))
            except LeaseLostError as exc:
                raise CliError(
                    f"run {rid} is owned by a live runner: {exc} (use --force to take it over)",
                    EXIT_INTERRUPTED,
                ) from None
            worst = max(worst, _report(outcome, as_json))
        raise typer.Exit(worst)

    @app.command("runs")
    def runs(
        status: RunStatus | None = typer.Option(None, "--status", help="Only runs in this status."),
        workflow: str | None = typer.Option(None, "--workflow", help="Only runs of this workflow."),
        limit: int = typer.Option(50, "--limit", min=1, max=10_000),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """List runs, newest first."""
        records = OPTIONS.runtime().store.list_runs(status, workflow, limit)
        if as_json:
            print_json([_run_dict(r) for r in records])
            return
        table = Table(
            "run", "workflow", "status", "created", "finished", "reason", box=None, header_style="bold"
        )
        for r in records:
            table.add_row(
                r.id[:12],
                r.workflow,
                r.status.value,
                _ts(r.created_at),
                _ts(r.finished_at),
                (r.reason or "")[:70],
            )
        out.print(table)

    @app.command("show")
    def show(
        run_id: str = typer.Argument(..., help="Run id or unique prefix."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Show a run: status, inputs, outputs and its step timeline (timings, attempts, errors)."""
        runtime = OPTIONS.runtime()
        record = runtime.store.get_run(resolve_run_id(runtime, run_id))
        steps = runtime.store.get_steps(record.id)
        if as_json:
            print_json({**_run_dict(record), "steps": [_step_dict(s) for s in steps]})
            return
        out.print(f"[bold]run[/] {record.id}  [bold]workflow[/] {record.workflow}", end="  ")
        out.print(f"[bold]status[/] {record.status.value}")
        if record.reason:
            out.print(f"reason: {record.reason}", markup=False)
        out.print(f"inputs: {json.dumps(_plain(record.inputs), ensure_ascii=False)}", markup=False)
        if record.outputs is not None:
            out.print(f"outputs: {json.dumps(_plain(record.outputs), ensure_ascii=False)}", markup=False)
        table = Table("step", "status", "attempts", "started", "ms", "error", box=None, header_style="bold")
        for s in steps:
            label = s.step_id if s.item_index < 0 else f"{s.step_id}[{s.item_index}]"
            status = "adopted" if s.adopted else s.status.value
            duration = f"{s.duration_ms:.0f}" if s.duration_ms is not None else ""
            table.add_row(label, status, str(s.attempts), _ts(s.started_at), duration, (s.error or "")[:80])
        out.print(table)


def _check_resumable(record: RunRecord) -> None:
    if record.status.is_terminal:
        raise CliError(f"run {record.id} is {record.status.value}; only interrupted runs can be resumed")
    if record.status is RunStatus.needs_review:
        raise CliError(
            f"run {record.id} is waiting for a person ({record.reason}); use 'rpa manual retry|resume|reject'"
        )


def _plain(value: Any) -> Any:
    from orchestrator import jsoncodec

    return jsoncodec.to_jsonable(value)


def _ts(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _run_dict(r: RunRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "workflow": r.workflow,
        "status": r.status.value,
        "reason": r.reason,
        "reason_code": r.reason_code,
        "parked_step": r.parked_step,
        "inputs": r.inputs,
        "outputs": r.outputs,
        "work_item_id": r.work_item_id,
        "executions": r.executions,
        "created_at": r.created_at,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
    }


def _step_dict(s: Any) -> dict[str, Any]:
    return {
        "step_id": s.step_id,
        "item_index": s.item_index,
        "status": s.status.value,
        "skill": s.skill,
        "effect": s.effect,
        "attempts": s.attempts,
        "adopted": s.adopted,
        "idempotency_key": s.idempotency_key,
        "params": s.params,
        "output": s.output,
        "error": s.error,
        "error_kind": s.error_kind,
        "started_at": s.started_at,
        "finished_at": s.finished_at,
        "duration_ms": s.duration_ms,
    }
