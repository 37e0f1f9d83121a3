"""``rpa users`` and ``rpa serve`` as people run them: real subprocesses of the ``rpa`` command."""

from __future__ import annotations

import asyncio
import io
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from dash_helpers import client_for, form_token, isolated_app

from orchestrator.cli.users_cmds import SCOPE_HELP
from orchestrator.dashboard.tokens import SCOPES

RPA = str(Path(sys.executable).parent / "rpa")


def rpa(home: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RPA_ADMIN_PASSWORD"}
    return subprocess.run(
        [RPA, "--home", str(home), *args],
        input=None if password is None else password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        cwd=home.parent,
    )


def cli(
    home: Path, *args: str, password: str | None = None, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """The ``rpa`` command in this process (what the console script calls): (exit code, stdout, stderr)."""
    from orchestrator.cli.main import main

    capsys.readouterr()
    stdin = sys.stdin
    sys.stdin = io.StringIO("" if password is None else password + "\n")
    try:
        code = main(["--home", str(home), *args])
    finally:
        sys.stdin = stdin
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_users_are_managed_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / ".rpa"
    added = rpa(home, "users", "add", "Alice", "--role", "operator", password="alice-password-1")
    assert added.returncode == 0, added.stderr
    assert "added alice (operator)" in added.stderr
    assert "alice-password-1" not in added.stdout + added.stderr

    def run(*args: str, password: str | None = None) -> tuple[int, str, str]:
        return cli(home, *args, password=password, capsys=capsys)

    code, _out, err = run("users", "add", "bob", password="short")
    assert (code, err.strip()) == (2, "error: a password needs at least 12 characters (got 5)")
    assert run("users", "add", "bob", "--role", "boss", password="bob-password-123")[0] == 2
    code, _out, err = run("users", "add", "bob", "--password", "bob-password-123")
    assert code != 0  # there is no way to give a password on the command line
    assert "No such option: --password" in err
    assert run("users", "add", "../bob", password="bob-password-123")[0] == 2
    assert run("users", "add", "bob", password="")[0] == 2  # nothing on standard input
    assert run("users", "add", "bob", password="bob-password-123")[0] == 0
    assert run("users", "add", "BOB", password="bob-password-456")[0] == 2  # exists (names ignore case)
    code, out, _err = run("users", "list", "--json")
    assert {u["name"]: u["role"] for u in json.loads(out)} == {"alice": "operator", "bob": "viewer"}
    assert run("users", "role", "bob", "admin")[0] == 0
    assert run("users", "passwd", "alice", password="alice-password-2")[0] == 0
    assert run("users", "unlock", "alice")[0] == 0
    assert run("users", "remove", "alice")[0] == 0
    code, _out, err = run("users", "remove", "bob")
    assert code == 2
    assert "last administrator" in err
    assert run("users", "remove", "nobody")[0] == 2


def test_tokens_are_shown_once_and_work_against_the_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / ".rpa"
    created = rpa(home, "users", "token", "create", "feeder", "--role", "viewer", "--scope", "read")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert re.fullmatch(r"rpat_[A-Za-z0-9_-]{40,}", token)
    assert "shown only this once" in created.stderr
    code, out, _err = cli(home, "users", "token", "list", capsys=capsys)
    assert code == 0
    assert "feeder" in out
    assert token not in out
    assert cli(home, "users", "token", "create", "x", "--scope", "everything", capsys=capsys)[0] == 2
    app, runtime = isolated_app(tmp_path, users=False)
    try:
        client = client_for(app)
        headers = {"authorization": f"Bearer {token}"}
        assert client.get("/api/dashboard/overview", headers=headers).status_code == 200
        assert cli(home, "users", "token", "revoke", "feeder", capsys=capsys)[0] == 0
        assert client.get("/api/dashboard/overview", headers=headers).status_code == 401
    finally:
        asyncio.run(runtime.aclose())
    for scope in SCOPES:
        assert scope in SCOPE_HELP


def _lines(stream: object, sink: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.put(line)


def test_rpa_serve_creates_the_first_administrator_on_first_start(tmp_path: Path) -> None:
    home = tmp_path / ".rpa"
    env = {k: v for k, v in os.environ.items() if k != "RPA_ADMIN_PASSWORD"}
    process = subprocess.Popen(
        [
            RPA,
            "--home",
            str(home),
            "serve",
            "--port",
            "0",
            "--runners",
            "0",
            "--bots",
            str(tmp_path / "no-bots"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stderr, lines), daemon=True).start()
    seen: list[str] = []
    try:
        url = None
        while url is None:
            line = lines.get(timeout=60)
            seen.append(line)
            found = re.search(r"serving (http://\S+)", line)
            url = found.group(1) if found else None
        printed = "".join(seen)
        one_time = re.search(r"administrator 'admin' with the one-time password (\S+)", printed)
        assert one_time, printed
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/api/health").status_code == 200
            assert client.get("/").headers["location"] == "/login?next=%2F"
            page = client.get("/login")
            answer = client.post(
                "/login",
                data={
                    "username": "admin",
                    "password": one_time.group(1),
                    "csrf_token": form_token(page.text),
                    "next": "/",
                },
            )
            assert answer.headers["location"] == "/account/password"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0
