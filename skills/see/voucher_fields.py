"""Normalise a field's raw OCR text and check its shape.

A shape check answers "does this look like what the form asks for" (an account is digits, a
bank code is 12 digits, a date is a date, amount words use only capital numerals). It never
repairs a value: a failed check flags the field with the reason, and the text read is kept so
a person sees what the scan says. Business validity (check digits, words equal to the figure)
is decided later by ``skills.think``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from skills.see.voucher_layouts import FieldKind

_AMOUNT_WORD_CHARS = set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆角分整正貳陸萬億")
_DATE = re.compile(r"^(\d{4})[年./-](\d{1,2})[月./-](\d{1,2})日?$")
_SEPARATORS = re.compile(r"[\s\-_.·:：]")


@dataclass(frozen=True)
class ShapedValue:
    """A normalised value and, when its shape is wrong, why."""

    value: str
    problem: str | None = None


def shape(kind: FieldKind, raw: str) -> ShapedValue:
    """Normalise ``raw`` for a field of ``kind`` and check its shape."""
    text = raw.strip()
    if kind == "account":
        digits = _SEPARATORS.sub("", text)
        if not re.fullmatch(r"\d+", digits):
            return ShapedValue(digits, f"expected an account of digits only, read {text!r}")
        if not 8 <= len(digits) <= 32:
            return ShapedValue(digits, f"expected an account of 8 to 32 digits, read {len(digits)} digits")
        return ShapedValue(digits)
    if kind == "bank_code":
        digits = _SEPARATORS.sub("", text)
        if not re.fullmatch(r"\d{12}", digits):
            return ShapedValue(digits, f"expected a 12-digit CNAPS bank code, read {text!r}")
        return ShapedValue(digits)
    if kind == "number":
        digits = re.sub(r"^(?:No\.?|NO\.?|№)", "", _SEPARATORS.sub("", text))
        if not re.fullmatch(r"\d{4,20}", digits):
            return ShapedValue(digits, f"expected a voucher number of 4 to 20 digits, read {text!r}")
        return ShapedValue(digits)
    if kind == "date":
        return _shape_date(text)
    if kind == "amount_words":
        return _shape_amount_words(text)
    compact = re.sub(r"\s+", "", text)
    return ShapedValue(compact, None if compact else "expected text, read nothing")


def _shape_date(text: str) -> ShapedValue:
    compact = re.sub(r"\s+", "", text)
    match = _DATE.match(compact)
    if not match:
        return ShapedValue(compact, f"expected a date like 2024年03月15日, read {text!r}")
    year, month, day = (int(part) for part in match.groups())
    try:
        return ShapedValue(date(year, month, day).isoformat())
    except ValueError:
        return ShapedValue(compact, f"expected a calendar date, read {text!r}")


def _shape_amount_words(text: str) -> ShapedValue:
    compact = re.sub(r"\s+", "", text)
    if compact.startswith("人民币"):
        compact = compact[len("人民币") :]
    if not compact:
        return ShapedValue(compact, "expected an amount in capital numerals, read nothing")
    strange = sorted({ch for ch in compact if ch not in _AMOUNT_WORD_CHARS})
    if strange:
        return ShapedValue(
            compact,
            f"expected capital numerals only (零壹贰…元角分整), read {''.join(strange)!r} in {compact!r}",
        )
    if compact[-1] not in "整正角分":
        return ShapedValue(compact, f"expected the amount to end with 整, 角 or 分, read {compact!r}")
    return ShapedValue(compact)
