"""see.ocr: read every line of text in an image file (or a region of it)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from skills import SkillContext, skill
from skills.see.ocr_engine import OcrEngine, OcrLine, load_image


class OcrParams(BaseModel):
    """Input of ``see.ocr``."""

    image: Path = Field(description="Path of the image file (PNG, JPEG, TIFF...); relative to the work dir.")
    region: tuple[int, int, int, int] | None = Field(
        None, description="Only read this part of the image: x, y, width, height in pixels."
    )
    min_confidence: float = Field(
        0.5, ge=0.0, le=1.0, description="Leave out lines recognised with a lower confidence (0..1)."
    )


class TextLine(BaseModel):
    """One recognised line of text."""

    text: str = Field(description="The recognised text.")
    confidence: float = Field(ge=0.0, le=1.0, description="Recognition confidence, 0..1.")
    box: list[tuple[float, float]] = Field(
        description="The four corners (x, y) in pixels of the whole image, clockwise from the top-left."
    )
    x: float = Field(description="Left edge of the bounding rectangle, pixels.")
    y: float = Field(description="Top edge of the bounding rectangle, pixels.")
    width: float = Field(description="Width of the bounding rectangle, pixels.")
    height: float = Field(description="Height of the bounding rectangle, pixels.")


class OcrResult(BaseModel):
    """Output of ``see.ocr``."""

    lines: list[TextLine] = Field(description="Recognised lines, top to bottom then left to right.")
    text: str = Field(description="All lines joined with newlines.")
    width: int = Field(description="Width of the image (or region) read, pixels.")
    height: int = Field(description="Height of the image (or region) read, pixels.")


def _to_text_line(line: OcrLine, offset_x: float, offset_y: float) -> TextLine:
    x, y, width, height = line.rect
    return TextLine(
        text=line.text,
        confidence=min(1.0, max(0.0, line.confidence)),
        box=[(px + offset_x, py + offset_y) for px, py in line.box],
        x=x + offset_x,
        y=y + offset_y,
        width=width,
        height=height,
    )


@skill("see.ocr", effect="none", timeout="60s")
def ocr(ctx: SkillContext, params: OcrParams) -> OcrResult:
    """Read the text lines of an image with their boxes and confidences.

    Uses the shared ``ocr`` service (RapidOCR, PP-OCRv6 small models, Chinese and Latin script).
    Boxes are given in the coordinates of the whole image even when a region is read.

    Raises:
        BusinessError: The file is missing or not an image, or the region lies outside it.
    """
    engine: OcrEngine = ctx.service("ocr")
    path = params.image if params.image.is_absolute() else ctx.work_dir / params.image
    image = load_image(path, params.region)
    offset_x, offset_y = (params.region[0], params.region[1]) if params.region else (0, 0)
    lines = [
        _to_text_line(line, offset_x, offset_y)
        for line in engine.read(image, min_confidence=params.min_confidence)
    ]
    return OcrResult(
        lines=lines, text="\n".join(line.text for line in lines), width=image.width, height=image.height
    )
