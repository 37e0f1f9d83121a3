"""The ``desktop`` service: one X display (real or Xvfb) driven by xdotool, pyautogui, Xlib and xclip.

Each tool gets the display explicitly (xdotool/xclip through their environment, Xlib and
Pillow by name), so the service never rewrites this process's ``DISPLAY``. pyautogui is the
exception: it connects once, when imported, to ``$DISPLAY``; the service sets that (plus an
empty ``XAUTHORITY`` when none exists, which otherwise crashes the import, and
``XDG_SESSION_TYPE=x11``) only around the import and then checks which display pyautogui is
bound to. Chinese text is typed with ``xdotool type`` (``pyautogui.write`` drops it).

Settings (the ``desktop`` key of the mapping handed to the factory)::

    desktop:
      display: ":99"          # default: $DISPLAY
      type_delay_ms: 12       # xdotool delay between typed characters
      pause_seconds: 0.02     # pyautogui.PAUSE after each key or click
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skills import BusinessError, ResourceUnavailable, TechnicalError, service

if TYPE_CHECKING:
    from PIL import Image

REQUIRED_PROGRAMS = ("xdotool", "xclip")
# xdotool/X keysym spellings people write, mapped to pyautogui's key names.
KEY_ALIASES = {
    "slash": "/",
    "backslash": "\\",
    "minus": "-",
    "plus": "+",
    "control": "ctrl",
    "escape": "esc",
    "page_up": "pageup",
    "page_down": "pagedown",
    "super": "win",
}


@dataclass(frozen=True)
class Window:
    """A top-level window found by title, with its geometry in screen pixels."""

    window_id: str
    title: str
    x: int
    y: int
    width: int
    height: int

    def point(self, dx: int, dy: int) -> tuple[int, int]:
        """The screen point at ``(dx, dy)`` inside the window."""
        return self.x + dx, self.y + dy


class Desktop:
    """Drives one X display; see the module docstring. Use through ``ctx.service("desktop")``."""

    def __init__(self, display: str, *, type_delay_ms: int = 12, pause_seconds: float = 0.02) -> None:
        self.display = display
        self.type_delay_ms = type_delay_ms
        self.pause_seconds = pause_seconds
        self._lock = threading.RLock()
        self._xauthority_dir: str | None = None
        self._xauthority = self._find_xauthority()
        self._x: Any = None  # python-xlib Display, opened by check_alive
        self._pyautogui: Any = None

    # -- set-up -----------------------------------------------------------------------------

    def _find_xauthority(self) -> str:
        configured = os.environ.get("XAUTHORITY")
        if configured and Path(configured).is_file():
            return configured
        home = Path.home() / ".Xauthority"
        if home.is_file():
            return str(home)
        # Xvfb without -auth needs no cookie, but python-xlib refuses to connect without a file.
        self._xauthority_dir = tempfile.mkdtemp(prefix="rpa-xauth-")
        placeholder = Path(self._xauthority_dir) / "Xauthority"
        write_placeholder_xauthority(placeholder)
        return str(placeholder)

    @property
    def env(self) -> dict[str, str]:
        """The environment for X programs run against this display."""
        return {
            **os.environ,
            "DISPLAY": self.display,
            "XAUTHORITY": self._xauthority,
            "XDG_SESSION_TYPE": "x11",
        }

    @contextlib.contextmanager
    def _x_environment(self) -> Iterator[None]:
        """Point ``os.environ`` at this display for a library that reads it, then restore it."""
        keys = ("DISPLAY", "XAUTHORITY", "XDG_SESSION_TYPE")
        saved = {key: os.environ.get(key) for key in keys}
        os.environ.update({key: self.env[key] for key in keys})
        try:
            # python-xlib prints an xauth warning on stdout, which may carry machine-readable output
            with contextlib.redirect_stdout(sys.stderr):
                yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def check_alive(self) -> None:
        """Pre-flight: the programs exist and the display answers (else ``ResourceUnavailable``)."""
        missing = [name for name in REQUIRED_PROGRAMS if shutil.which(name) is None]
        if missing:
            raise ResourceUnavailable(
                f"desktop automation needs {', '.join(missing)} on PATH (Debian packages xdotool, xclip)"
            )
        with self._lock:
            if self._x is not None:
                try:
                    self._x.sync()
                    return
                except Exception:  # the X server went away: reconnect below
                    self._x = None
            from Xlib import display as xdisplay
            from Xlib import error as xerror

            try:
                with self._x_environment():
                    self._x = xdisplay.Display(self.display)
            except (xerror.DisplayError, xerror.ConnectionClosedError, OSError) as exc:
                raise ResourceUnavailable(
                    f"the X display {self.display} does not answer ({exc}); start Xvfb or set desktop.display"
                ) from exc

    @property
    def pyautogui(self) -> Any:
        """pyautogui, imported against this display (see the module docstring)."""
        with self._lock:
            if self._pyautogui is None:
                self.check_alive()
                with self._x_environment():
                    import pyautogui
                bound = pyautogui._pyautogui_x11._display.get_display_name()
                if bound != self.display:
                    raise ResourceUnavailable(
                        f"pyautogui in this process is bound to display {bound} (it connects once, at "
                        f"import) and cannot drive {self.display}; run one desktop per process"
                    )
                pyautogui.FAILSAFE = False  # a corner of a virtual screen is not an emergency stop
                pyautogui.PAUSE = self.pause_seconds
                self._pyautogui = pyautogui
            return self._pyautogui

    # -- programs ---------------------------------------------------------------------------

    def run(self, *args: str, timeout: float = 10.0, input_text: str | None = None) -> str:
        """Run an X program against this display; a failure is a ``TechnicalError``."""
        try:
            done = subprocess.run(
                list(args), env=self.env, capture_output=True, text=True, timeout=timeout, input=input_text
            )
        except subprocess.TimeoutExpired as exc:
            raise TechnicalError(f"{args[0]} did not finish within {timeout:.0f}s on {self.display}") from exc
        if done.returncode != 0:
            raise TechnicalError(
                f"{' '.join(args[:3])} failed on {self.display}: {done.stderr.strip() or done.returncode}"
            )
        return done.stdout

    # -- windows ----------------------------------------------------------------------------

    def find_windows(self, title: str) -> list[Window]:
        """Visible windows whose title matches ``title`` (a regular expression, as xdotool takes it)."""
        done = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", title],
            env=self.env, capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        windows = []
        for window_id in done.stdout.split():
            with contextlib.suppress(TechnicalError):
                windows.append(self.window(window_id))
        return windows

    def window(self, window_id: str) -> Window:
        """Geometry and title of a window."""
        shell = self.run("xdotool", "getwindowgeometry", "--shell", window_id)
        values = dict(line.split("=", 1) for line in shell.split() if "=" in line)
        name = self.run("xdotool", "getwindowname", window_id).strip()
        return Window(
            window_id, name, int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])
        )

    def wait_for_window(self, title: str, timeout: float) -> Window:
        """The first visible window matching ``title``, waiting up to ``timeout`` seconds."""
        self.check_alive()
        deadline = time.monotonic() + timeout
        while True:
            windows = self.find_windows(title)
            if windows:
                return windows[0]
            if time.monotonic() >= deadline:
                raise TechnicalError(
                    f"no visible window titled like {title!r} on {self.display} after {timeout:g}s "
                    f"(visible: {self.visible_titles() or 'none'})"
                )
            time.sleep(0.1)

    def visible_titles(self) -> str:
        done = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "."],
            env=self.env, capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        titles = []
        for window_id in done.stdout.split()[:10]:
            with contextlib.suppress(TechnicalError):
                if name := self.run("xdotool", "getwindowname", window_id).strip():
                    titles.append(repr(name))
        return ", ".join(titles)

    def focus(self, window: Window) -> None:
        """Raise the window, give it the keyboard focus and rest the pointer on its corner.

        Bare Xvfb has no window manager, and Tk drops its keyboard focus when the pointer
        leaves its window, so the pointer has to stay inside the window that is typed into.
        """
        self.run("xdotool", "windowraise", window.window_id)
        self.run("xdotool", "windowfocus", "--sync", window.window_id)
        self.rest_pointer(window)

    # -- keyboard and mouse -----------------------------------------------------------------

    def type_text(self, text: str) -> None:
        """Type ``text`` into the focused widget, Chinese included (xdotool sends Unicode keysyms).

        The text goes through xdotool's stdin, never its command line, where any local user could
        read a password in the process list.
        """
        delay = str(self.type_delay_ms)
        self.run(
            "xdotool", "type", "--delay", delay, "--file", "-", input_text=text, timeout=30 + len(text) * 0.1
        )

    def paste_text(self, text: str) -> None:
        """Put ``text`` on the clipboard and press ctrl+v (for long texts or widgets that drop keys)."""
        self._serve_clipboard(text)
        self.press("ctrl+v")

    def press(self, keys: str) -> None:
        """Press a key (``tab``) or a chord (``ctrl+a``), pyautogui key names."""
        gui = self.pyautogui
        names = [part.strip().lower() for part in keys.split("+")] if keys != "+" else ["+"]
        names = [KEY_ALIASES.get(name, name) for name in names]
        unknown = [name for name in names if name not in gui.KEYBOARD_KEYS]
        if unknown:
            raise BusinessError(
                f"unknown key {unknown[0]!r} in {keys!r}; use pyautogui key names such as tab, enter, "
                "esc, f5, ctrl+a, shift+tab",
                code="unknown_key",
            )
        if len(names) == 1:
            gui.press(names[0])
        else:
            gui.hotkey(*names)

    def click(self, x: int, y: int, *, clicks: int = 1, button: str = "left") -> None:
        """Click at a screen point (the pointer stays there)."""
        self.pyautogui.click(x=x, y=y, clicks=clicks, interval=0.05, button=button)

    def rest_pointer(self, window: Window | None) -> None:
        """Move the pointer off the widgets (hovering repaints them): to the window's top-left
        corner, which keeps the window's keyboard focus, or to the screen's bottom-right one.
        """
        if window is not None:
            self.pyautogui.moveTo(window.x + 1, window.y + 1)
        else:
            width, height = self.pyautogui.size()
            self.pyautogui.moveTo(width - 1, height - 1)

    # -- screen and clipboard ---------------------------------------------------------------

    def screenshot(self, region: Sequence[int] | None = None) -> Image.Image:
        """The screen (or ``region`` = x, y, width, height) as an RGB Pillow image."""
        from PIL import ImageGrab

        self.check_alive()
        bbox = None
        if region is not None:
            x, y, width, height = (int(v) for v in region)
            bbox = (x, y, x + width, y + height)
        try:
            return ImageGrab.grab(bbox=bbox, xdisplay=self.display).convert("RGB")
        except OSError as exc:
            raise TechnicalError(f"capturing the screen of {self.display} failed: {exc}") from exc

    def clear_selection(self, selection: str = "CLIPBOARD") -> None:
        """Make ``selection`` ownerless, so a copy that silently failed is noticed (nothing to read)."""
        from Xlib import X
        from Xlib.protocol import request

        self.check_alive()
        with self._lock:
            atom = self._x.intern_atom(selection)
            request.SetSelectionOwner(
                display=self._x.display, window=X.NONE, selection=atom, time=X.CurrentTime
            )
            self._x.sync()

    def read_selection(self, selection: str = "clipboard") -> str | None:
        """The text of an X selection (``clipboard`` or ``primary``), ``None`` when it has none."""
        done = subprocess.run(
            ["xclip", "-o", "-selection", selection],
            env=self.env, capture_output=True, timeout=10,
        )  # fmt: skip
        if done.returncode != 0:
            return None
        return done.stdout.decode("utf-8", errors="replace")

    def _serve_clipboard(self, text: str) -> None:
        # xclip forks and serves the selection until another program takes it over.
        self.run("xclip", "-selection", "clipboard", "-i", input_text=text)

    def close(self) -> None:
        """Drop the X connection and the temporary Xauthority file."""
        with self._lock:
            if self._x is not None:
                with contextlib.suppress(Exception):
                    self._x.close()
                self._x = None
        if self._xauthority_dir is not None:
            shutil.rmtree(self._xauthority_dir, ignore_errors=True)
            self._xauthority_dir = None


@service("desktop")
def desktop_service(settings: Mapping[str, Any]) -> Desktop:
    """The per-process desktop (checked on first use, so a machine without a display can validate)."""
    section = dict(settings.get("desktop") or {})
    display = section.get("display") or os.environ.get("DISPLAY")
    if not display:
        raise ResourceUnavailable("no X display: set desktop.display in the settings or DISPLAY (e.g. :99)")
    return Desktop(
        str(display),
        type_delay_ms=int(section.get("type_delay_ms", 12)),
        pause_seconds=float(section.get("pause_seconds", 0.02)),
    )


def write_placeholder_xauthority(path: Path) -> Path:
    """An Xauthority file with one entry for no display in use.

    An X server started without access control (Xvfb here) needs no cookie, but python-xlib
    refuses to connect without an Xauthority file and prints a warning on stdout when the file
    has no entry at all; one entry for an unused display keeps it quiet.
    """

    def counted(value: bytes) -> bytes:
        return len(value).to_bytes(2, "big") + value

    family_local = (256).to_bytes(2, "big")
    entry = family_local + counted(b"rpa-placeholder") + counted(b"65535") + counted(b"MIT-MAGIC-COOKIE-1")
    entry += counted(bytes(16))
    path.write_bytes(entry)
    return path
