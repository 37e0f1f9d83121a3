"""Normalise spoken-answer text: lower case, plain words, numbers spelled out.

Recognisers output lower-case words without punctuation; expected answers written by workflow
authors ("Yes, I confirm the payment of 12,000 yuan.") are brought to the same form before they
are compiled into a grammar or compared with what was heard. Chinese characters are kept and
compared one character at a time, since Mandarin recognisers do not agree on word boundaries.
"""

from __future__ import annotations

import re

_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
]  # fmt: skip
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_TOKEN = re.compile(rf"[{_CJK}]|[a-z0-9]+(?:'[a-z]+)?")
_WORD_CHARS = re.compile(rf"[^a-z0-9'{_CJK}]+")


def number_to_words(number: int) -> str:
    """Spell a non-negative integer in English words, as a speaker says it.

    Args:
        number: The integer, below 10**15.

    Returns:
        For example ``"twelve thousand five hundred"`` for 12500.

    Raises:
        ValueError: If the number is negative or too large.
    """
    if number < 0 or number >= 10**15:
        raise ValueError(f"expected an integer between 0 and 10**15, got {number}")
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_to_words(rest)}" if rest else "")
    for scale, name in _SCALES:
        if number >= scale:
            head, rest = divmod(number, scale)
            return f"{number_to_words(head)} {name}" + (f" {number_to_words(rest)}" if rest else "")
    raise AssertionError("unreachable")  # pragma: no cover


def _spell_number(match: re.Match[str]) -> str:
    whole, _, fraction = match.group(0).replace(",", "").partition(".")
    words = number_to_words(int(whole))
    if fraction:
        words += " point " + " ".join(_ONES[int(digit)] for digit in fraction)
    return f" {words} "


def normalize_phrase(text: str) -> str:
    """Bring a phrase to the form recognisers produce.

    Lower case, digits spelled out (``12,000`` → ``twelve thousand``), punctuation dropped,
    single spaces between words and none between Chinese characters.

    Args:
        text: Any phrase, English or Chinese.

    Returns:
        The normalised phrase (possibly empty).
    """
    spelled = _NUMBER.sub(_spell_number, text.lower())
    parts = _TOKEN.findall(_WORD_CHARS.sub(" ", spelled))
    joined = ""
    for previous, part in zip(["", *parts], parts, strict=False):
        both_chinese = has_cjk(previous) and has_cjk(part)
        joined += part if both_chinese or not joined else f" {part}"
    return joined


def tokens(text: str) -> list[str]:
    """The comparison units of a normalised phrase: English words and single Chinese characters."""
    return _TOKEN.findall(normalize_phrase(text))


def has_cjk(text: str) -> bool:
    """Whether the text contains Chinese characters."""
    return re.search(f"[{_CJK}]", text) is not None
