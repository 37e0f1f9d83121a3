"""``do.desktop.click_image`` and ``do.desktop.read_field``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from skills import BusinessError, ResourceUnavailable, SkillContext, TechnicalError, skill
from skills.do.desktop.common import DESKTOP, desktop_of, evidence_on_failure, focus_window
from skills.do.desktop.display import Desktop, Window
from skills.do.desktop.matching import best_match

Point = tuple[int, int]
Region = tuple[int, int, int, int]


class ClickImageParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image: str = Field(description="PNG of what to click (path, relative to the working folder).")
    confidence: float = Field(
        0.9, ge=0.5, le=1.0, description="Lowest match score accepted (0.8-0.9 tolerates repaints)."
    )
    window: str | None = Field(None, description="Search only inside the window with this title.")
    timeout_seconds: float = Field(5.0, ge=0, description="Keep looking this long for the image to appear.")
    offset: Point = Field((0, 0), description="Click this far (x, y pixels) from the image's centre.")
    clicks: int = Field(1, ge=0, le=3, description="How many clicks; 0 only waits for the image.")


class ClickImageResult(BaseModel):
    x: int = Field(description="Screen x of the point clicked.")
    y: int = Field(description="Screen y of the point clicked.")
    score: float = Field(description="Match score, 0..1.")


@skill("do.desktop.click_image", effect="idempotent", resources=DESKTOP, timeout="60s")
def desktop_click_image(ctx: SkillContext, params: ClickImageParams) -> ClickImageResult:
    """Find an image on the screen (OpenCV template match) and click it; clear error when absent.

    Declared idempotent: for buttons that navigate. A click that commits a payment belongs in a
    ``once`` skill.
    """
    from PIL import Image

    path = Path(params.image)
    path = path if path.is_absolute() else ctx.work_dir / path
    if not path.is_file():
        raise BusinessError(f"the image to click, {path}, does not exist", code="image_missing")
    with Image.open(path) as opened:
        template = opened.convert("RGB")
    desktop = desktop_of(ctx)
    with evidence_on_failure(ctx, desktop, f"clicking the image {path.name}"):
        window = focus_window(desktop, params.window, 10.0) if params.window else None
        deadline = time.monotonic() + params.timeout_seconds
        while True:
            desktop.rest_pointer(window)
            region = (window.x, window.y, window.width, window.height) if window else None
            match = best_match(desktop.screenshot(region), template)
            if match.score >= params.confidence:
                break
            if time.monotonic() >= deadline:
                where = f"window {window.title!r}" if window else f"screen {desktop.display}"
                raise TechnicalError(
                    f"image {path.name} not found on the {where} after {params.timeout_seconds:g}s: "
                    f"best match {match.score:.2f} at ({match.x}, {match.y}), below the confidence "
                    f"{params.confidence:.2f}"
                )
            time.sleep(0.2)
        origin = (window.x, window.y) if window else (0, 0)
        x = origin[0] + match.centre[0] + params.offset[0]
        y = origin[1] + match.centre[1] + params.offset[1]
        if params.clicks:
            desktop.click(x, y, clicks=params.clicks)
        return ClickImageResult(x=x, y=y, score=round(match.score, 4))


class ReadFieldParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window: str | None = Field(
        None, description="Window to focus first; `at` and `region` are relative to it."
    )
    at: Point | None = Field(
        None, description="Point inside the field to click first; default: the focused one."
    )
    method: Literal["clipboard", "selection", "ocr"] = Field(
        "clipboard",
        description="`clipboard`: select all + ctrl+c; `selection`: triple-click `at` and read the X "
        "primary selection; `ocr`: recognise the text in `region` with the `ocr` service.",
    )
    select_keys: str = Field(
        "ctrl+a", description="Chord that selects the field's text (Tk entries: ctrl+/)."
    )
    region: Region | None = Field(None, description="x, y, width, height of the text, for `ocr`.")

    @model_validator(mode="after")
    def _method_needs(self) -> ReadFieldParams:
        if self.method == "selection" and self.at is None:
            raise ValueError("method 'selection' needs `at`, the point to triple-click")
        if self.method == "ocr" and self.region is None:
            raise ValueError("method 'ocr' needs `region`")
        return self


class ReadFieldResult(BaseModel):
    text: str = Field(description="The field's text, without a trailing newline.")


@skill("do.desktop.read_field", effect="none", resources=DESKTOP, timeout="60s")
def desktop_read_field(ctx: SkillContext, params: ReadFieldParams) -> ReadFieldResult:
    """Read a field's text back from the screen: copy it to the clipboard, or OCR its region."""
    desktop = desktop_of(ctx)
    with evidence_on_failure(ctx, desktop, "reading a field"):
        window = focus_window(desktop, params.window, 10.0) if params.window else None
        if params.method == "ocr":
            assert params.region is not None
            return ReadFieldResult(text=ocr_region(ctx, desktop, window, params.region))
        if params.method == "selection":
            assert params.at is not None
            return ReadFieldResult(text=read_by_selection(desktop, window, params.at))
        return ReadFieldResult(text=read_by_clipboard(desktop, window, params.at, params.select_keys))


def _screen_point(window: Window | None, point: Point) -> Point:
    return window.point(*point) if window else point


def read_by_clipboard(
    desktop: Desktop, window: Window | None, at: Point | None, select_keys: str, *, wait: float = 2.0
) -> str:
    """Click into the field (when ``at``), select all, copy, and read the clipboard.

    An empty field copies nothing, which is only known once ``wait`` seconds passed.
    """
    if at is not None:
        desktop.click(*_screen_point(window, at))
    desktop.clear_selection("CLIPBOARD")
    desktop.press(select_keys)
    desktop.press("ctrl+c")
    return _await_selection(desktop, "clipboard", f"after {select_keys} and ctrl+c", wait)


def read_by_selection(desktop: Desktop, window: Window | None, at: Point) -> str:
    """Triple-click the field (selects its line) and read the X primary selection."""
    desktop.clear_selection("PRIMARY")
    desktop.click(*_screen_point(window, at), clicks=3)
    return _await_selection(desktop, "primary", f"after triple-clicking {at}", 2.0)


def _await_selection(desktop: Desktop, selection: str, how: str, wait: float) -> str:
    deadline = time.monotonic() + wait
    while True:
        text = desktop.read_selection(selection)
        if text is not None:
            return text.rstrip("\r\n")
        if time.monotonic() >= deadline:
            raise TechnicalError(
                f"nothing reached the {selection} selection {how}: the field is not focused, empty, or "
                "selects all with other keys (Tk entries: ctrl+/)"
            )
        time.sleep(0.05)


def ocr_region(ctx: SkillContext, desktop: Desktop, window: Window | None, region: Region) -> str:
    """Recognise the text in a region with the ``ocr`` service (lines joined by spaces)."""
    try:
        engine = ctx.service("ocr")
    except Exception as exc:
        raise ResourceUnavailable(f"reading by OCR needs the 'ocr' service: {exc}") from exc
    x, y = _screen_point(window, (region[0], region[1]))
    lines = engine.read(desktop.screenshot((x, y, region[2], region[3])))
    return " ".join(line.text.strip() for line in lines if line.text.strip())
