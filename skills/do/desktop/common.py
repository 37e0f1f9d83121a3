"""What every desktop skill shares: getting the desktop, focusing a window, keeping evidence."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator

from pydantic import BaseModel, Field

from skills import SkillContext, SkillError, TechnicalError
from skills.do.desktop.display import Desktop, Window

DESKTOP = {"desktop": 1}  # every desktop skill holds the one display exclusively


class WindowResult(BaseModel):
    window_id: str = Field(description="X window id.")
    title: str = Field(description="The window's title.")
    x: int = Field(description="Left edge in screen pixels.")
    y: int = Field(description="Top edge in screen pixels.")
    width: int = Field(description="Width in pixels.")
    height: int = Field(description="Height in pixels.")

    @classmethod
    def of(cls, window: Window) -> WindowResult:
        return cls(
            window_id=window.window_id,
            title=window.title,
            x=window.x,
            y=window.y,
            width=window.width,
            height=window.height,
        )


def desktop_of(ctx: SkillContext) -> Desktop:
    """The desktop service, checked alive."""
    desktop: Desktop = ctx.service("desktop")
    desktop.check_alive()
    return desktop


def focus_window(desktop: Desktop, title: str, timeout: float) -> Window:
    """Wait for the window titled like ``title`` and give it the keyboard focus."""
    window = desktop.wait_for_window(title, timeout)
    desktop.focus(window)
    return window


@contextlib.contextmanager
def evidence_on_failure(ctx: SkillContext, desktop: Desktop, what: str) -> Iterator[None]:
    """Keep a screenshot when the block fails; anything that is not a ``SkillError`` becomes technical."""
    try:
        yield
    except SkillError as exc:
        _keep_screenshot(ctx, desktop, exc)
        raise
    except Exception as exc:  # pyautogui, Xlib, OpenCV: unexpected faults are technical
        error = TechnicalError(f"{what} failed: {type(exc).__name__}: {exc}")
        _keep_screenshot(ctx, desktop, error)
        raise error from exc


def _keep_screenshot(ctx: SkillContext, desktop: Desktop, error: SkillError) -> None:
    if ctx.evidence is None:
        return
    with contextlib.suppress(Exception):  # evidence never hides the error itself
        buffer = io.BytesIO()
        desktop.screenshot().save(buffer, format="PNG")
        item = f"item{ctx.item_index}-" if ctx.item_index is not None else ""
        name = f"{item}attempt{ctx.attempt}-{time.time_ns() // 1_000_000}-screen.png"
        ref = ctx.save_evidence(name, buffer.getvalue(), "image/png")
        if ref is not None:
            error.details.setdefault("evidence", ref.path)
            error.details.setdefault("evidence_sha256", ref.sha256)
