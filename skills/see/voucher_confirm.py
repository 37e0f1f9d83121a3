"""A second, independent reading of the text fields the first pass accepted (double keying).

A bank keys the names and the purpose of a paper voucher twice, by two clerks, and compares.
The first pass reads each value from the boxes the OCR's detector found, and a detector can
leave a character out of every box — a first character merged into a table line or a seal
ring (广发银行… read as 发银行…, 广州鼎盛… as 州鼎盛…) — or add one (a ruling stroke read as 一
before 往来款). The recogniser then reads the box surely, so no confidence or shape check can
notice: the value is wrong and not flagged, and a wrong name is keyed into the payment.

The second reading does not trust the detector: it crops the whole stretch from the label's
right edge to the value's end (where a dropped character lies) and recognises it as one line,
from the first pass's seal wash upscaled. Its Chinese characters must equal the first read's;
when a confident second reading says otherwise the field is flagged (``second_read``) with both
readings, and a person decides. The second look (``voucher_reread``) never lifts that flag: it
re-reads the first pass's own boxes, which would only confirm the first read.

Measured on seed 11's 240 noisy scans (docs/benchmarks/voucher_ocr.md): it flags the four
values a detector box made wrong (two bank names, a payee name, a purpose) and two right values
whose second reading misread a character (朱宇洋 read 朱字洋, 工 read 汇); a value misread alike
both times (工 read 全 in a bank name) is not caught here (``voucher_banks`` catches that one).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from skills.see.voucher_geometry import Token
from skills.see.voucher_layouts import LAYOUTS
from skills.see.voucher_reader import FieldReading, VoucherReading
from skills.see.voucher_reread import crop_around, upright_scan, upscaled_wash

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from skills.see.ocr_engine import OcrEngine

# What is compared: Chinese characters and the brackets of names like 新韩银行(中国). A ruling
# line of the form read as | or 1 at the crop's left edge is not text of the value.
_COMPARED = re.compile(r"[\u4e00-\u9fff（）()·]")
# The crop starts this many line heights right of the label's box (OCR boxes are padded).
_LABEL_GAP = 0.1


def compared_text(text: str) -> str:
    """The characters two readings of a text field are compared on."""
    return "".join(_COMPARED.findall(text))


def confirm_text_fields(
    reading: VoucherReading, image: Image.Image, engine: OcrEngine, *, min_confidence: float
) -> VoucherReading:
    """``reading`` with every unflagged text field read a second time from its label onwards,
    and flagged when a confident second reading differs (see the module docstring)."""
    import numpy as np

    if reading.layout is None:
        return reading
    spec = LAYOUTS[reading.layout]
    names = [
        name
        for name, field in reading.fields.items()
        if spec.field(name).kind == "text"
        and not field.flagged
        and not field.reread
        and field.label is not None
        and field.pieces
    ]
    if not names:
        return reading
    upright = upright_scan(np.asarray(image.convert("RGB")), reading.skew_degrees)
    crops = {name: stretch_from_label(upright, reading.fields[name]) for name in names}
    wanted = [name for name in names if crops[name] is not None]
    seconds = engine.recognize([crops[name] for name in wanted])
    fields = dict(reading.fields)
    for name, (text, score) in zip(wanted, seconds, strict=True):
        first = fields[name]
        if score >= min_confidence and compared_text(text) != compared_text(first.value or ""):
            fields[name] = replace(
                first,
                flagged=True,
                code="second_read",
                reason=f"read {first.value!r}, but read from the label on as {text!r}: a person must compare",
            )
    return VoucherReading(reading.layout, reading.skew_degrees, fields)


def stretch_from_label(upright: np.ndarray, field: FieldReading) -> np.ndarray | None:
    """The value's row from the label's right edge to the value's end, seal washed out, upscaled."""
    assert field.label is not None
    pieces: Sequence[Token] = field.pieces
    height = min(t.height for t in pieces)
    stretch = Token(
        "",
        0.0,
        field.label.x1 + _LABEL_GAP * height,
        min(t.y0 for t in pieces),
        max(t.x1 for t in pieces),
        max(t.y1 for t in pieces),
    )
    crop = crop_around(upright, [stretch])
    return None if crop is None else upscaled_wash(crop)
