"""Start an example platform in a subprocess, wait until it is ready, and stop it afterwards.

Usage::

    from examples.platforms.launch import run_platform

    with run_platform("portal", data_dir=tmp_path, reject_duplicates=True) as portal:
        httpx.get(f"{portal.base_url}/health")
    # the process is stopped here, whatever happened inside the block

Web platforms (``portal``, ``reporting``, ``ledger``) are served by uvicorn. Without a ``port``
the launcher binds a free port itself and hands the listening socket to the child, so no other
process can take the port in between. The desktop platform (``terminal``) needs an X display:
pass ``display=":N"`` or set ``DISPLAY``. Options are the fields of the platform's settings model
and are checked before anything is started. Each child asks the kernel to terminate it when the
launching thread dies, so even a killed test run leaves no platform behind.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
from pydantic import BaseModel

from examples.platforms.common.settings import SettingsError, build_settings
from examples.platforms.ledger import STORE_FILENAME as LEDGER_STORE
from examples.platforms.ledger.settings import LedgerSettings
from examples.platforms.portal import STORE_FILENAME as PORTAL_STORE
from examples.platforms.portal.settings import PortalSettings
from examples.platforms.reporting import STORE_FILENAME as REPORTING_STORE
from examples.platforms.reporting.settings import ReportingSettings
from examples.platforms.terminal import READY_FILENAME
from examples.platforms.terminal import STORE_FILENAME as TERMINAL_STORE
from examples.platforms.terminal.settings import TerminalSettings

LOG_TAIL_CHARS = 3000
_PR_SET_PDEATHSIG = 1


class PlatformStartError(RuntimeError):
    """The platform process exited or did not become ready in time (the message has its log tail)."""


@dataclass(frozen=True)
class PlatformSpec:
    """How to start one platform."""

    name: str
    module: str
    kind: Literal["web", "desktop"]
    settings_model: type[BaseModel]
    store_filename: str


PLATFORMS: dict[str, PlatformSpec] = {
    spec.name: spec
    for spec in (
        PlatformSpec("portal", "examples.platforms.portal", "web", PortalSettings, PORTAL_STORE),
        PlatformSpec("reporting", "examples.platforms.reporting", "web", ReportingSettings, REPORTING_STORE),
        PlatformSpec("ledger", "examples.platforms.ledger", "web", LedgerSettings, LEDGER_STORE),
        PlatformSpec("terminal", "examples.platforms.terminal", "desktop", TerminalSettings, TERMINAL_STORE),
    )
}


@dataclass(frozen=True)
class PlatformHandle:
    """A running platform.

    Attributes:
        name: the platform name (``portal``, ``reporting``, ``ledger``, ``terminal``).
        base_url: ``http://127.0.0.1:PORT`` for web platforms, ``None`` for the terminal.
        data_dir: the folder holding the store and the log.
        store_path: the platform's SQLite file.
        process: the child process.
        log_path: the child's stdout and stderr (appended to across runs).
        log_start: where this run's output starts in ``log_path``.
        display: the X display the terminal runs on (``None`` for web platforms).
        window_id: the X window id of the terminal's main window (``None`` for web platforms).
    """

    name: str
    base_url: str | None
    data_dir: Path
    store_path: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    log_start: int = 0
    display: str | None = None
    window_id: int | None = None


@contextmanager
def run_platform(
    name: str,
    *,
    port: int | None = None,
    data_dir: Path,
    ready_timeout: float = 30.0,
    **options: object,
) -> Iterator[PlatformHandle]:
    """Run platform ``name`` in a subprocess for the duration of the ``with`` block.

    Args:
        name: ``portal``, ``reporting``, ``ledger`` or ``terminal``.
        port: TCP port for a web platform; a free one when ``None``.
        data_dir: folder for the store and the log (created if missing).
        ready_timeout: seconds to wait for the health check (or the terminal's window).
        **options: settings of the platform (e.g. ``reject_duplicates=True``, ``slow_ms=200``);
            for the terminal also ``display=":N"``.

    Yields:
        The running platform.

    Raises:
        ValueError: unknown platform name or invalid options (nothing was started).
        PlatformStartError: the process died or did not become ready; it has been stopped.
    """
    spec = PLATFORMS.get(name)
    if spec is None:
        raise ValueError(f"unknown platform {name!r}; expected one of {', '.join(sorted(PLATFORMS))}")
    display = options.pop("display", None) if spec.kind == "desktop" else None
    try:
        settings = build_settings(spec.settings_model, options)
    except SettingsError as exc:
        raise ValueError(f"invalid options for platform {name!r}: {exc}") from None
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", spec.module, "--data-dir", str(data_dir),
        "--settings-json", settings.model_dump_json(exclude_unset=True),
    ]  # fmt: skip
    environment = dict(os.environ, PYTHONUNBUFFERED="1")
    listening: socket.socket | None = None
    if spec.kind == "web":
        if port is None:
            listening = _listen_on_free_port()
            port = listening.getsockname()[1]
            command += ["--fd", str(listening.fileno())]
        else:
            command += ["--port", str(port)]
    else:
        display = str(display or os.environ.get("DISPLAY") or "")
        if not display:
            raise ValueError("the terminal needs an X display: pass display=':N' or set DISPLAY")
        environment["DISPLAY"] = display
        (data_dir / READY_FILENAME).unlink(missing_ok=True)

    log_path = data_dir / f"{name}.log"
    log_start = log_path.stat().st_size if log_path.exists() else 0
    try:
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                pass_fds=(listening.fileno(),) if listening else (),
                preexec_fn=_terminate_with_parent,
            )
    finally:
        if listening is not None:
            listening.close()  # the child holds its own copy
    try:
        handle = PlatformHandle(
            name=name,
            base_url=f"http://127.0.0.1:{port}" if spec.kind == "web" else None,
            data_dir=data_dir,
            store_path=data_dir / spec.store_filename,
            process=process,
            log_path=log_path,
            log_start=log_start,
            display=display,
        )
        if spec.kind == "web":
            _wait_for_health(handle, ready_timeout)
        else:
            handle = _wait_for_window(handle, ready_timeout)
        yield handle
    finally:
        _stop(process)


def _listen_on_free_port() -> socket.socket:
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", 0))
    listening.listen(128)
    listening.set_inheritable(True)
    return listening


def _terminate_with_parent() -> None:
    """In the child: ask Linux to send SIGTERM when the launching thread dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_for_health(handle: PlatformHandle, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_problem = "no answer yet"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            _check_alive(handle)
            try:
                response = client.get(f"{handle.base_url}/health")
                if response.status_code == 200 and response.json().get("pid") == handle.process.pid:
                    return
                last_problem = f"/health answered {response.status_code} {response.text[:200]!r}"
            except httpx.TransportError as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
            time.sleep(0.05)
    raise PlatformStartError(
        f"{handle.name} was not healthy at {handle.base_url} after {timeout:.0f}s ({last_problem})"
        f"{_log_tail(handle)}"
    )


def _wait_for_window(handle: PlatformHandle, timeout: float) -> PlatformHandle:
    ready_file = handle.data_dir / READY_FILENAME
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _check_alive(handle)
        try:
            ready = json.loads(ready_file.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):  # not written yet, or half written
            time.sleep(0.05)
            continue
        if ready.get("pid") == handle.process.pid:
            return PlatformHandle(**{**handle.__dict__, "window_id": int(ready["window_id"])})
        time.sleep(0.05)
    raise PlatformStartError(
        f"{handle.name} showed no window on display {handle.display} after {timeout:.0f}s{_log_tail(handle)}"
    )


def _check_alive(handle: PlatformHandle) -> None:
    code = handle.process.poll()
    if code is not None:
        raise PlatformStartError(f"{handle.name} exited with code {code} while starting{_log_tail(handle)}")


def _log_tail(handle: PlatformHandle) -> str:
    try:
        with handle.log_path.open("rb") as log:
            log.seek(handle.log_start)
            text = log.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return f"\n--- output of this run ({handle.log_path}) ---\n{text[-LOG_TAIL_CHARS:]}"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
