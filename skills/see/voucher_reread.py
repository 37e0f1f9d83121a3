"""A second, closer look at the fields the first pass flagged as unsure.

The first pass reads the whole washed scan once. A field it was unsure of (low confidence, a
stray character such as 参 for 叁 that fails the shape check, a seal's characters read after
the value, a grid digit the detector missed) is cropped from the deskewed scan and recognised
again, as one line, from several preprocessed copies (upscaled 2x; seal ink washed out as in
the first pass or harder; binarised; sharpened; washed after upscaling). Unsure pieces of the
first read that are only seal ink (red, with no black stroke in them) are scrubbed to paper but
stay in the crop, so the re-read must also find no text there; the value is chosen again from
the label's row without them, by the first pass's own rule (a seal piece read first next to the
label can hide the value behind it). The figure is re-read as the grid's whole digit row. A
re-read replaces the flag only when

* at least ``MIN_VOTES`` copies read the same value at or above the field's confidence
  threshold, and no copy confidently reads another value;
* that value passes the first pass's shape check and the field's own semantic check (bank code
  check digit, the amount in words equal to the figure, a card-shaped account's Luhn digit,
  a name of Chinese characters);
* for fields with no check of their own (names, banks, accounts, numbers, dates, purpose) it
  says what the first read said once its seal pieces are left out: a character inside a piece
  the first pass read is never dropped.

Anything else keeps the first pass's flag: the second pass confirms, it never guesses. It runs
only when a field is flagged, so a clean voucher costs nothing more.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from skills.see.voucher_fields import shape
from skills.see.voucher_geometry import Token
from skills.see.voucher_layouts import LAYOUTS, FieldKind
from skills.see.voucher_reader import FieldReading, VoucherReading, chain_value, in_separate_pieces

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from skills.see.ocr_engine import OcrEngine

# Flags a closer look can lift. A missing label or value, or a value cut off at the image's
# edge, is about where the text is, not how it reads: another look at the same box cannot
# settle it. Separate pieces can be settled when the extra piece is only seal ink, grid gaps
# when the whole digit row reads as ￥ and digits equal to the amount in words.
REREAD_CODES = frozenset({"low_confidence", "shape", "separate_pieces", "grid"})
MIN_VOTES = 2
UPSCALE = 2
# Fields whose value must agree with the first pass (no check digit or cross-check of their own).
_CONFIRMED_KINDS = frozenset({"text", "account", "number", "date"})
# Fields checked against something read elsewhere (the figure) or a check digit: a re-read
# that fails their shape is noise, not a dissent.
_CROSS_CHECKED_KINDS = frozenset({"amount_words", "bank_code"})
# Fields written in Chinese characters (names, banks, purpose, the amount in words), which get a
# fifth copy of the crop (``crop_variants``).
_CHARACTER_KINDS = frozenset({"text", "amount_words"})
# A seal piece: at least SEAL_SHARE of its ink is clearly red, at most BLACK_SHARE is dark in
# the red channel (black print). Measured on noisy scans: seal pieces 0.70-0.99 red and
# 0.00-0.11 black, printed values 0.00-0.54 red and 0.18-0.76 black (one under a seal: 0.54
# red, 0.26 black).
INK_LEVEL = 160
SEAL_REDNESS = 40
BLACK_LEVEL = 120
SEAL_SHARE = 0.6
BLACK_SHARE = 0.15
_CJK_NAME = re.compile(r"^[\u4e00-\u9fff（）()·]{2,40}$")


@dataclass(frozen=True)
class Look:
    """What every re-read of one voucher shares: the upright scan, the recogniser, the fields."""

    upright: np.ndarray
    engine: OcrEngine
    fields: dict[str, FieldReading]

    def read(self, crop: np.ndarray, characters: bool = False) -> list[tuple[str, float]]:
        """Every variant of ``crop`` recognised as one line (``crop_variants``)."""
        return self.engine.recognize(crop_variants(crop, characters=characters))


@dataclass(frozen=True)
class Reread:
    """What the second look made of one field: the value accepted, or why not."""

    value: str | None
    confidence: float
    refusal: str | None = None


def upright_scan(image: np.ndarray, skew_degrees: float) -> np.ndarray:
    """The scan turned by ``-skew_degrees`` around its centre, so the reader's deskewed boxes
    (``voucher_geometry.deskew``) are pixel positions in it."""
    import cv2
    import numpy as np

    if abs(skew_degrees) < 0.05:
        return image
    height, width = image.shape[:2]
    theta = math.radians(-skew_degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    cx, cy = width / 2, height / 2
    matrix = np.array(
        [[cos, -sin, cx - cx * cos + cy * sin], [sin, cos, cy - cx * sin - cy * cos]], dtype=np.float64
    )
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderValue=(255, 255, 255))


def crop_around(image: np.ndarray, pieces: Sequence[Token], margin: float = 0.12) -> np.ndarray | None:
    """The part of ``image`` covering ``pieces``, with ``margin`` line heights of paper around."""
    if not pieces:
        return None
    height = min(t.height for t in pieces)
    pad = margin * height
    x0 = max(0, math.floor(min(t.x0 for t in pieces) - pad))
    y0 = max(0, math.floor(min(t.y0 for t in pieces) - pad))
    x1 = min(image.shape[1], math.ceil(max(t.x1 for t in pieces) + pad))
    y1 = min(image.shape[0], math.ceil(max(t.y1 for t in pieces) + pad))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    return image[y0:y1, x0:x1]


def washed(crop: np.ndarray, *, brighter_than: int = 150, redder_by: int = 60) -> np.ndarray:
    """The red channel with seal ink set to paper white; the defaults are the first pass's
    (``voucher.wash_out_red``), lower ones also wash out darker, paler seal ink."""
    import numpy as np

    pixels = crop.astype(np.int16)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    gray = red.copy()
    gray[(red > brighter_than) & ((red - np.maximum(green, blue)) > redder_by)] = 255
    return gray.astype(np.uint8)


def stretched(gray: np.ndarray) -> np.ndarray:
    """Contrast stretched between the 2nd and 98th percentile (faded or greyed scans)."""
    import numpy as np

    low, high = np.percentile(gray, (2, 98))
    if high - low < 1:
        return gray
    return np.clip((gray.astype(np.float32) - low) * 255.0 / (high - low), 0, 255).astype(np.uint8)


def upscaled_wash(crop: np.ndarray) -> np.ndarray:
    """The first pass's seal wash-out of an RGB crop, upscaled ``UPSCALE`` times (cubic)."""
    import cv2

    gray = washed(crop)
    return cv2.resize(gray, (gray.shape[1] * UPSCALE, gray.shape[0] * UPSCALE), interpolation=cv2.INTER_CUBIC)


