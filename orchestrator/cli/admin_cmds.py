"""``rpa secrets``: manage the encrypted vault (set, list, remove, keygen, rekey).

A secret value is read from stdin or a hidden prompt, never from the command line, where it
would stay in the shell history and be visible to every user in the process list. ``list``
shows names and where each comes from, never a value.
"""

from __future__ import annotations

import getpass
import os
import sys

import typer
from rich.table import Table

from orchestrator.cli.common import OPTIONS, CliError, err, out, print_json
from orchestrator.secrets import EnvSecretSource
from orchestrator.vault import (
    KEY_ENV,
    MAX_VALUE_BYTES,
    VaultFile,
    VaultKey,
    check_name,
    generate_key,
    vault_for,
)

NEW_KEY_ENV = "RPA_VAULT_NEW_KEY"
_NO_ARGV_VALUES = (
    "'rpa secrets set' never takes the value on the command line (it would stay in the shell "
    "history and show in the process list): pipe it on stdin or type it at the hidden prompt; "
    "nothing was stored"
)


def _vault() -> VaultFile:
    return vault_for(OPTIONS.settings())


def _audit(kind: str, payload: dict[str, object]) -> None:
    """Record a vault change (names only, never values) in the audit trail."""
    from orchestrator.models import AuditEvent
    from orchestrator.store import open_store

    settings = OPTIONS.settings()
    store = open_store(settings.database_url, synchronous=settings.sqlite_synchronous)
    try:
        store.append_audit([AuditEvent(kind=kind, actor=f"cli:{getpass.getuser()}", payload=payload)])
    finally:
        store.close()


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"value of {name} (not shown): ")
        if getpass.getpass("again, to confirm: ") != first:
            raise CliError("the two values differ; nothing was stored")
        return first
    raw = sys.stdin.buffer.read(MAX_VALUE_BYTES + 3)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError("the value on stdin is not UTF-8 text; nothing was stored") from None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    return text


def register(app: typer.Typer) -> None:
    secrets_app = typer.Typer(help="The encrypted secrets vault (values never shown).", no_args_is_help=True)

    @secrets_app.command("set", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def set_secret(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="Secret name; workflows read it as secrets.NAME."),
    ) -> None:
        """Store a secret in the vault; the value comes from stdin or a hidden prompt."""
        if ctx.args:
            raise CliError(_NO_ARGV_VALUES)
        canonical = check_name(name)
        vault = _vault()
        value = _read_value(canonical)
        replaced = vault.set(canonical, value)
        _audit("secret_set", {"name": canonical, "vault": str(vault.path), "replaced": replaced})
        verb = "replaced" if replaced else "stored"
        err.print(f"secret {canonical} {verb} in the vault {vault.path}", markup=False)

    @secrets_app.command("list")
    def list_secrets(as_json: bool = typer.Option(False, "--json")) -> None:
        """List secret names and where each comes from (vault, environment); never the values."""
        vault = _vault()
        in_vault = set(vault.read()) if vault.exists() else set()
        in_env = set(EnvSecretSource().names())
        rows = [
            {
                "name": name,
                "source": "vault and environment (environment wins)"
                if name in in_vault and name in in_env
                else ("vault" if name in in_vault else "environment"),
            }
            for name in sorted(in_vault | in_env)
        ]
        if as_json:
            print_json({"vault": str(vault.path), "secrets": rows})
            return
        table = Table("name", "source", box=None, header_style="bold")
        for row in rows:
            table.add_row(row["name"], row["source"])
        out.print(table)
        err.print(f"{len(rows)} secret(s); vault file {vault.path}", markup=False)

    @secrets_app.command("remove")
    def remove_secret(name: str = typer.Argument(..., help="Secret name.")) -> None:
        """Delete a secret from the vault."""
        vault = _vault()
        canonical = check_name(name)
        if not vault.exists() or not vault.remove(canonical):
            raise CliError(f"the vault {vault.path} holds no secret {canonical}", exit_code=1)
        _audit("secret_removed", {"name": canonical, "vault": str(vault.path)})
        err.print(f"secret {canonical} removed from the vault {vault.path}", markup=False)

    @secrets_app.command("keygen")
    def keygen() -> None:
        """Print a new random vault key (keep it in RPA_VAULT_KEY or the OS keyring)."""
        sys.stdout.write(generate_key() + "\n")
        err.print(
            f"keep this key in {KEY_ENV} (or the OS keyring); anyone holding it can open the vault, "
            "and without it the vault cannot be opened",
            markup=False,
        )

    @secrets_app.command("rekey")
    def rekey() -> None:
        """Re-seal the vault with a new key (from RPA_VAULT_NEW_KEY or a hidden prompt)."""
        vault = _vault()
        if not vault.exists():
            raise CliError(f"there is no vault at {vault.path}")
        text = os.environ.get(NEW_KEY_ENV) or getpass.getpass("new vault key or passphrase (not shown): ")
        count = vault.rekey(VaultKey.from_text(text, NEW_KEY_ENV))
        _audit("vault_rekeyed", {"vault": str(vault.path), "secrets": count})
        err.print(
            f"{count} secret(s) re-sealed in {vault.path}; from now on set {KEY_ENV} to the new key",
            markup=False,
        )

    app.add_typer(secrets_app, name="secrets")
