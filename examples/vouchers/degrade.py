"""Make a clean voucher look scanned: scale, slight perspective, rotation up to 10 degrees, paper
tint, blur, sensor noise and JPEG artefacts; or make it unreadable (heavy blur, cut off)."""

from __future__ import annotations

import io
import random
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageFilter

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Distortion:
    """What was done to one image, recorded in its ground truth."""

    scale: float = 1.0
    rotation: float = 0.0
    perspective: float = 0.0
    blur: float = 0.0
    noise: float = 0.0
    jpeg_quality: int | None = None
    tint: bool = False
    cut_side: str | None = None
    cut_keep: float = 1.0

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready description."""
        return asdict(self)


CLEAN = Distortion()


def noisy(rng: random.Random) -> Distortion:
    """A plausible office scan or phone photo."""
    return Distortion(
        scale=round(rng.uniform(0.72, 1.08), 3),
        rotation=round(rng.uniform(-10.0, 10.0), 2),
        perspective=round(rng.uniform(0.0, 0.025), 4),
        blur=round(rng.uniform(0.0, 1.2), 2),
        noise=round(rng.uniform(2.0, 12.0), 1),
        jpeg_quality=rng.randint(30, 75),
        tint=True,
    )


def unreadable(rng: random.Random, base: Distortion) -> Distortion:
    """``base`` plus a heavy blur, or with most of the sheet cut off."""
    if rng.random() < 0.5:
        return Distortion(**{**asdict(base), "blur": round(rng.uniform(5.0, 8.0), 2)})
    side = rng.choice(["right", "bottom"])
    keep = round(rng.uniform(0.35, 0.5) if side == "right" else rng.uniform(0.3, 0.45), 3)
    return Distortion(**{**asdict(base), "cut_side": side, "cut_keep": keep})


def cut_box(size: tuple[int, int], distortion: Distortion) -> Box:
    """The part of the clean image that survives the cut (the whole image when not cut)."""
    width, height = size
    if distortion.cut_side == "right":
        return (0, 0, int(width * distortion.cut_keep), height)
    if distortion.cut_side == "bottom":
        return (0, 0, width, int(height * distortion.cut_keep))
    return (0, 0, width, height)


def _perspective_coefficients(
    source: list[tuple[float, float]], target: list[tuple[float, float]]
) -> list[float]:
    """Coefficients for ``Image.transform(PERSPECTIVE)`` mapping ``target`` corners to ``source``."""
    rows = []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    matrix = np.array(rows, dtype=float)
    values = np.array([c for point in source for c in point], dtype=float)
    return [float(c) for c in np.linalg.solve(matrix, values)]


def _paper(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randint(238, 252), rng.randint(234, 248), rng.randint(220, 240))


def apply(image: Image.Image, distortion: Distortion, rng: random.Random) -> Image.Image:
    """Apply every step of ``distortion`` except the JPEG encoding (done when saving)."""
    paper = _paper(rng) if distortion.tint else (255, 255, 255)
    result = image.crop(cut_box(image.size, distortion)) if distortion.cut_side else image.copy()
    if distortion.scale != 1.0:
        size = (round(result.width * distortion.scale), round(result.height * distortion.scale))
        result = result.resize(size, Image.Resampling.LANCZOS)
    if distortion.perspective:
        w, h = result.size
        shift = distortion.perspective * max(w, h)
        corners = [(0.0, 0.0), (float(w), 0.0), (float(w), float(h)), (0.0, float(h))]
        moved = [(x + rng.uniform(-shift, shift), y + rng.uniform(-shift, shift)) for x, y in corners]
        coefficients = _perspective_coefficients(corners, moved)
        result = result.transform(
            result.size,
            Image.Transform.PERSPECTIVE,
            coefficients,
            Image.Resampling.BICUBIC,
            fillcolor="white",
        )
    if distortion.rotation:
        result = result.rotate(
            distortion.rotation, resample=Image.Resampling.BICUBIC, expand=True, fillcolor="white"
        )
    if distortion.tint:
        pixels = np.asarray(result, dtype=np.float32) / 255.0
        gradient = np.linspace(
            rng.uniform(0.9, 1.0), rng.uniform(0.9, 1.0), pixels.shape[1], dtype=np.float32
        )
        pixels = pixels * np.array(paper, dtype=np.float32) * gradient[None, :, None]
        result = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if distortion.blur:
        result = result.filter(ImageFilter.GaussianBlur(distortion.blur))
    if distortion.noise:
        generator = np.random.default_rng(rng.getrandbits(32))
        pixels = np.asarray(result, dtype=np.float32)
        pixels = pixels + generator.normal(0.0, distortion.noise, pixels.shape[:2])[:, :, None]
        result = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return result


def encode(image: Image.Image, distortion: Distortion) -> tuple[bytes, str]:
    """The image file's bytes and extension: JPEG at the distortion's quality, else PNG."""
    buffer = io.BytesIO()
    if distortion.jpeg_quality is not None:
        image.save(buffer, format="JPEG", quality=distortion.jpeg_quality)
        return buffer.getvalue(), ".jpg"
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue(), ".png"