def crop_variants(crop: np.ndarray, *, characters: bool = False) -> list[np.ndarray]:
    """Copies of an RGB crop prepared differently; each may read what another misses.

    For a value of Chinese characters (``characters``) a fifth copy washes the seal out of the
    colour crop *after* upscaling it, with thresholds between the first pass's and the hard
    ones: the scan's colour is JPEG-blocky (colour at half resolution), so a seal's stroke
    crossing a character leaves a grey fringe in the washes made at scan size, which reads as a
    stroke of its own (万 with a ring's arc over it read as 方); decided on the interpolated
    colours, the wash follows the seal's edges more closely. Digit rows do not get it: there
    the leftover of a seal's edge reads as an extra 1 (the figure ￥4010.60 read ￥4 0 110 6 0),
    a confident dissent that would refuse the agreeing copies.
    """
    import cv2

    size = (crop.shape[1] * UPSCALE, crop.shape[0] * UPSCALE)
    big_washed = upscaled_wash(crop)
    hard_washed = stretched(washed(crop, brighter_than=100, redder_by=35))
    big_hard = cv2.resize(hard_washed, size, interpolation=cv2.INTER_CUBIC)
    denoised = cv2.medianBlur(big_washed, 3)
    _, binary = cv2.threshold(denoised, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    blurred = cv2.GaussianBlur(big_washed, (0, 0), 2.0)
    sharpened = cv2.addWeighted(big_washed, 1.8, blurred, -0.8, 0)
    variants = [big_washed, big_hard, binary, sharpened]
    if characters:
        big = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)
        variants.append(washed(big, brighter_than=120, redder_by=45))
    return variants


def agreed(
    readings: Sequence[tuple[str, float]],
    normalise: Callable[[str], str | None],
    min_confidence: float,
    misshapen_vetoes: bool = True,
) -> Reread:
    """The value ``MIN_VOTES`` readings agree on, when no confident reading says otherwise.

    With ``misshapen_vetoes`` a confident reading that fails the shape check counts as
    disagreeing too.
    """
    confident = [(normalise(text), score) for text, score in readings if score >= min_confidence]
    values = [(value, score) for value, score in confident if value is not None]
    votes = Counter(value for value, _ in values)
    if misshapen_vetoes and len(confident) > len(values):
        return Reread(None, 0.0, "a confident re-read failed the shape check")
    if len(votes) > 1:
        return Reread(None, 0.0, f"the re-reads disagree: {' / '.join(sorted(votes))}")
    if not votes or votes.most_common(1)[0][1] < MIN_VOTES:
        return Reread(None, 0.0, f"fewer than {MIN_VOTES} re-reads reached {min_confidence:.2f}")
    value = votes.most_common(1)[0][0]
    return Reread(value, min(score for v, score in values if v == value))


