"""Finding a template image on a screenshot (OpenCV normalised cross-correlation)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class Match:
    """Where a template matched best, in the screenshot's pixels, and how well (0..1)."""

    x: int
    y: int
    width: int
    height: int
    score: float

    @property
    def centre(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2


def best_match(screen: Image.Image, template: Image.Image) -> Match:
    """The best placement of ``template`` on ``screen`` (grey levels, ``TM_CCOEFF_NORMED``).

    A template larger than the screen scores 0. A flat template (one colour) has no pattern to
    correlate; it scores 0 too rather than the NaN OpenCV gives.
    """
    import cv2
    import numpy as np

    if template.width > screen.width or template.height > screen.height:
        return Match(0, 0, template.width, template.height, 0.0)
    haystack = cv2.cvtColor(np.asarray(screen.convert("RGB")), cv2.COLOR_RGB2GRAY)
    needle = cv2.cvtColor(np.asarray(template.convert("RGB")), cv2.COLOR_RGB2GRAY)
    scores = cv2.matchTemplate(haystack, needle, cv2.TM_CCOEFF_NORMED)
    _, best, _, (x, y) = cv2.minMaxLoc(scores)
    score = 0.0 if math.isnan(best) or math.isinf(best) else max(0.0, min(1.0, float(best)))
    return Match(int(x), int(y), template.width, template.height, score)
