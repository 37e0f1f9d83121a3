"""The encrypted secrets vault: sealing, wrong keys, tampering, the CLI, and a run that leaves no trace.

The end-to-end test stores a token in the vault with ``rpa secrets set``, runs a workflow whose
``do.http_post`` sends it to a local server as an ``Authorization`` header (the server records
the real value, so the skill did see it, and echoes it back in its answer), then searches every
artefact of the run for the token: the SQLite file and its WAL, evidence files, the debug log,
``rpa show --json``, ``rpa audit list --json`` and ``rpa runs --json``.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestrator.bootstrap import exposed_env
from orchestrator.store import open_store
from orchestrator.vault import (
    VaultError,
    VaultFile,
    VaultKey,
    VaultSecretSource,
    generate_key,
    key_from_environment,
    vault_source_for,
)

TOKEN = "tok-7f3a9c2e-PORTAL-bearer"


def _vault(tmp_path: Path, key: str | None = None) -> VaultFile:
    text = key or generate_key()
    return VaultFile(tmp_path / "vault.json.enc", VaultKey.from_text(text, "RPA_VAULT_KEY"))


def test_secrets_round_trip_and_nothing_readable_is_on_disk(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    assert vault.set("portal_token", TOKEN) is False
    assert vault.set("PORTAL_TOKEN", TOKEN + "-2") is True  # names are case-insensitive, stored upper
    vault.set("ledger_password", "l3dger-pw-0001")
    assert vault.read() == {"PORTAL_TOKEN": TOKEN + "-2", "LEDGER_PASSWORD": "l3dger-pw-0001"}

    raw = vault.path.read_bytes()
    for plain in (TOKEN.encode(), b"PORTAL_TOKEN", b"LEDGER", b"l3dger"):
        assert plain not in raw
    assert stat.S_IMODE(vault.path.stat().st_mode) == 0o600
    assert "material" not in repr(vault.key)
    assert TOKEN not in repr(VaultSecretSource(vault))


def test_a_passphrase_works_and_is_stretched_per_file(tmp_path: Path) -> None:
    vault = _vault(tmp_path, key="correct horse battery staple")
    vault.set("A", "value-a")
    envelope = json.loads(vault.path.read_text(encoding="utf-8"))
    assert envelope["kdf"] == "scrypt"
    assert len(base64.b64decode(envelope["salt"])) == 16
    assert _vault(tmp_path, key="correct horse battery staple").read() == {"A": "value-a"}
    with pytest.raises(VaultError, match="wrong key in RPA_VAULT_KEY, or the file was altered"):
        _vault(tmp_path, key="correct horse battery stapler").read()


def test_a_wrong_key_is_a_clear_error(tmp_path: Path) -> None:
    _vault(tmp_path).set("A", "value-a")
    with pytest.raises(VaultError) as caught:
        _vault(tmp_path).read()
    assert "cannot open the vault file" in str(caught.value)
    assert "wrong key in RPA_VAULT_KEY" in str(caught.value)
    with pytest.raises(VaultError, match="sealed with a generated key, but RPA_VAULT_KEY holds a passphrase"):
        _vault(tmp_path, key="a passphrase of some length").read()
    with pytest.raises(VaultError, match="too short"):
        VaultKey.from_text("short", "RPA_VAULT_KEY")
    with pytest.raises(VaultError, match="not a key made by rpa secrets keygen"):
        VaultKey.from_text("rpavk_tooshort", "RPA_VAULT_KEY")
    with pytest.raises(VaultError, match="no vault key"):
        VaultFile(tmp_path / "vault.json.enc", None).read()


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "salt", "kdf", "version", "format"])
def test_any_change_to_the_file_is_detected(tmp_path: Path, field: str) -> None:
    key = generate_key()
    _vault(tmp_path, key).set("A", "value-a")
    path = tmp_path / "vault.json.enc"
    envelope = json.loads(path.read_text(encoding="utf-8"))
    if field in ("ciphertext", "nonce", "salt"):
        data = bytearray(base64.b64decode(envelope[field]))
        data[0] ^= 1
        envelope[field] = base64.b64encode(bytes(data)).decode()
    elif field == "kdf":
        envelope["kdf"] = "scrypt"
    elif field == "version":
        envelope["version"] = 2
    else:
        envelope["format"] = "other"
    path.write_text(json.dumps(envelope), encoding="utf-8")
    with pytest.raises(VaultError):
        _vault(tmp_path, key).read()


def test_the_secret_source_follows_changes_and_rejects_odd_names(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.set("A", "one-1")
    source = VaultSecretSource(vault)
    assert source.get("a") == "one-1"
    vault.set("A", "two-2")
    assert source.get("A") == "two-2"
    assert source.names() == ["A"]
    assert source.get("../A") is None
    assert source.get("__class__") is None
    with pytest.raises(VaultError, match="not allowed"):
        vault.set("A-B", "x")
    with pytest.raises(VaultError, match="cannot be empty"):
        vault.set("B", "")


def test_vault_source_for_settings(tmp_path: Path) -> None:
    key = generate_key()
    settings = SimpleNamespace(home=tmp_path, vault_file=None)
    assert vault_source_for(settings, {"RPA_VAULT_KEY": key}) is None  # no vault yet
    _vault(tmp_path, key).set("A", "value-a")
    settings.vault_file = tmp_path / "vault.json.enc"
    source = vault_source_for(settings, {"RPA_VAULT_KEY": key})
    assert source is not None
    assert source.get("A") == "value-a"
    with pytest.raises(VaultError, match="wrong key"):  # checked at once, before any run starts
        vault_source_for(settings, {"RPA_VAULT_KEY": generate_key()})
    keyless = vault_source_for(settings, {})  # the dashboard host may have no key: fail on use only
    assert keyless is not None
    with pytest.raises(VaultError, match="no vault key"):
        keyless.get("A")
    settings.vault_file = tmp_path / "missing.enc"
    with pytest.raises(VaultError, match="does not exist"):
        vault_source_for(settings, {"RPA_VAULT_KEY": key})
    assert key_from_environment({}, use_keyring=False) is None


def test_workflows_cannot_reach_keys_or_secrets_through_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RPA_VAULT_KEY", "rpavk_x")
    monkeypatch.setenv("RPA_AUDIT_KEY", "audit-key")
    monkeypatch.setenv("RPA_SECRET_PORTAL_TOKEN", TOKEN)
    monkeypatch.setenv("RPA_ENV_REGION", "cn-north")
    assert exposed_env() == {"REGION": "cn-north"}


def test_cli_never_takes_a_value_from_argv_and_never_prints_one(tmp_path: Path, run_rpa) -> None:
    env = {"RPA_VAULT_KEY": generate_key()}
    refused = run_rpa("secrets", "set", "PORTAL_TOKEN", TOKEN, cwd=tmp_path, env=env)
    assert refused.returncode == 2
    assert "never takes the value on the command line" in refused.stderr
    assert TOKEN not in refused.stdout + refused.stderr
    assert not (tmp_path / ".rpa" / "vault.json.enc").exists()

    stored = _set_secret(run_rpa, tmp_path, env, "portal_token", TOKEN)
    assert "secret PORTAL_TOKEN stored in the vault" in stored.stderr
    listed = run_rpa("secrets", "list", "--json", cwd=tmp_path, env={**env, "RPA_SECRET_OTHER": "o-t-h-e-r"})
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["secrets"] == [
        {"name": "OTHER", "source": "environment"},
        {"name": "PORTAL_TOKEN", "source": "vault"},
    ]
    assert TOKEN not in listed.stdout + listed.stderr
    assert "o-t-h-e-r" not in listed.stdout + listed.stderr

    wrong = run_rpa("secrets", "list", cwd=tmp_path, env={"RPA_VAULT_KEY": generate_key()})
    assert wrong.returncode == 2
    assert "cannot open the vault file" in wrong.stderr
    assert "Traceback" not in wrong.stderr

    removed = run_rpa("secrets", "remove", "PORTAL_TOKEN", cwd=tmp_path, env=env)
    assert removed.returncode == 0, removed.stderr
    store = open_store(f"sqlite:///{tmp_path / '.rpa' / 'rpa.db'}")
    try:
        changes = [(e.kind, e.payload["name"]) for e in store.audit_events() if e.kind.startswith("secret_")]
    finally:
        store.close()
    assert changes == [("secret_set", "PORTAL_TOKEN"), ("secret_removed", "PORTAL_TOKEN")]  # names, no values
    assert (
        VaultFile(tmp_path / ".rpa" / "vault.json.enc", VaultKey.from_text(env["RPA_VAULT_KEY"], "k")).read()
        == {}
    )


def _set_secret(run_rpa, cwd: Path, env: dict[str, str], name: str, value: str):
    rpa = str(Path(sys.executable).parent / "rpa")  # the console script run_rpa uses
    result = subprocess.run(
        [rpa, "secrets", "set", name],
        input=value + "\n",
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_a_vault_secret_reaches_the_skill_and_no_artefact_of_the_run(
    tmp_path: Path, run_rpa, recording_server
) -> None:
    env = {"RPA_VAULT_KEY": generate_key(), "RPA_HOME": str(tmp_path / ".rpa")}
    _set_secret(run_rpa, tmp_path, env, "PORTAL_TOKEN", TOKEN)
    workflow = tmp_path / "post.yaml"
    workflow.write_text(
        textwrap.dedent(f"""
            name: post-with-vault-secret
            steps:
              - id: post
                uses: do.http_post
                with:
                  url: {recording_server.url}/credits
                  headers: {{Authorization: "Bearer ${{{{ secrets.PORTAL_TOKEN }}}}"}}
                  json_body: {{reference: REF-1, note: "token ${{{{ secrets.PORTAL_TOKEN }}}}"}}
              - id: refused
                uses: do.http_post
                with:
                  url: {recording_server.url}/reject
                  headers: {{Authorization: "Bearer ${{{{ secrets.PORTAL_TOKEN }}}}"}}
                  json_body: {{previous: "${{{{ steps.post.json_body.echo }}}}"}}
        """),
        encoding="utf-8",
    )
    log = tmp_path / "run.log"
    result = run_rpa("--log-level", "DEBUG", "run", str(workflow), "--json", cwd=tmp_path, env=env)
    log.write_text(result.stdout + result.stderr, encoding="utf-8")
    assert result.returncode == 3, result.stdout + result.stderr  # parked by the refused POST

    # the skill saw the real value, and the platform's echo of it came back into the run...
    assert [r["headers"].get("Authorization") for r in recording_server.requests] == [f"Bearer {TOKEN}"] * 2
    assert json.loads(recording_server.requests[0]["body"])["note"] == f"token {TOKEN}"
    assert json.loads(recording_server.requests[1]["body"])["previous"] == f"Bearer {TOKEN}"
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "needs_review"
    assert "refused with HTTP 409" in outcome["reason"]  # ...in an error message, masked:
    assert "Bearer ***" in outcome["reason"]

    run_id = json.loads(result.stdout)["run_id"]
    views = [
        run_rpa("show", run_id, "--json", cwd=tmp_path, env=env),
        run_rpa("audit", "list", "--json", cwd=tmp_path, env=env),
        run_rpa("runs", "--json", cwd=tmp_path, env=env),
    ]
    for view in views:
        assert view.returncode == 0, view.stderr
    artefacts = {str(log): log.read_bytes()}
    artefacts |= {f"view {i}": (v.stdout + v.stderr).encode() for i, v in enumerate(views)}
    files = [
        p for p in (tmp_path / ".rpa").rglob("*") if p.is_file() and not p.name.startswith("vault.json.enc")
    ]
    artefacts |= {str(p): p.read_bytes() for p in files}
    assert any(name.endswith("rpa.db") for name in artefacts)
    print(
        f"searched {len(artefacts)} artefacts ({sum(map(len, artefacts.values()))} bytes): {sorted(artefacts)}"
    )
    for name, blob in artefacts.items():
        for needle in (TOKEN.encode(), TOKEN.encode("utf-16-le"), base64.b64encode(TOKEN.encode())):
            assert needle not in blob, f"the secret leaked into {name}"
    assert b"***" in artefacts[str(log)] + b"".join(v.stdout.encode() for v in views)


def test_rekey_reseals_every_secret_and_retires_the_old_key(tmp_path: Path) -> None:
    old_key, new_key = generate_key(), "a new passphrase for the vault"
    vault = _vault(tmp_path, old_key)
    vault.set("A", "value-a")
    vault.set("B", "value-b")
    assert vault.rekey(VaultKey.from_text(new_key, "RPA_VAULT_NEW_KEY")) == 2
    assert _vault(tmp_path, new_key).read() == {"A": "value-a", "B": "value-b"}
    with pytest.raises(VaultError, match="sealed with a passphrase"):
        _vault(tmp_path, old_key).read()
