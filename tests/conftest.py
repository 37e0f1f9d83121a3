"""Shared fixtures: stores on every backend, PostgreSQL discovery, subprocess helpers."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from examples.shared_data import shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = shared_data_dir()
PG_URL = os.environ.get("RPA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session", autouse=True)
def _x_display() -> Iterator[str | None]:
    """One X display (Xvfb 1280x800x24) for the whole test session.

    pyautogui binds a process to one display when it is imported, so every test that drives a
    desktop, in-process or in the processes it starts (``DISPLAY``, and ``RPA_DISPLAY`` for
    ``rpa demo`` and the scenario runners), shares this one.
    """
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        yield None
        return
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    saved = {k: os.environ.get(k) for k in ("DISPLAY", "RPA_DISPLAY", "XDG_SESSION_TYPE", "XAUTHORITY")}
    authority = None
    try:
        with os.fdopen(read_end, "rb") as announcement:
            number = announcement.readline().strip().decode()  # written when the server is ready
        if not number:
            yield None
            return
        display = f":{number}"
        os.environ.update({"DISPLAY": display, "RPA_DISPLAY": display, "XDG_SESSION_TYPE": "x11"})
        if not saved["XAUTHORITY"]:  # Xvfb runs without access control; python-xlib wants a file anyway
            from skills.do.desktop.display import write_placeholder_xauthority

            handle, authority = tempfile.mkstemp(prefix="rpa-tests-xauth-")
            os.close(handle)
            os.environ["XAUTHORITY"] = str(write_placeholder_xauthority(Path(authority)))
        yield display
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if authority:
            Path(authority).unlink(missing_ok=True)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def xvfb_display(_x_display: str | None) -> str:
    """The session's X display, with the desktop tools the tests drive it with."""
    if _x_display is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb), so no X display can be started")
    for tool, package in (("xdotool", "xdotool"), ("xclip", "xclip"), ("xdpyinfo", "x11-utils")):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is missing (apt-get install {package})")
    return _x_display


@cache
def postgres_unavailable() -> str | None:
    """None when the test PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(PG_URL)
        with psycopg.connect(
            host=url.host, port=url.port or 5432, dbname=url.database, user=url.username, connect_timeout=3
        ) as conn:
            conn.execute("select 1")
    except Exception as exc:
        return f"PostgreSQL at {PG_URL} is not reachable ({type(exc).__name__}: {exc})"
    return None


@contextlib.contextmanager
def fresh_pg_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new schema, dropped on leaving (skips if no server)."""
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    import psycopg
    from sqlalchemy.engine import make_url

    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = make_url(PG_URL)
    params = {"host": url.host, "port": url.port or 5432, "dbname": url.database, "user": url.username}
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    with fresh_pg_schema() as url:
        yield url


@pytest.fixture
def second_pg_url() -> Iterator[str]:
    """Another fresh schema of the same database, for two stores side by side."""
    with fresh_pg_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store on each backend (the contract suite runs on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rpa.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url: str) -> Iterator[object]:
    from orchestrator.store import open_store

    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[object]:
    from orchestrator.store import open_store

    opened = open_store(f"sqlite:///{tmp_path / 'rpa.db'}")
    yield opened
    opened.close()


RPA = str(Path(sys.executable).parent / "rpa")


def _run_rpa(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    # hermetic secrets: only what the test gives (a session fixture may have set others)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("RPA_SECRET_")}
    full_env = {**inherited, **(env or {})}
    return subprocess.run(
        [RPA, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def run_rpa() -> object:
    """``run_rpa(*args, cwd=..., env=...)`` runs the real ``rpa`` console script in a subprocess."""
    return _run_rpa


@pytest.fixture(scope="session")
def probe_plugin_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """pip-installs the test plugin package (tests/plugins/rpa_probe) into a folder for PYTHONPATH."""
    import shutil

    target = tmp_path_factory.mktemp("plugin-site")
    source = tmp_path_factory.mktemp("plugin-src") / "rpa_probe"
    shutil.copytree(ROOT / "tests" / "plugins" / "rpa_probe", source)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
    ]
    result = subprocess.run(
        [*command, "--target", str(target), str(source)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return str(target)