def shaped_value(kind: FieldKind) -> Callable[[str], str | None]:
    """Normalise a re-read like the first pass does; ``None`` when its shape is wrong."""

    def normalise(text: str) -> str | None:
        result = shape(kind, text)
        return None if result.problem else result.value

    return normalise


def is_seal_piece(upright: np.ndarray, piece: Token) -> bool:
    """True when the piece's ink is seal red with (almost) no black stroke in it.

    Black text is dark in the red channel, seal ink is not; a piece with no dark red-channel
    pixels holds no printed character, whatever the OCR made of it (受理专用章 read as 可理专同章).
    """
    import numpy as np

    crop = crop_around(upright, [piece], margin=0.0)
    if crop is None:
        return False
    pixels = crop.astype(np.int16)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    ink = np.minimum(np.minimum(red, green), blue) < INK_LEVEL
    inked = int(ink.sum())
    if inked == 0:
        return False
    seal_red = ink & ((red - np.maximum(green, blue)) > SEAL_REDNESS)
    black = ink & (red < BLACK_LEVEL)
    return seal_red.sum() >= SEAL_SHARE * inked and black.sum() <= BLACK_SHARE * inked


def seal_pieces(first: FieldReading, upright: np.ndarray, min_confidence: float) -> tuple[Token, ...]:
    """The unsure pieces of a first read that are only seal ink."""
    return tuple(
        piece for piece in first.pieces if piece.confidence < min_confidence and is_seal_piece(upright, piece)
    )


def without_seal_pieces(first: FieldReading, seals: Sequence[Token]) -> tuple[Token, ...]:
    """What the first pass would have read had the seal pieces not been there.

    The value is chosen again from the boxes of the label's row by the first pass's own rule
    (``chain_value``), the seal pieces left out: a seal piece read first next to the label (with
    the value's digits a little higher on the row) made the first pass skip the value as "not
    in line" with it. Without the label and row (a reading made elsewhere) the seal pieces are
    simply dropped from the value's pieces.
    """
    if first.label is None or not first.row:
        return tuple(piece for piece in first.pieces if piece not in seals)
    return tuple(chain_value(first.label, [token for token in first.row if token not in seals]))


def scrub_seals(upright: np.ndarray, seals: Sequence[Token]) -> np.ndarray:
    """A copy where every pixel of the seal pieces' boxes that is not black print is paper.

    Black strokes under the seal stay, so a printed character hidden there is still read. The
    paper is the box's own unprinted colour: a pure white patch on a grey scan reads as text.
    """
    import numpy as np

    if not seals:
        return upright
    scrubbed = upright.copy()
    for piece in seals:
        x0, y0 = max(0, math.floor(piece.x0)), max(0, math.floor(piece.y0))
        x1, y1 = min(upright.shape[1], math.ceil(piece.x1)), min(upright.shape[0], math.ceil(piece.y1))
        box = scrubbed[y0:y1, x0:x1]
        paper_pixels = box[box.min(axis=2) >= INK_LEVEL]
        paper = np.median(paper_pixels, axis=0) if len(paper_pixels) else 255
        box[box[..., 0] >= BLACK_LEVEL] = paper
    return scrubbed


def confirms_first_read(kind: FieldKind, kept: Sequence[Token], again: str) -> bool:
    """True when the first read, seal pieces left out, says ``again`` (normalised alike).

    Only whole seal pieces may go: a stray character inside a piece the first pass read (``l``
    for 1 in an account) may be a misread character of the value, so it is never dropped.
    """
    return shape(kind, "".join(piece.text for piece in kept)).value == again


def semantic_problem(name: str, kind: FieldKind, value: str, fields: dict[str, FieldReading]) -> str | None:
    """Why ``value`` cannot be the field's value by the field's own rules, or ``None``."""
    from skills.think.checks.amounts import AmountWordsError, check_amount, parse_amount_words
    from skills.think.checks.identifiers import check_card_number, check_cnaps_code

    if kind == "bank_code":
        check = check_cnaps_code(value)
        return None if check.valid else check.reason
    if kind == "account" and value.startswith("62") and 16 <= len(value) <= 19:
        check = check_card_number(value)
        return None if check.valid else f"a card-shaped account whose {check.reason}"
    if kind == "amount_words":
        try:
            parse_amount_words(value)
        except AmountWordsError as exc:
            return str(exc)
        figure = fields.get("amount_figure")
        if figure is None or figure.flagged or figure.value is None:
            return "the figure is unsure too, so the words cannot be checked against it"
        if check_amount(value, figure.value).outcome != "match":
            return f"the words do not equal the figure {figure.value}"
    if name.endswith("_name") and not _CJK_NAME.match(value):
        return f"a name of Chinese characters was expected, read {value!r}"
    return None


