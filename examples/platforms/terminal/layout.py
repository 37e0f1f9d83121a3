"""Fixed screen geometry of the terminal, so desktop automation can rely on positions.

The window is 900x650 at +0+0 and not resizable. Boxes are in pixels relative to the window's
inside; on a display without a window manager (bare Xvfb) that is the screen itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from examples.platforms.terminal.rules import FIELD_LABELS

WINDOW_WIDTH = 900
WINDOW_HEIGHT = 650
WINDOW_GEOMETRY = f"{WINDOW_WIDTH}x{WINDOW_HEIGHT}+0+0"

LABEL_FONT_PX = 20
ENTRY_FONT_PX = 22
TITLE_FONT_PX = 24
FONT_FAMILIES = ("Noto Sans CJK SC", "WenQuanYi Zen Hei", "Noto Sans Mono CJK SC")
"""Preferred font families, first available wins (a CJK font is needed, or Chinese shows as boxes)."""


@dataclass(frozen=True)
class Box:
    """A widget's rectangle."""

    x: int
    y: int
    width: int
    height: int

    @property
    def center(self) -> tuple[int, int]:
        """The point to click."""
        return self.x + self.width // 2, self.y + self.height // 2


TITLE = Box(0, 0, WINDOW_WIDTH, 50)
STATUS = Box(40, 540, 820, 44)
"""Status line (read-only entry), on both screens."""

LOGIN_LABELS = {"username": Box(180, 180, 160, 44), "password": Box(180, 240, 160, 44)}
LOGIN_ENTRIES = {"username": Box(350, 180, 360, 44), "password": Box(350, 240, 360, 44)}
LOGIN_BUTTON = Box(350, 310, 160, 48)

_ROW_TOP = 66
_ROW_STEP = 52
ENTRY_LABELS = {name: Box(40, _ROW_TOP + row * _ROW_STEP, 200, 44) for row, name in enumerate(FIELD_LABELS)}
ENTRY_FIELDS = {name: Box(250, _ROW_TOP + row * _ROW_STEP, 610, 44) for row, name in enumerate(FIELD_LABELS)}
SUBMIT_BUTTON = Box(250, 484, 150, 44)
LOOKUP_BUTTON = Box(420, 484, 150, 44)
LOOKUP_RESULT = Box(40, 594, 820, 44)
"""Lookup result line (read-only entry), on the payment entry screen."""
