"""Chinese capital-numeral amounts (大写金额): write them, read them, check them against a figure.

The rules are the PBOC's 《正确填写票据和结算凭证的基本规定》 (rules 1-4), as digested in
``payments-spec.md`` section 5:

* digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟 inside a four-digit group, 万 and 亿 after a group,
  元 (or 圆) 角 分, and 整 (or 正). Lower-case numerals (一二…十), 两, 念, 毛, 另 and ``0`` are
  forbidden (rule 1).
* an amount that ends at 元 must end with 整; one that ends at 角 may; one that ends at 分 must not
  (rule 2). No blank inside the amount or after 人民币 (rule 3).
* zeros (rule 4): a run of zeros between two digits is written as one 零; the 零 is *optional* when
  the run ends at the 万位 (or 亿位) and the next digit is a 仟, or ends at the 元位 and 角 is not
  zero; it is *required* after 元 when 角 is zero and 分 is not.

Reading works by parsing the text into a value with a structural grammar, then checking the text
against the small set of every valid way to write that value (canonical form plus the optional 零
choices, 圆/正, 整 after 角, a bare leading 拾, 零元 before a fraction). A text outside that set is
reported with the rule it breaks, and the value read leniently is kept on the error, so a person
repairing a voucher sees both.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from skills import BusinessError

MAX_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")
PREFIX = "人民币"

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_DIGIT_VALUE = {ch: i for i, ch in enumerate(DIGITS)}
_UNIT_POWER = {"拾": 1, "佰": 2, "仟": 3}
_UNIT_OF_POWER = {0: "", 1: "拾", 2: "佰", 3: "仟"}
_MARKER_OF_SECTION = {1: "万", 2: "亿"}

# Traditional and alternative forms that mean the same thing as the canonical character.
_VARIANTS = str.maketrans(
    {
        "貳": "贰",
        "陸": "陆",
        "萬": "万",
        "億": "亿",
        "圆": "元",
        "圓": "元",
        "正": "整",
        "叄": "叁",
        "參": "叁",
    }
)

# Characters rule 1 forbids, with what to write instead.
_FORBIDDEN = {
    **{ch: f"lower-case numeral {ch}; write {DIGITS[i + 1]}" for i, ch in enumerate("一二三四五六七八九")},
    "十": "lower-case 十; write 拾",
    "百": "lower-case 百; write 佰",
    "千": "lower-case 千; write 仟",
    "〇": "〇; write 零",
    "两": "两; write 贰",
    "念": "念; write 贰拾",
    "廿": "廿; write 贰拾",
    "毛": "毛; write 角",
    "另": "另; write 零",
}
_ALLOWED = set(DIGITS) | set(_UNIT_POWER) | set("万亿元角分整")
_BLANKS = re.compile(r"\s")


class AmountWordsError(BusinessError):
    """An amount in words that breaks the rules (a forbidden character, a wrong form).

    Attributes:
        text: the text as written.
        reason: what is wrong, naming the rule.
        position: 0-based index of the offending character in ``text``, when there is one.
        value: the amount read leniently when the text could still be read, else ``None``.
    """

    def __init__(
        self, reason: str, *, text: str, position: int | None = None, value: Decimal | None = None
    ) -> None:
        where = f" at character {position + 1}" if position is not None else ""
        super().__init__(
            f"invalid amount in words {text!r}{where}: {reason}",
            code="invalid_amount_words",
            details={"text": text, "position": position, "value": None if value is None else str(value)},
        )
        self.text = text
        self.reason = reason
        self.position = position
        self.value = value


class AmountFigureError(BusinessError, ValueError):
    """A figure (小写金额) that is not a CNY amount from 0.00 to 999,999,999,999.99."""

    def __init__(self, reason: str, *, figure: object) -> None:
        super().__init__(f"invalid amount figure {figure!r}: {reason}", code="invalid_amount_figure")
        self.reason = reason


@dataclass(frozen=True)
class AmountCheck:
    """The outcome of comparing an amount in words with its figure.

    Attributes:
        outcome: ``match``, ``mismatch`` (both readable, different values) or ``invalid`` (the
            words or the figure break the rules; goes to a person even if the values agree).
        reason: empty on a match, else what is wrong.
        words_value: the value of the words (read leniently when they break a rule), or ``None``.
        figure_value: the figure as a Decimal, or ``None`` when it is not a valid amount.
    """

    outcome: Literal["match", "mismatch", "invalid"]
    reason: str
    words_value: Decimal | None
    figure_value: Decimal | None = None


def to_amount(figure: Decimal | str | int) -> Decimal:
    """Read a figure (``Decimal``, ``int`` or text such as ``"￥1,234.50"``) as a CNY amount.

    Raises:
        AmountFigureError: not a number, negative, above 999,999,999,999.99 or more than two
            decimal places.
    """
    if isinstance(figure, (bool, float)):
        raise AmountFigureError("amounts must be Decimal or text, never float or bool", figure=figure)
    if isinstance(figure, str):
        cleaned = re.sub(r"^(?:￥|¥|CNY|RMB)", "", figure.strip().upper()).replace(",", "").strip()
        if not re.fullmatch(r"\d+(?:\.\d{1,2})?", cleaned):
            raise AmountFigureError("expected digits with at most 2 decimals, e.g. 1234.50", figure=figure)
        figure = cleaned
    try:
        amount = Decimal(figure)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise AmountFigureError("not a number", figure=figure) from exc
    if not amount.is_finite():
        raise AmountFigureError("not a finite number", figure=figure)
    if amount != amount.quantize(CENT):
        raise AmountFigureError("more than 2 decimal places (CNY has 角 and 分 only)", figure=figure)
    if amount < 0:
        raise AmountFigureError("negative amounts have no words", figure=figure)
    if amount > MAX_AMOUNT:
        raise AmountFigureError(f"above the largest amount in words, {MAX_AMOUNT}", figure=figure)
    return amount.quantize(CENT)


# ---------------------------------------------------------------------------------------------
# Writing: every valid form of a value, canonical first.


def _integer_choices(n: int) -> list[tuple[str, ...]]:
    """Choices (first = canonical) whose product spells the integer ``n`` > 0, without 元."""
    digits = f"{n:012d}"
    nonzero = [11 - i for i, ch in enumerate(digits) if ch != "0"]
    choices: list[tuple[str, ...]] = []
    for index, power in enumerate(nonzero):
        if index > 0:
            previous = nonzero[index - 1]
            if previous // 4 > power // 4:
                choices.append((_MARKER_OF_SECTION[previous // 4],))
            if previous - power > 1:
                crosses_group = previous // 4 != power // 4
                # Rule 4(3): the run ends at 万位/亿位 and the next digit is a 仟: 零 optional.
                choices.append(("", "零") if crosses_group and power % 4 == 3 else ("零",))
        word = DIGITS[int(digits[11 - power])] + _UNIT_OF_POWER[power % 4]
        if index == 0 and word == "壹拾":
            choices.append(("壹拾", "拾"))
        else:
            choices.append((word,))
    if nonzero[-1] // 4 > 0:
        choices.append((_MARKER_OF_SECTION[nonzero[-1] // 4],))
    return choices


def _amount_choices(amount: Decimal) -> list[tuple[str, ...]]:
    cents = int(amount * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if yuan == 0 and jiao == 0 and fen == 0:
        return [("零元整",)]
    choices = [*_integer_choices(yuan), ("元",)] if yuan else [("", "零元")]
    if jiao == 0 and fen == 0:
        return [*choices, ("整",)]
    if jiao:
        if yuan and yuan % 10 == 0:
            choices.append(("零", ""))  # rule 4(3): optional, the canonical form writes it
        choices.append((DIGITS[jiao] + "角",))
        if fen:
            choices.append((DIGITS[fen] + "分",))
        else:
            choices.append(("", "整"))
        return choices
    if yuan:
        choices.append(("零",))  # rule 4(4): 角 is zero, 分 is not
    else:
        choices[0] = ("", "零元零")
    return [*choices, (DIGITS[fen] + "分",)]


def valid_forms(amount: Decimal | str) -> list[str]:
    """Every valid way to write ``amount`` in words without the 人民币 prefix, canonical first.

    Only canonical characters are listed (元 not 圆, 整 not 正); readers map the variants first.
    """
    choices = _amount_choices(to_amount(amount))
    return list(dict.fromkeys("".join(parts) for parts in itertools.product(*choices)))


def amount_to_words(amount: Decimal, *, prefix: bool = False) -> str:
    """The canonical 大写 of ``amount``, e.g. ``Decimal("1680.32")`` -> ``壹仟陆佰捌拾元零叁角贰分``.

    Args:
        amount: 0.00 to 999,999,999,999.99, at most two decimal places.
        prefix: put ``人民币`` in front.

    Raises:
        AmountFigureError: the amount is out of range or has more than two decimals.
    """
    words = "".join(parts[0] for parts in _amount_choices(to_amount(amount)))
    return PREFIX + words if prefix else words


# ---------------------------------------------------------------------------------------------
# Reading: a structural parse for the value, then membership in the valid forms for the rules.


@dataclass(frozen=True)
class _Char:
    char: str
    position: int  # index in the text as written


class _Reader:
    """Reads normalised characters into a Decimal, raising on structures no rule allows."""

    def __init__(self, text: str, chars: list[_Char]) -> None:
        self.text = text
        self.chars = chars

    def fail(self, reason: str, at: _Char | None) -> AmountWordsError:
        return AmountWordsError(reason, text=self.text, position=at.position if at else None)

    def read(self) -> Decimal:
        yuan_marks = [c for c in self.chars if c.char == "元"]
        if len(yuan_marks) > 1:
            raise self.fail("元 written twice", yuan_marks[1])
        yuan, fraction_part = 0, self.chars
        if yuan_marks:
            split = self.chars.index(yuan_marks[0])
            if split == 0:
                raise self.fail("元 with no digits before it", yuan_marks[0])
            yuan = self.read_integer(self.chars[:split])
            fraction_part = self.chars[split + 1 :]
        elif not any(c.char in "角分" for c in self.chars):
            raise self.fail("no 元, 角 or 分: the words must end with 元整, 角 or 分", None)
        return (Decimal(yuan) + self.read_fraction(fraction_part)).quantize(CENT)

    def read_integer(self, chars: list[_Char]) -> int:
        sections: list[list[_Char]] = [[]]
        markers: list[_Char] = []
        for c in chars:
            if c.char in "万亿":
                if markers and markers[-1].char == c.char:
                    raise self.fail(f"{c.char} written twice", c)
                if markers and c.char == "亿":
                    raise self.fail("亿 after 万: amounts of 万亿 and above are out of range", c)
                markers.append(c)
                sections.append([])
            else:
                sections[-1].append(c)
        total = 0
        for index, section in enumerate(sections):
            if index < len(markers) and not any(c.char not in "零" for c in section):
                raise self.fail(f"{markers[index].char} with no digits before it", markers[index])
            value = self.read_group(section, first=index == 0)
            power = {"亿": 8, "万": 4}[markers[index].char] if index < len(markers) else 0
            total += value * 10**power
        return total

    def read_group(self, chars: list[_Char], *, first: bool) -> int:
        """A group below 10,000: ``(d 仟)? (d 佰)? (d 拾)? d?`` with 零 anywhere (checked later)."""
        value, last_power, pending = 0, 4, None
        for index, c in enumerate(chars):
            if c.char == "零":
                if pending is not None:
                    raise self.fail(f"零 right after the digit {pending.char}", c)
                continue
            if c.char in _DIGIT_VALUE:
                if pending is not None:
                    raise self.fail(f"two digits in a row ({pending.char}{c.char}) with no unit", c)
                pending = c
                continue
            if c.char not in _UNIT_POWER:
                raise self.fail(f"{c.char} is out of place inside the yuan amount", c)
            power = _UNIT_POWER[c.char]
            if power >= last_power:
                raise self.fail(f"{c.char} after a smaller or equal unit", c)
            if pending is None:
                if not (first and index == 0 and c.char == "拾"):
                    raise self.fail(f"{c.char} with no digit before it", c)
                digit = 1  # a bare leading 拾 (拾元整) is tolerated and means 壹拾
            else:
                digit = _DIGIT_VALUE[pending.char]
            value += digit * 10**power
            last_power, pending = power, None
        if pending is not None:
            value += _DIGIT_VALUE[pending.char]
        return value

    def read_fraction(self, chars: list[_Char]) -> Decimal:
        """What follows 元: ``零? (d 角)? 零? (d 分)? 整?``."""
        value, pending, seen = Decimal(0), None, ""
        for index, c in enumerate(chars):
            if c.char == "整":
                if index != len(chars) - 1:
                    raise self.fail("整 must end the amount", c)
                if pending is not None:
                    raise self.fail(f"digit {pending.char} with no 角 or 分 after it", pending)
                continue
            if c.char == "零" and pending is None:
                continue
            if c.char in _DIGIT_VALUE:
                if pending is not None:
                    raise self.fail(f"two digits in a row ({pending.char}{c.char}) after 元", c)
                pending = c
                continue
            if c.char in "角分":
                if pending is None:
                    raise self.fail(f"{c.char} with no digit before it", c)
                if c.char in seen or (c.char == "角" and "分" in seen):
                    raise self.fail(f"{c.char} out of order or repeated", c)
                seen += c.char
                value += _DIGIT_VALUE[pending.char] * (Decimal("0.1") if c.char == "角" else CENT)
                pending = None
                continue
            raise self.fail(f"{c.char} is out of place in the 角/分 part", c)
        if pending is not None:
            raise self.fail(f"digit {pending.char} with no 角 or 分 after it", pending)
        return value


def _rule_breaks(written: str, amount: Decimal) -> list[str]:
    """Why ``written`` (normalised, no prefix) is not one of the valid forms of ``amount``."""
    reasons = []
    if written.endswith("元"):
        reasons.append("missing 整 after 元 (rule 2)")
    if "分" in written and written.endswith("整"):
        reasons.append("整 after 分 is not allowed (rule 2)")
    if "零零" in written:
        reasons.append("several consecutive zeros must be written as one 零 (rule 4)")
    if not reasons:
        forms = valid_forms(amount)
        accepted = f" (also accepted: {', '.join(forms[1:])})" if len(forms) > 1 else ""
        reasons.append(f"零 or units placed against rule 4: {amount} is written {forms[0]}{accepted}")
    return reasons


def parse_amount_words(text: str) -> Decimal:
    """Read an amount in words, accepting every valid variant, and return its value.

    Accepted: the ``人民币`` prefix, 元 or 圆, 整 or 正, the traditional 貳陸萬億, a bare
    leading 拾, and 零 wherever rule 4 makes it optional. Surrounding blanks are ignored.

    Raises:
        AmountWordsError: a forbidden character or a form the rules do not allow (missing 整,
            整 after 分, a blank inside, a misplaced or doubled 零...). ``error.value`` holds the
            amount read leniently when the text could still be read.
    """
    if not isinstance(text, str):
        raise AmountWordsError(f"expected text, got {type(text).__name__}", text=repr(text))
    stripped = text.strip()
    offset = len(text) - len(text.lstrip())
    for index, ch in enumerate(stripped):
        if ch in _FORBIDDEN:
            raise AmountWordsError(f"forbidden {_FORBIDDEN[ch]} (rule 1)", text=text, position=offset + index)
        if ch.isdigit():
            raise AmountWordsError(
                f"figure {ch} inside the words (rule 1)", text=text, position=offset + index
            )
    blanks = [offset + m.start() for m in _BLANKS.finditer(stripped)]
    chars = [_Char(ch, offset + i) for i, ch in enumerate(stripped) if not ch.isspace()]
    normalised = "".join(c.char for c in chars).translate(_VARIANTS)
    chars = [_Char(ch, c.position) for ch, c in zip(normalised, chars, strict=True)]
    if normalised.startswith(PREFIX):
        chars = chars[len(PREFIX) :]
    for c in chars:
        if c.char not in _ALLOWED:
            raise AmountWordsError(f"unexpected character {c.char!r}", text=text, position=c.position)
    if not chars:
        raise AmountWordsError("no amount", text=text)
    value = _Reader(text, chars).read()
    if value > MAX_AMOUNT:
        raise AmountWordsError(f"above the largest amount, {MAX_AMOUNT}", text=text, value=value)
    written = "".join(c.char for c in chars)
    reasons = [] if written in valid_forms(value) else _rule_breaks(written, value)
    if blanks:
        reasons.insert(0, "blank inside the amount or after 人民币 (rule 3)")
    if reasons:
        raise AmountWordsError(
            "; ".join(reasons), text=text, position=blanks[0] if blanks else None, value=value
        )
    return value


def check_amount(words: str, figure: Decimal | str) -> AmountCheck:
    """Compare an amount in words with its figure, as a voucher checker must.

    Never raises for bad input: an unreadable figure or words that break the rules give
    ``outcome="invalid"`` with the reason; readable words of another value give ``mismatch``.
    """
    try:
        figure_value: Decimal | None = to_amount(figure)
    except AmountFigureError as exc:
        figure_value = None
        figure_reason = f"figure {figure!r}: {exc.reason}"
    try:
        words_value: Decimal | None = parse_amount_words(words)
        words_reason = ""
    except AmountWordsError as exc:
        words_value = exc.value
        words_reason = exc.message
    if figure_value is None:
        reason = f"{figure_reason}; {words_reason}" if words_reason else figure_reason
        return AmountCheck("invalid", reason, words_value, None)
    if words_reason:
        if words_value is not None and words_value != figure_value:
            words_reason += f"; read leniently the words say {words_value}, the figure is {figure_value}"
        return AmountCheck("invalid", words_reason, words_value, figure_value)
    if words_value != figure_value:
        return AmountCheck(
            "mismatch",
            f"the words say {words_value} ({words}), the figure is {figure_value}",
            words_value,
            figure_value,
        )
    return AmountCheck("match", "", words_value, figure_value)
