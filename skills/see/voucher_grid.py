"""Read the amount in figures from the 小写 grid (亿 千 百 十 万 千 百 十 元 角 分).

The printed unit header gives the columns: a straight line ``x = start + pitch * column`` is
fitted through the header characters found (亿 万 元 角 分 are unique; 千 百 十 are placed by
their side of 万). Each digit read below the header is put in the nearest column. The figure
is only accepted when the digits fill every column from the first digit to 分, one digit per
column, each close to its column's centre; anything else is a flagged reading, never a guess.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from skills.see.voucher_geometry import Token
from skills.see.voucher_layouts import GRID_UNITS

_UNIQUE_COLUMN = {"亿": 0, "万": 4, "元": 8, "角": 9, "分": 10}
_LEFT_OF_WAN = {"千": 1, "百": 2, "十": 3}
_RIGHT_OF_WAN = {"千": 5, "百": 6, "十": 7}
_UNIT_CHARS = set(GRID_UNITS)
# What the recogniser reads for a lone unit character now and then.
_UNIT_ALIASES = str.maketrans({"干": "千", "+": "十", "土": "十", "仟": "千", "佰": "百", "拾": "十"})


@dataclass(frozen=True)
class GridReading:
    """The figure read from the grid (``None`` when no digit was found) and any problem."""

    value: str | None
    confidence: float
    problem: str | None
    header: tuple[Token, ...] = ()
    digits: tuple[Token, ...] = ()

    @property
    def left(self) -> float | None:
        """Left edge of the grid header, where the amount in words must stop."""
        return min(token.x0 for token in self.header) if self.header else None

    @property
    def digit_row(self) -> tuple[float, float, float, float] | None:
        """(x0, y0, x1, y1) of the digit row under the whole header, when digits were read."""
        if not self.header or not self.digits:
            return None
        return (
            min(token.x0 for token in self.header),
            min(token.y0 for token in self.digits),
            max(token.x1 for token in self.header),
            max(token.y1 for token in self.digits),
        )


def is_unit_token(token: Token) -> bool:
    """True for a box that holds only grid unit characters (a header cell or the whole header)."""
    text = token.text.translate(_UNIT_ALIASES)
    return bool(text) and all(ch in _UNIT_CHARS for ch in text)


def _header_row(tokens: Sequence[Token]) -> list[Token]:
    """The largest set of unit boxes lying on one row."""
    units = [t for t in tokens if is_unit_token(t)]
    best: list[Token] = []
    for anchor in units:
        row = [t for t in units if abs(t.cy - anchor.cy) <= 0.6 * max(anchor.height, t.height)]
        if sum(len(t.text) for t in row) > sum(len(t.text) for t in best):
            best = row
    return sorted(best, key=lambda t: t.x0)


def _fit_columns(header: Sequence[Token]) -> tuple[float, float] | None:
    """(start, pitch) of the column centres, or ``None`` when the header cannot place them."""
    chars = [(ch.translate(_UNIT_ALIASES), x) for token in header for ch, x in token.char_centres()]
    if len(chars) == len(GRID_UNITS) and "".join(ch for ch, _ in chars) == GRID_UNITS:
        known = [(column, x) for column, (_, x) in enumerate(chars)]
    else:
        wan = next((x for ch, x in chars if ch == "万"), None)
        known = []
        for ch, x in chars:
            if ch in _UNIQUE_COLUMN:
                known.append((_UNIQUE_COLUMN[ch], x))
            elif wan is not None:
                known.append(((_LEFT_OF_WAN if x < wan else _RIGHT_OF_WAN)[ch], x))
        if len({column for column, _ in known}) != len(known):
            return None
    if len(known) < 2:
        return None
    mean_c = statistics.fmean(c for c, _ in known)
    mean_x = statistics.fmean(x for _, x in known)
    spread = sum((c - mean_c) ** 2 for c, _ in known)
    if spread == 0:
        return None
    pitch = sum((c - mean_c) * (x - mean_x) for c, x in known) / spread
    if pitch <= 0:
        return None
    return mean_x - pitch * mean_c, pitch


def _digit_row(
    tokens: Sequence[Token], row_y: float, row_height: float, left: float, right: float
) -> list[Token]:
    """The boxes on the first row under the header that holds digits, within the grid's width."""
    under = [
        t
        for t in tokens
        if not is_unit_token(t)
        and row_y + 0.5 * row_height < t.cy < row_y + 3.0 * row_height
        and left < t.cx < right
    ]
    with_digits = [t for t in under if sum(ch.isdigit() for ch in t.text) * 2 >= len(t.text)]
    if not with_digits:
        return []
    nearest = min(with_digits, key=lambda t: t.cy)
    return [t for t in under if abs(t.cy - nearest.cy) <= 0.6 * max(nearest.height, row_height)]


def read_grid(tokens: Sequence[Token]) -> GridReading:
    """Find the unit header among ``tokens`` and read the digits beneath it."""
    header = _header_row(tokens)
    fitted = _fit_columns(header) if header else None
    if fitted is None:
        return GridReading(None, 0.0, "the figure grid (亿千百十万千百十元角分) was not found", tuple(header))
    start, pitch = fitted
    row_height = statistics.median(t.height for t in header)
    row_y = statistics.fmean(t.cy for t in header)
    left, right = start - 0.7 * pitch, start + pitch * (len(GRID_UNITS) - 1) + 0.7 * pitch
    below = _digit_row(tokens, row_y, row_height, left, right)
    columns: dict[int, tuple[str, Token]] = {}
    others: list[tuple[int, str]] = []
    for token in below:
        for char, x in token.char_centres():
            column = round((x - start) / pitch)
            off_centre = abs(x - (start + pitch * column)) > 0.4 * pitch
            if not char.isdigit():
                others.append((column, char))
            elif column in columns or not 0 <= column < len(GRID_UNITS) or off_centre:
                return GridReading(
                    None,
                    0.0,
                    f"a digit {char!r} does not sit in a free grid column",
                    tuple(header),
                    tuple(below),
                )
            else:
                columns[column] = (char, token)
    if not columns:
        return GridReading(None, 0.0, "no digit was read in the figure grid", tuple(header), tuple(below))
    first = min(columns)
    digits_used = tuple(dict.fromkeys(token for _, token in columns.values()))
    confidence = min(token.confidence for token in digits_used)
    figure = "".join(columns[c][0] for c in sorted(columns))
    problem = None
    missing = [GRID_UNITS[c] for c in range(first, len(GRID_UNITS)) if c not in columns]
    stray = [char for column, char in others if column >= first]
    if missing:
        problem = (
            f"the figure grid has empty columns {''.join(missing)} after the first digit (read {figure})"
        )
    elif stray:
        problem = f"the figure grid holds {''.join(stray)!r} among the digits (read {figure})"
    elif first < 8 and figure[0] == "0":
        problem = f"the figure starts with a 0 before 元 (read {figure})"
    elif first > 0 and not any(column == first - 1 for column, _ in others):
        # The ￥ closes the figure on the left. Without it a leading digit the detector missed
        # would go unnoticed: the digits read would still fill the columns up to 分.
        problem = (
            f"no ￥ was read just before the first digit, so a leading digit may be missing (read {figure})"
        )
    if len(figure) < 3:
        return GridReading(
            None, confidence, problem or f"only {figure!r} was read in the grid", tuple(header), digits_used
        )
    value = f"{int(figure[:-2])}.{figure[-2:]}" if not problem else f"{figure[:-2]}.{figure[-2:]}"
    return GridReading(value, confidence, problem, tuple(header), digits_used)
