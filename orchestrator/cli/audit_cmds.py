"""``rpa audit verify`` and ``rpa audit list``."""

from __future__ import annotations

import typer
from rich.table import Table

from orchestrator.cli.common import OPTIONS, err, out, print_json


def register(app: typer.Typer) -> None:
    audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)

    @audit_app.command("verify")
    def verify(as_json: bool = typer.Option(False, "--json")) -> None:
        """Recompute every audit chain; report the first broken or missing link of each."""
        report = OPTIONS.runtime().store.verify_audit()
        if as_json:
            print_json(
                {
                    "ok": report.ok,
                    "chains": report.chains,
                    "events": report.events,
                    "problems": [p.__dict__ for p in report.problems],
                }
            )
        else:
            for problem in report.problems:
                out.print(
                    f"BROKEN chain {problem.chain} at event {problem.seq}: {problem.reason}", markup=False
                )
            verdict = "intact" if report.ok else f"{len(report.problems)} broken chain(s)"
            err.print(
                f"audit trail: {report.events} events in {report.chains} chain(s): {verdict}", markup=False
            )
        if not report.ok:
            raise typer.Exit(1)

    @audit_app.command("list")
    def list_events(
        run_id: str | None = typer.Option(None, "--run", help="Only events of this run."),
        kind: str | None = typer.Option(None, "--kind", help="Only events of this kind."),
        limit: int = typer.Option(200, "--limit", min=1, max=100_000),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """List audit events in time order."""
        events = OPTIONS.runtime().store.audit_events(run_id=run_id, kind=kind, limit=limit)
        if as_json:
            print_json([e.__dict__ for e in events])
            return
        table = Table("at", "kind", "run", "step", "actor", box=None, header_style="bold")
        for e in events:
            table.add_row(
                e.at.strftime("%H:%M:%S.%f")[:-3] if e.at else "",
                e.kind,
                (e.run_id or "")[:12],
                e.step_id or "",
                e.actor,
            )
        out.print(table)

    app.add_typer(audit_app, name="audit")
