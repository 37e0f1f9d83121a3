"""A red bank stamp (业务专用章 / 转讫) pressed onto a voucher, over whatever text lies beneath."""

from __future__ import annotations

import math
import random

from PIL import Image, ImageChops, ImageDraw

from examples.vouchers.fonts import cjk_face

_STAMP_WORDS = ("业务专用章", "转讫", "受理专用章", "现金讫")


def _ring_text(
    draw_target: Image.Image, text: str, centre: float, radius: float, size: int, colour: int
) -> None:
    """Write ``text`` along the upper arc of a circle (each character rotated to face out)."""
    font = cjk_face("sans_bold").at(size)
    span = min(250.0, 24.0 * len(text))
    start = -90 - span / 2
    step = span / max(1, len(text) - 1)
    for index, char in enumerate(text):
        angle = math.radians(start + index * step)
        tile = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(tile).text((size, size), char, font=font, fill=colour, anchor="mm")
        tile = tile.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = int(centre + radius * math.cos(angle) - size)
        y = int(centre + radius * math.sin(angle) - size)
        layer = Image.new("L", draw_target.size, 0)
        layer.paste(tile, (x, y))
        draw_target.paste(ImageChops.lighter(draw_target, layer))


def draw_stamp(rng: random.Random, bank: str) -> Image.Image:
    """A stamp as a grayscale mask (255 = full ink) of a round bank seal."""
    radius = rng.randint(85, 115)
    side = radius * 2 + 20
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    ink = rng.randint(170, 235)
    c = side / 2
    draw.ellipse((c - radius, c - radius, c + radius, c + radius), outline=ink, width=rng.randint(5, 8))
    _ring_text(mask, bank[:12], c, radius - 28, 26, ink)
    star = []
    for point in range(10):
        reach = 26 * (1 if point % 2 == 0 else 0.4)
        angle = math.radians(-90 + point * 36)
        star.append((c + reach * math.cos(angle), c - 8 + reach * math.sin(angle)))
    draw.polygon(star, fill=ink)
    draw.text(
        (c, c + radius * 0.5),
        rng.choice(_STAMP_WORDS),
        font=cjk_face("sans_bold").at(24),
        fill=ink,
        anchor="mm",
    )
    return mask.rotate(rng.uniform(-30, 30), resample=Image.Resampling.BICUBIC)


def press(image: Image.Image, mask: Image.Image, centre: tuple[int, int], rng: random.Random) -> None:
    """Multiply the red ink of ``mask`` into ``image`` at ``centre`` (text under it stays dark)."""
    red = (rng.randint(200, 235), rng.randint(20, 60), rng.randint(30, 70))
    layer = Image.new("RGB", image.size, "white")
    ink = Image.new("RGB", mask.size, red)
    layer.paste(ink, (centre[0] - mask.width // 2, centre[1] - mask.height // 2), mask)
    image.paste(ImageChops.multiply(image, layer))
