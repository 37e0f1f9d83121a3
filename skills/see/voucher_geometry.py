"""Geometry on OCR boxes: estimate the skew of a scan and turn every box upright.

A voucher scanned up to ~10 degrees askew gives tilted text boxes. Rather than rotate the image
and read it again, the boxes themselves are rotated back around the image centre by the median
angle of the long text lines; rows of the form are then horizontal and "to the right of the
label, on the same row" can be decided on plain rectangles.
"""

from __future__ import annotations

import math
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from skills.see.ocr_engine import OcrLine

Point = tuple[float, float]
# A box corner this close (pixels) to the image border means the text may run off the image.
EDGE_MARGIN = 2.0


@dataclass(frozen=True)
class Token:
    """An OCR line in the deskewed frame: text, confidence and an upright rectangle."""

    text: str
    confidence: float
    x0: float
    y0: float
    x1: float
    y1: float
    at_edge: bool = False

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    def split_at(self, chars: int) -> tuple[Token, Token]:
        """Cut after ``chars`` characters; the width is shared by character weight."""
        total = text_weight(self.text) or 1.0
        cut = self.x0 + self.width * text_weight(self.text[:chars]) / total
        head = Token(self.text[:chars], self.confidence, self.x0, self.y0, cut, self.y1, self.at_edge)
        tail = Token(self.text[chars:], self.confidence, cut, self.y0, self.x1, self.y1, self.at_edge)
        return head, tail

    def char_centres(self) -> list[tuple[str, float]]:
        """Each character with the x of its centre, assuming the box is shared by weight."""
        total = text_weight(self.text) or 1.0
        result = []
        start = 0.0
        for char in self.text:
            weight = text_weight(char)
            result.append((char, self.x0 + self.width * (start + weight / 2) / total))
            start += weight
        return result


def text_weight(text: str) -> float:
    """Rough printed width in em: full-width (CJK) characters 1, others about half."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55 for ch in text)


def estimate_skew(lines: Sequence[OcrLine]) -> float:
    """The scan's rotation in degrees (positive = text runs downhill to the right).

    The median angle of the top edges of lines at least 2.5 times as long as they are high
    (short boxes give noisy angles).
    """
    angles = []
    for line in lines:
        (x0, y0), (x1, y1), (x2, y2) = line.box[0], line.box[1], line.box[2]
        length, height = math.hypot(x1 - x0, y1 - y0), math.hypot(x2 - x1, y2 - y1)
        if len(line.text) >= 3 and length >= 2.5 * height:
            angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
            if abs(angle) <= 30:
                angles.append(angle)
    return statistics.median(angles) if angles else 0.0


def deskew(lines: Sequence[OcrLine], angle: float, size: tuple[float, float]) -> list[Token]:
    """Rotate every box by ``-angle`` around the centre of an image of ``size`` (width, height)
    and keep its upright bounding rectangle; a box with a corner on the image's border is
    marked ``at_edge`` (its text may be cut off)."""
    theta = math.radians(-angle)
    cos, sin = math.cos(theta), math.sin(theta)
    width, height = size
    cx, cy = width / 2, height / 2
    tokens = []
    for line in lines:
        xs, ys = [], []
        at_edge = False
        for x, y in line.box:
            at_edge = at_edge or x <= EDGE_MARGIN or y <= EDGE_MARGIN
            at_edge = at_edge or x >= width - 1 - EDGE_MARGIN or y >= height - 1 - EDGE_MARGIN
            dx, dy = x - cx, y - cy
            xs.append(cx + dx * cos - dy * sin)
            ys.append(cy + dx * sin + dy * cos)
        text = unicodedata.normalize("NFKC", line.text).strip()
        if text:
            tokens.append(Token(text, line.confidence, min(xs), min(ys), max(xs), max(ys), at_edge))
    return tokens
