"""``rpa audit verify``, ``rpa audit list`` and ``rpa audit export-head``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from orchestrator.cli.common import OPTIONS, err, out, print_json


def register(app: typer.Typer) -> None:
    audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)

    @audit_app.command("verify")
    def verify(
        against: Path | None = typer.Option(
            None,
            "--against",
            help="A signed head file from 'rpa audit export-head': also catch deleted newest events "
            "and rewritten chains.",
        ),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Recompute every audit chain; report the first broken or missing link of each."""
        from orchestrator.audit_head import audit_key, compare_with_heads, load_head_file

        runtime = OPTIONS.runtime()
        signed = load_head_file(against, audit_key(runtime.settings)) if against is not None else None
        report = runtime.store.verify_audit()
        problems = list(report.problems)
        comparison = compare_with_heads(runtime.store, signed) if signed is not None else None
        if comparison is not None:
            problems += comparison.problems
        ok = not problems
        if as_json:
            print_json(
                {
                    "ok": ok,
                    "chains": report.chains,
                    "events": report.events,
                    "problems": [p.__dict__ for p in problems],
                    "against": None
                    if comparison is None
                    else {
                        "file": str(against),
                        "chains_checked": comparison.checked,
                        "chains_newer_than_the_head_file": comparison.new_chains,
                    },
                }
            )
        else:
            for problem in problems:
                out.print(
                    f"BROKEN chain {problem.chain} at event {problem.seq}: {problem.reason}", markup=False
                )
            verdict = "intact" if ok else f"{len(problems)} problem(s)"
            err.print(
                f"audit trail: {report.events} events in {report.chains} chain(s): {verdict}", markup=False
            )
            if comparison is not None:
                err.print(
                    f"against {against}: {comparison.checked} signed chain head(s) checked, "
                    f"{len(comparison.new_chains)} chain(s) started after it",
                    markup=False,
                )
        if not ok:
            raise typer.Exit(1)

    @audit_app.command("export-head")
    def export_head(
        output: Path = typer.Option(
            ..., "--output", "-o", help="Head file to write (keep it off this database's host)."
        ),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Write every chain's newest (seq, hash), signed with HMAC-SHA256 (key: RPA_AUDIT_KEY)."""
        from orchestrator.audit_head import audit_key, read_heads, sign_heads, write_head_file

        runtime = OPTIONS.runtime()
        key = audit_key(runtime.settings)
        heads = read_heads(runtime.store)
        document = sign_heads(heads, key)
        write_head_file(output, document)
        if as_json:
            print_json({"file": str(output), "chains": len(heads), "key_id": document["key_id"]})
        else:
            err.print(
                f"{len(heads)} chain head(s) signed with key {document['key_id']} written to {output}",
                markup=False,
            )

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
