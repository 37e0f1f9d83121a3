"""``rpa users add|list|remove|passwd|role|unlock`` and ``rpa users token create|list|revoke``.

Passwords are never taken from the command line (they would stay in the shell history and in
``ps``): they are read from standard input when it is not a terminal (one line), else asked
twice at a hidden prompt. A token is printed once, on standard output, and only its SHA-256
is kept.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any

import typer
from rich.table import Table

from orchestrator.cli.common import OPTIONS, CliError, err, out, print_json

# the dashboard's modules import FastAPI: loaded only when a users command runs, so that every
# other command (``rpa validate`` first) starts as fast as before
SCOPE_HELP = (
    "read (JSON API and /metrics), items:write (enqueue), manual:act (retry, resume, reject parked runs)"
)


def _directory() -> Any:
    from orchestrator.dashboard.config import dashboard_settings
    from orchestrator.dashboard.tables import ensure_schema
    from orchestrator.dashboard.users import UserDirectory

    runtime = OPTIONS.runtime()
    ensure_schema(runtime.store)
    return UserDirectory(runtime.store, dashboard_settings(runtime.settings))


def _tokens() -> Any:
    from orchestrator.dashboard.tables import ensure_schema
    from orchestrator.dashboard.tokens import TokenRegistry

    runtime = OPTIONS.runtime()
    ensure_schema(runtime.store)
    return TokenRegistry(runtime.store)


def _role(value: str) -> Any:
    from orchestrator.dashboard.users import parse_role

    return _run(parse_role, value)


def _run(action: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``action``; a ``UserError`` becomes a plain error message (exit code 2)."""
    from orchestrator.dashboard.users import UserError

    try:
        return action(*args, **kwargs)
    except UserError as exc:
        raise CliError(str(exc)) from None


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def read_password(prompt: str = "Password") -> str:
    """One line of standard input, or a hidden prompt asked twice on a terminal."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CliError("no password on standard input (give it as one line, or run in a terminal)")
        return password
    first = getpass.getpass(f"{prompt}: ")
    second = getpass.getpass(f"{prompt} again: ")
    if first != second:
        raise CliError("the two passwords differ")
    return first


def _when(value: object) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M:%S} UTC"  # type: ignore[str-format]


def register(app: typer.Typer) -> None:
    users = typer.Typer(help="People who sign in to the dashboard, and API tokens.", no_args_is_help=True)
    run = _run

    @users.command("add")
    def add(
        name: str = typer.Argument(..., help="User name (case-insensitive)."),
        role: str = typer.Option("viewer", "--role", help="viewer, operator or admin."),
        must_change: bool = typer.Option(
            False, "--must-change", help="The user must choose a new password at first sign-in."
        ),
    ) -> None:
        """Add a user; the password comes from standard input or a hidden prompt."""
        from orchestrator.dashboard.users import normalise_name

        parsed = _role(role)
        run(normalise_name, name)
        password = read_password()
        user = run(_directory().add, name, password, parsed, actor=_actor(), must_change=must_change)
        err.print(f"added {user.name} ({user.role.name})", markup=False)  # type: ignore[attr-defined]

    @users.command("list")
    def list_(as_json: bool = typer.Option(False, "--json")) -> None:
        """Users with their role, last sign-in and lock."""
        found = _directory().list()
        if as_json:
            print_json([u.__dict__ | {"role": u.role.name} for u in found])
            return
        table = Table("user", "role", "last sign-in", "locked until", "must change password", box=None)
        for u in found:
            table.add_row(
                u.name,
                u.role.name,
                _when(u.last_login_at),
                _when(u.locked_until),
                "yes" if u.must_change_password else "",
            )
        out.print(table)

    @users.command("remove")
    def remove(name: str) -> None:
        """Remove a user and end their sessions (the last administrator cannot be removed)."""
        run(_directory().remove, name, actor=_actor())
        err.print(f"removed {name}", markup=False)

    @users.command("passwd")
    def passwd(
        name: str,
        must_change: bool = typer.Option(
            False, "--must-change", help="Make the user choose a new one at sign-in."
        ),
    ) -> None:
        """Set a user's password (standard input or hidden prompt); their sessions end."""
        directory = _directory()
        if directory.get(name) is None:
            raise CliError(f"no user named {name}")
        run(
            directory.set_password,
            name,
            read_password("New password"),
            actor=_actor(),
            must_change=must_change,
        )
        err.print(f"password of {name} changed", markup=False)

    @users.command("role")
    def role_(name: str, role: str = typer.Argument(..., help="viewer, operator or admin.")) -> None:
        """Change a user's role."""
        run(_directory().set_role, name, _role(role), actor=_actor())
        err.print(f"{name} is now {role}", markup=False)

    @users.command("unlock")
    def unlock(name: str) -> None:
        """Lift a lockout after failed sign-ins."""
        run(_directory().unlock, name, actor=_actor())
        err.print(f"{name} unlocked", markup=False)

    tokens = typer.Typer(help="API tokens of machine clients (role + scopes).", no_args_is_help=True)

    @tokens.command("create")
    def token_create(
        name: str = typer.Argument(..., help="Name of the machine client."),
        role: str = typer.Option("viewer", "--role", help="viewer, operator or admin."),
        scope: list[str] = typer.Option(..., "--scope", help=f"Repeatable: {SCOPE_HELP}."),
    ) -> None:
        """Create a token and print it once (only its SHA-256 is kept)."""
        token = run(_tokens().create, name, _role(role), scope, actor=_actor())
        sys.stdout.write(f"{token}\n")
        err.print(f"token {name} created; it is shown only this once", markup=False)

    @tokens.command("list")
    def token_list(as_json: bool = typer.Option(False, "--json")) -> None:
        """Tokens with their role, scopes and last use (never the tokens themselves)."""
        found = _tokens().list()
        if as_json:
            print_json([t.__dict__ | {"role": t.role.name, "scopes": sorted(t.scopes)} for t in found])
            return
        table = Table("token", "role", "scopes", "created by", "created", "last used", box=None)
        for t in found:
            table.add_row(
                t.name,
                t.role.name,
                " ".join(sorted(t.scopes)),
                t.created_by,
                _when(t.created_at),
                _when(t.last_used_at),
            )
        out.print(table)

    @tokens.command("revoke")
    def token_revoke(name: str) -> None:
        """Revoke a token at once."""
        run(_tokens().revoke, name, actor=_actor())
        err.print(f"token {name} revoked", markup=False)

    users.add_typer(tokens, name="token")
    app.add_typer(users, name="users")
