"""A private Xvfb display for the clearing terminal (headless throughout)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

X_LOCKS = Path("/tmp")  # noqa: S108 - where the X server keeps its lock files (not a temp file of ours)  # nosec B108
X_SOCKETS = Path("/tmp/.X11-unix")  # noqa: S108 - the X server's socket folder  # nosec B108


def _free_display() -> int:
    for number in range(90, 400):
        if not (X_LOCKS / f".X{number}-lock").exists() and not (X_SOCKETS / f"X{number}").exists():
            return number
    raise RuntimeError("no free X display number between :90 and :399")


@contextlib.contextmanager
def virtual_display(size: str = "1280x800x24") -> Iterator[str]:
    """Start Xvfb on a free display; yields ``":N"``; stops it afterwards (output to /dev/null).

    With ``RPA_DISPLAY`` set (a display already running, e.g. the test session's), that display
    is used instead: a process can drive only one display (pyautogui binds at import).
    """
    if os.environ.get("RPA_DISPLAY"):
        yield os.environ["RPA_DISPLAY"]
        return
    if shutil.which("Xvfb") is None:
        raise RuntimeError("Xvfb is not installed (apt-get install xvfb); scripts/install installs it")
    number = _free_display()
    process = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", size, "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 15
        while not (X_SOCKETS / f"X{number}").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb :{number} did not start")
            time.sleep(0.05)
        yield f":{number}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def display_env(display: str) -> Iterator[None]:
    """Point this process (and the platforms it starts) at ``display``."""
    saved = {k: os.environ.get(k) for k in ("DISPLAY", "XDG_SESSION_TYPE", "XAUTHORITY")}
    os.environ["DISPLAY"] = display
    os.environ["XDG_SESSION_TYPE"] = "x11"
    if not saved["XAUTHORITY"]:
        # Xvfb runs without access control; an empty authority file keeps python-xlib quiet
        from skills.do.desktop.display import write_placeholder_xauthority

        handle, authority = tempfile.mkstemp(prefix="rpa-demo-xauth-")
        os.close(handle)
        os.environ["XAUTHORITY"] = str(write_placeholder_xauthority(Path(authority)))
    try:
        yield
    finally:
        if not saved["XAUTHORITY"]:
            Path(os.environ["XAUTHORITY"]).unlink(missing_ok=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
