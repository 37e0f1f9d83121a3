"""A test skill that behaves like a browser step on a flaky portal: a screenshot, then a retry.

Its first attempt saves a real PNG "screenshot" as evidence and raises a transient error, so a
real run leaves a retried step, a ``step_retrying`` audit event naming the evidence, and the
file under ``<home>/evidence``. With ``always_fail`` every attempt fails (the run fails).
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from pydantic import BaseModel, Field

from skills import SkillContext, TechnicalError, skill


class ScreenParams(BaseModel):
    reference: str = Field(description="Business reference shown on the portal.")
    flaky: bool = Field(False, description="Fail the first attempt with a screenshot.")
    always_fail: bool = Field(False, description="Fail every attempt.")
    login: str = Field("", description="Portal login password (a secret: the store keeps it masked).")


class ScreenResult(BaseModel):
    screen: str = Field(description="What the portal showed.")


def screenshot_png(text: str) -> bytes:
    image = Image.new("RGB", (360, 120), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 359, 28), fill=(180, 30, 30))
    draw.text((8, 8), "Core banking portal", fill=(255, 255, 255))
    draw.text((8, 50), text, fill=(20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@skill("do.test_portal_screen", effect="idempotent")
def portal_screen(ctx: SkillContext, params: ScreenParams) -> ScreenResult:
    """Look at the portal's page for a reference (fails first when flaky, with a screenshot)."""
    if params.always_fail or (params.flaky and ctx.attempt == 1):
        ctx.save_evidence("portal-error", screenshot_png(f"HTTP 503 for {params.reference}"), "image/png")
        raise TechnicalError(f"the portal answered 503 for {params.reference}", applied=False)
    signed = f" (signed in with {params.login})" if params.login else ""
    return ScreenResult(screen=f"credit {params.reference} posted{signed}")
