"""``rpa demo`` (the main job) and ``rpa demo platform NAME``."""

from __future__ import annotations

from pathlib import Path

import typer

from orchestrator.cli.common import CliError, err


def register(app: typer.Typer) -> None:
    demo = typer.Typer(
        help="Run the reference scenarios end to end (the main job).", invoke_without_command=True
    )

    @demo.callback()
    def run(
        ctx: typer.Context,
        size: int = typer.Option(
            300, "--size", min=6, max=100_000, help="Items in all (messages 2 : vouchers 1)."
        ),
        seed: int = typer.Option(7, "--seed", help="Seed of the generated batch."),
        keep: Path | None = typer.Option(
            None, "--keep", help="Keep the workspace in this (new or empty) folder."
        ),
        serve: bool = typer.Option(
            False, "--serve", help="Leave the dashboard up afterwards (Ctrl-C stops)."
        ),
        runners: int = typer.Option(3, "--runners", min=1, max=32, help="Embedded runners."),
        port: int = typer.Option(0, "--port", help="Dashboard port (0: any free port)."),
        scenario: list[str] = typer.Option([], "--scenario", help="Only these scenarios (rmb, cnaps)."),
    ) -> None:
        """Generate a realistic batch with defects, start the example platforms, run the bots unattended
        on the embedded SQLite store and print the summary."""
        if ctx.invoked_subcommand is not None:
            return
        from examples.demo.run import SCENARIOS, DemoOptions, run_demo

        unknown = sorted(set(scenario) - set(SCENARIOS))
        if unknown:
            raise CliError(
                f"unknown scenario(s) {', '.join(unknown)}; expected some of {', '.join(SCENARIOS)}"
            )
        options = DemoOptions(
            size=size,
            seed=seed,
            keep=keep,
            serve=serve,
            runners=runners,
            port=port,
            scenarios=tuple(scenario) or SCENARIOS,
        )
        try:
            result = run_demo(options)
        except KeyboardInterrupt:
            err.print("demo interrupted")
            raise typer.Exit(130) from None
        except (RuntimeError, TimeoutError) as exc:
            raise CliError(str(exc)) from None
        if keep is None and not serve:
            err.print(
                f"(workspace kept for inspection: {result.workspace}; use --keep DIR to choose it)",
                markup=False,
            )

    @demo.command("platform")
    def platform(
        name: str = typer.Argument(..., help="portal, reporting, terminal or ledger"),
        port: int | None = typer.Option(None, "--port", help="TCP port (web platforms)."),
        data_dir: Path = typer.Option(
            Path("platform-data"), "--data-dir", help="Folder of the platform's store."
        ),
    ) -> None:
        """Start one example platform and keep it running until Ctrl-C."""
        import time

        from examples.platforms.launch import run_platform

        try:
            with run_platform(name, port=port, data_dir=data_dir) as handle:
                where = handle.base_url or f"display {handle.display}"
                err.print(
                    f"{name} running at {where} (store {handle.store_path}); Ctrl-C to stop", markup=False
                )
                while True:
                    time.sleep(1)
        except KeyboardInterrupt:
            return
        except ValueError as exc:
            raise CliError(str(exc)) from None

    app.add_typer(demo, name="demo")