def reread_field(look: Look, name: str, kind: FieldKind, min_confidence: float) -> Reread:
    """Crop one field, its seal pieces scrubbed but included (the re-read must not find text
    there either), read it from every variant and judge the result."""
    first = look.fields[name]
    seals = seal_pieces(first, look.upright, min_confidence)
    kept = without_seal_pieces(first, seals)
    if not kept:
        return Reread(None, 0.0, "only seal ink was read next to the label")
    if in_separate_pieces(kept):
        return Reread(None, 0.0, "the value is in separate pieces, not all of them seal ink")
    if any(piece.at_edge for piece in kept):
        return Reread(None, 0.0, "the value runs to the edge of the image and may be cut off")
    crop = crop_around(scrub_seals(look.upright, seals), (*kept, *seals))
    if crop is None:
        return Reread(None, 0.0, "no box to read again")
    veto = kind not in _CROSS_CHECKED_KINDS
    result = agreed(look.read(crop, kind in _CHARACTER_KINDS), shaped_value(kind), min_confidence, veto)
    if result.value is None:
        return result
    if kind in _CONFIRMED_KINDS and not confirms_first_read(kind, kept, result.value):
        return Reread(None, 0.0, f"the re-read {result.value!r} is not what the first read said")
    problem = semantic_problem(name, kind, result.value, look.fields)
    return Reread(None, 0.0, problem) if problem else result


def reread_figure(look: Look, min_confidence: float) -> Reread:
    """Read the grid's whole digit row again, as one line from the ￥ to 分.

    The digits fill the grid up to 分, so the row read as ￥ and n digits is the figure. It is
    accepted only when it equals the amount in words (read surely, or confirmed by its own
    re-read): the words are the independent reading that stands in for the grid's columns.
    """
    from skills.think.checks.amounts import check_amount

    words, first = look.fields.get("amount_words"), look.fields["amount_figure"]
    if words is None or words.flagged or words.value is None:
        return Reread(None, 0.0, "the amount in words is unsure, so the figure cannot be checked against it")
    if first.area is None:
        return Reread(None, 0.0, "no digit row to read again")
    x0, y0, x1, y1 = first.area
    row = Token("", 0.0, x0, y0, x1, y1)
    crop = crop_around(look.upright, [row], margin=0.1)
    if crop is None:
        return Reread(None, 0.0, "no digit row to read again")
    result = agreed(look.read(crop), figure_from_row, min_confidence, misshapen_vetoes=False)
    if result.value is None:
        return result
    if check_amount(words.value, result.value).outcome != "match":
        return Reread(None, 0.0, f"the figure re-read as {result.value} does not equal the words")
    return result


def figure_from_row(text: str) -> str | None:
    """``1234.50`` from a digit row read as ``￥1 2 3 4 5 0``; ``None`` without the ￥ or digits."""
    compact = re.sub(r"\s+", "", text).replace("¥", "￥")
    match = re.fullmatch(r"￥(\d{3,11})", compact)
    if match is None:
        return None
    digits = match.group(1)
    if len(digits) > 3 and digits[0] == "0":
        return None
    return f"{int(digits[:-2])}.{digits[-2:]}"


def reread_flagged(
    reading: VoucherReading,
    image: Image.Image,
    engine: OcrEngine,
    *,
    min_confidence: float,
    figure_min_confidence: float,
) -> VoucherReading:
    """``reading`` with the flags a closer look could lift lifted (see the module docstring)."""
    import numpy as np

    unsure = [name for name, f in reading.fields.items() if f.flagged and f.code in REREAD_CODES]
    if not unsure or reading.layout is None:
        return reading
    spec = LAYOUTS[reading.layout]
    upright = upright_scan(np.asarray(image.convert("RGB")), reading.skew_degrees)
    look = Look(upright, engine, dict(reading.fields))
    # Words before the figure: the figure is confirmed against them, never the other way round.
    for name in sorted(unsure, key=lambda n: n == "amount_figure"):
        if name == "amount_figure":
            again = reread_figure(look, figure_min_confidence)
        else:
            again = reread_field(look, name, spec.field(name).kind, min_confidence)
        if again.value is not None:
            look.fields[name] = replace(
                look.fields[name],
                value=again.value,
                confidence=again.confidence,
                flagged=False,
                reason=None,
                code=None,
                reread=True,
            )
    return VoucherReading(reading.layout, reading.skew_degrees, look.fields)
