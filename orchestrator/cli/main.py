"""Entry point of the ``rpa`` command (Typer). Errors of the user never print a traceback."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click
import typer

from orchestrator.cli import audit_cmds, run_cmds, spec_cmds
from orchestrator.cli.common import EXIT_USAGE, OPTIONS, CliError, err, print_error
from orchestrator.errors import RpaError, WorkflowError

try:  # Typer 0.29+ vendors its own copy of Click; older releases use Click itself
    from typer._click import exceptions as _click_exceptions
except ImportError:  # pragma: no cover - depends on the installed Typer
    from click import exceptions as _click_exceptions

_EXIT = (click.exceptions.Exit, typer.Exit)
_CLICK_ERRORS = (click.ClickException, _click_exceptions.ClickException)
_ABORT = (click.exceptions.Abort, typer.Abort)

app = typer.Typer(
    name="rpa",
    help="Digital Employee: run bank operations workflows (see, hear, speak, think, do) durably.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _global(
    config: Path | None = typer.Option(
        None, "--config", help="Settings file (default ./rpa.yaml or RPA_CONFIG)."
    ),
    db: str | None = typer.Option(
        None, "--db", help="Store URL (default: SQLite under --home; or RPA_DB_URL)."
    ),
    home: Path | None = typer.Option(None, "--home", help="Data folder (default .rpa; or RPA_HOME)."),
    log_json: bool = typer.Option(False, "--log-json", help="Log JSON lines instead of readable text."),
    log_level: str | None = typer.Option(None, "--log-level", help="DEBUG, INFO, WARNING, ERROR."),
    debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks of internal errors."),
) -> None:
    OPTIONS.config, OPTIONS.db, OPTIONS.home = config, db, home
    OPTIONS.log_json, OPTIONS.log_level, OPTIONS.debug = log_json, log_level, debug
    OPTIONS._settings = None
    OPTIONS._runtime = None


spec_cmds.register(app)
run_cmds.register(app)
audit_cmds.register(app)


def _extra_registrations() -> None:
    """Commands of later layers (queue, server, manual queue...) register themselves if present."""
    import importlib

    for module in (
        "orchestrator.cli.queue_cmds",
        "orchestrator.cli.manual_cmds",
        "orchestrator.cli.serve_cmds",
        "orchestrator.cli.toolkit_cmds",
        "orchestrator.cli.admin_cmds",
        "orchestrator.cli.users_cmds",
        "orchestrator.cli.demo_cmds",
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue
            raise
        mod.register(app)


_extra_registrations()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and turn every error into a message and an exit code."""
    command = typer.main.get_command(app)
    try:
        result = command.main(
            args=argv if argv is not None else sys.argv[1:], prog_name="rpa", standalone_mode=False
        )
        return int(result or 0)
    except _EXIT as exc:
        return exc.exit_code
    except _CLICK_ERRORS as exc:
        exc.show()
        return exc.exit_code
    except _ABORT:
        err.print("aborted")
        return 130
    except CliError as exc:
        print_error(str(exc))
        return exc.exit_code
    except WorkflowError as exc:
        for diagnostic in exc.diagnostics:
            err.print(str(diagnostic), markup=False)
        print_error(str(exc))
        return EXIT_USAGE
    except RpaError as exc:
        print_error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as exc:  # an internal bug: say so plainly; --debug shows the traceback
        if OPTIONS.debug or os.environ.get("RPA_DEBUG"):
            traceback.print_exc()
        print_error(f"{type(exc).__name__}: {exc} (run with --debug for details)", prefix="internal error")
        return 70
    finally:
        if OPTIONS._runtime is not None:
            try:
                import asyncio

                asyncio.run(OPTIONS._runtime.aclose())
            except Exception:  # noqa: S110 - closing after an error must not mask the error  # nosec B110
                pass
            OPTIONS._runtime = None


if __name__ == "__main__":
    sys.exit(main())
