"""``do.desktop.focus_window``, ``do.desktop.type_text`` and ``do.desktop.press``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from skills import SkillContext, skill
from skills.do.desktop.common import DESKTOP, WindowResult, desktop_of, evidence_on_failure, focus_window

CLEAR_KEYS = ("end", "shift+home", "backspace")


class FocusWindowParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(description="Window title, a regular expression as xdotool matches it.")
    timeout_seconds: float = Field(10.0, gt=0, description="How long to wait for the window to appear.")


@skill("do.desktop.focus_window", effect="idempotent", resources=DESKTOP, timeout="60s")
def desktop_focus_window(ctx: SkillContext, params: FocusWindowParams) -> WindowResult:
    """Wait until a window with this title is visible, raise it and give it the keyboard focus."""
    desktop = desktop_of(ctx)
    with evidence_on_failure(ctx, desktop, f"focusing the window {params.title!r}"):
        return WindowResult.of(focus_window(desktop, params.title, params.timeout_seconds))


class TypeTextParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="What to type; Chinese and other non-Latin text is fine.")
    window: str | None = Field(None, description="Title of the window to focus first; default: as is.")
    at: tuple[int, int] | None = Field(
        None, description="Point to click first (relative to `window` when given), e.g. inside a field."
    )
    method: Literal["type", "paste"] = Field(
        "type",
        description="`type` sends each character (xdotool); `paste` uses the clipboard and ctrl+v.",
    )
    clear_first: bool = Field(
        False,
        description="Empty the focused field first (end, shift+home, backspace): a retry never doubles.",
    )
    sensitive: bool = Field(False, description="The text is a secret: never logged.")


class TypeTextResult(BaseModel):
    characters: int = Field(description="How many characters were sent.")


@skill("do.desktop.type_text", effect="idempotent", resources=DESKTOP, timeout="120s")
def desktop_type_text(ctx: SkillContext, params: TypeTextParams) -> TypeTextResult:
    """Type text into the focused field of the desktop (Chinese through xdotool, or by pasting).

    Declared idempotent with ``clear_first`` in mind: typing only changes a field on screen.
    The keystroke that commits a payment belongs in a ``once`` skill such as
    ``do.terminal.submit_payment``.
    """
    desktop = desktop_of(ctx)
    with evidence_on_failure(ctx, desktop, "typing text"):
        window = focus_window(desktop, params.window, 10.0) if params.window is not None else None
        if params.at is not None:
            desktop.click(*(window.point(*params.at) if window else params.at))
        if params.clear_first:
            for keys in CLEAR_KEYS:
                desktop.press(keys)
        if params.method == "paste":
            desktop.paste_text(params.text)
        else:
            desktop.type_text(params.text)
        shown = "a secret" if params.sensitive else repr(params.text[:40])
        ctx.log(f"typed {shown}", characters=len(params.text))
        return TypeTextResult(characters=len(params.text))


class PressParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: list[str] = Field(
        min_length=1,
        description="Keys pressed in order; each a pyautogui key name (`tab`, `enter`, `f5`) or a chord "
        "(`ctrl+a`, `shift+tab`).",
    )
    repeat: int = Field(1, ge=1, le=100, description="Press the whole sequence this many times.")
    window: str | None = Field(None, description="Title of the window to focus first; default: as is.")


@skill("do.desktop.press", effect="idempotent", resources=DESKTOP, timeout="60s")
def desktop_press(ctx: SkillContext, params: PressParams) -> None:
    """Press keys or key chords on the desktop (Tab through fields, function keys, shortcuts).

    Declared idempotent: for moving around. A key that commits a payment belongs in a ``once``
    skill such as ``do.terminal.submit_payment``.
    """
    desktop = desktop_of(ctx)
    with evidence_on_failure(ctx, desktop, f"pressing {params.keys}"):
        if params.window is not None:
            focus_window(desktop, params.window, 10.0)
        for _ in range(params.repeat):
            for keys in params.keys:
                desktop.press(keys)
