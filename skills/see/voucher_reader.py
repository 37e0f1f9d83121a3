"""Turn the OCR lines of a voucher into its fields, by finding the printed labels.

Steps: deskew the boxes (``voucher_geometry``); detect the form from its title or labels;
mark every box that is a printed label (a box that starts with a label and goes on is split
into label and value); give shared labels (全称, 账号...) to the payer or payee by the section
anchor to their left; read each field's value as the boxes to the right of its label on the
same row, up to the next label; read the figure from the grid (``voucher_grid``); shape-check
each value (``voucher_fields``) and flag what is unsure. Nothing here knows pixel positions of
a particular form, and nothing is guessed: a missing, unsure or misshapen value is flagged.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from skills.see.ocr_engine import OcrLine
from skills.see.voucher_fields import shape
from skills.see.voucher_geometry import Token, deskew, estimate_skew
from skills.see.voucher_grid import read_grid
from skills.see.voucher_layouts import FIELD_NAMES, LAYOUTS, FieldSpec, LayoutSpec

DEFAULT_MIN_CONFIDENCE = 0.9


# Why a field is flagged, for workflows to branch on (``reason`` says it in words).
FLAG_CODES = (
    "form_not_recognised",  # no 电汇凭证 / 进账单 title or labels
    "label_missing",  # the field's label was not read, or not placed in the payer's / payee's block
    "label_ambiguous",  # the label was read more than once for the field
    "value_missing",  # nothing next to the label; no figure grid or no digit in it
    "low_confidence",  # read, but the OCR was unsure
    "shape",  # read clearly, but not shaped like the field (5-digit account, 11-digit bank code...)
    "cut_off",  # the value touches the image border
    "separate_pieces",  # more text further along the row (a seal, a note): cannot tell what belongs
    "grid",  # the figure's digits do not fill the grid from the ￥ to 分
    "second_read",  # a text field read again from its label on says otherwise (voucher_confirm)
    "bank_mismatch",  # the bank name does not name the bank of the code beside it (voucher_banks)
)


@dataclass(frozen=True)
class FieldReading:
    """One field as read: value (``None`` when nothing was read), confidence, flag and why."""

    value: str | None
    confidence: float
    flagged: bool
    reason: str | None = None
    raw: str = ""
    code: str | None = None
    # The boxes the value was read from (deskewed frame), for a second look at an unsure field;
    # for the figure, also the whole digit row of the grid (x0, y0, x1, y1).
    pieces: tuple[Token, ...] = ()
    area: tuple[float, float, float, float] | None = None
    reread: bool = False  # unflagged by the second look (``voucher_reread``)
    # The label the value was read next to, and every box on its row up to the next label that
    # the value was chosen from (``value_row``): the second look chooses again without seal ink.
    label: Token | None = None
    row: tuple[Token, ...] = ()


@dataclass
class VoucherReading:
    """Every field of one voucher, the form detected and the skew corrected."""

    layout: str | None
    skew_degrees: float
    fields: dict[str, FieldReading] = field(default_factory=dict)

    @property
    def flagged(self) -> list[str]:
        return [name for name, reading in self.fields.items() if reading.flagged]


@dataclass(frozen=True)
class _Label:
    label: str
    token: Token


def detect_layout(tokens: Sequence[Token]) -> LayoutSpec | None:
    """The form whose title is printed; failing that, the one with most of its own labels."""
    texts = [t.text.replace(" ", "") for t in tokens]
    for spec in LAYOUTS.values():
        if any(word in text for text in texts for word in spec.title_words):
            return spec
    scores = {}
    for spec in LAYOUTS.values():
        own = set(spec.all_labels()) - {
            lbl for other in LAYOUTS.values() if other is not spec for lbl in other.all_labels()
        }
        scores[spec.name] = sum(1 for text in texts if text in own)
    best = max(scores, key=lambda name: scores[name])
    return LAYOUTS[best] if scores[best] >= 2 else None


def _match_label(text: str, labels: Sequence[str]) -> tuple[str, int] | None:
    """(label, characters it covers) when ``text`` starts with a label or nearly equals one."""
    compact = text.replace(" ", "")
    for label in labels:
        if compact.startswith(label):
            covered, seen = 0, 0
            for index, char in enumerate(text):
                if char != " ":
                    seen += 1
                if seen == len(label):
                    covered = index + 1
                    break
            return label, covered
    from rapidfuzz import fuzz  # only for boxes that are not a label read exactly

    for label in labels:
        if (
            min(len(label), len(compact)) >= 3
            and abs(len(compact) - len(label)) <= 1
            and fuzz.ratio(compact, label) >= 80
        ):
            return label, len(text)
    return None


def _split_labels(tokens: Sequence[Token], spec: LayoutSpec) -> tuple[list[_Label], list[Token]]:
    """Separate printed labels from values (splitting boxes that hold a label and its value)."""
    labels: list[_Label] = []
    values: list[Token] = []
    known = spec.all_labels()
    for token in tokens:
        matched = _match_label(token.text, known)
        if matched is None:
            values.append(token)
            continue
        label, covered = matched
        if covered >= len(token.text):
            labels.append(_Label(label, token))
            continue
        head, tail = token.split_at(covered)
        labels.append(_Label(label, head))
        tail_text = tail.text.lstrip(" :")
        if tail_text:
            values.append(Token(tail_text, tail.confidence, tail.x0, tail.y0, tail.x1, tail.y1, tail.at_edge))
    return labels, values


def _section_of(
    label: _Label, anchors: Mapping[str, list[Token]], same_label: Sequence[_Label]
) -> str | None:
    """``payer``, ``payee`` or ``None`` (cannot tell) for a label both parties have.

    Two such labels on one row: the left one is the payer's. A label alone on its row (its
    twin unread) goes to the nearest section anchor on its left, but only when both anchors
    were read: with one anchor missing, "nearest on the left" may be the wrong block.
    """
    on_row = sorted((o for o in same_label if _same_row(label.token, o.token)), key=lambda o: o.token.cx)
    if len(on_row) >= 2:
        if label is on_row[0]:
            return "payer"
        return "payee" if label is on_row[-1] else None
    if not all(anchors.values()):
        return None
    left_anchors = [(t.cx, name) for name, found in anchors.items() for t in found if t.cx < label.token.cx]
    return max(left_anchors)[1] if left_anchors else None


def _same_row(reference: Token, token: Token) -> bool:
    """Centres at most ~half a line apart (rows of a form are about two lines apart)."""
    return abs(token.cy - reference.cy) <= 0.45 * max(reference.height, token.height)


def value_row(
    label: Token, values: Sequence[Token], labels: Sequence[_Label], stop_x: float | None
) -> list[Token]:
    """Boxes right of ``label`` on its row, before the next label (or ``stop_x``), left to right.

    OCR boxes are padded, so a value printed close to its label may overlap the label's box: a
    box counts as "right of the label" when its centre is past the label's end and its left edge
    past the label's centre.
    """

    def right_of_label(token: Token) -> bool:
        return token.cx > label.x1 and token.x0 > label.cx and _same_row(label, token)

    limit = min((lb.token.x0 for lb in labels if right_of_label(lb.token)), default=float("inf"))
    if stop_x is not None:
        limit = min(limit, stop_x)
    return sorted((t for t in values if right_of_label(t) and t.cx < limit), key=lambda t: t.x0)


def chain_value(label: Token, row: Sequence[Token]) -> list[Token]:
    """The value's boxes among ``row`` (``value_row``): a run starting next to the label, each box
    in line with the one before it, stopping at a gap of more than ten line heights."""
    chosen: list[Token] = []
    previous = label
    for token in row:
        if token.x0 - previous.x1 > 10 * label.height:
            break
        if previous is not label and not _same_row(previous, token):
            continue  # on the label's row band but not in line with the value: the next row
        chosen.append(token)
        previous = token
    return chosen


def _find_label(
    spec: FieldSpec, labels: Sequence[_Label], sections: Mapping[int, str | None]
) -> _Label | tuple[str, str]:
    """The label of ``spec`` on the voucher, or (flag code, reason) why it cannot be used."""
    for wanted in spec.labels:
        found = [
            item
            for index, item in enumerate(labels)
            if item.label == wanted and (spec.section is None or sections[index] == spec.section)
        ]
        if len(found) > 1:
            return "label_ambiguous", f"the label {wanted} was read {len(found)} times for this field"
        if found:
            return found[0]
    if spec.section and any(item.label in spec.labels for item in labels):
        names = " / ".join(spec.labels)
        return "label_missing", f"the label {names} was read but not placed in the {spec.section}'s block"
    return "label_missing", f"the label {' / '.join(spec.labels)} was not found"


def read_fields(
    lines: Sequence[OcrLine],
    *,
    width: float,
    height: float,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    figure_min_confidence: float | None = None,
    layout: str | None = None,
) -> VoucherReading:
    """Read every voucher field from the OCR lines of one image of ``width`` x ``height``.

    Args:
        lines: What the OCR engine read.
        width: Image width in pixels (the boxes are deskewed around the image centre).
        height: Image height in pixels.
        min_confidence: Fields read with a lower OCR confidence are flagged.
        figure_min_confidence: The same for the figure grid's single digits (defaults to
            ``min_confidence``); the figure is also checked against the words downstream.
        layout: ``wire`` or ``deposit`` to skip detection.
    """
    skew = estimate_skew(lines)
    tokens = deskew(lines, skew, (width, height))
    spec = LAYOUTS.get(layout) if layout else detect_layout(tokens)
    if spec is None:
        reason = "the voucher form was not recognised (no 电汇凭证 / 进账单 title or labels read)"
        return VoucherReading(
            None,
            skew,
            {name: FieldReading(None, 0.0, True, reason, code="form_not_recognised") for name in FIELD_NAMES},
        )
    grid = read_grid(tokens)
    grid_tokens = {id(t) for t in (*grid.header, *grid.digits)}
    labels, values = _split_labels([t for t in tokens if id(t) not in grid_tokens], spec)
    anchors = {
        "payer": [lb.token for lb in labels if lb.label in spec.payer_anchors],
        "payee": [lb.token for lb in labels if lb.label in spec.payee_anchors],
    }
    sections = {
        i: _section_of(lb, anchors, [o for o in labels if o.label == lb.label]) for i, lb in enumerate(labels)
    }
    reading = VoucherReading(spec.name, skew)
    for field_spec in spec.fields:
        if field_spec.kind == "amount_figure":
            threshold = min_confidence if figure_min_confidence is None else figure_min_confidence
            problem = None
            if grid.problem:
                problem = ("value_missing" if grid.value is None else "grid", grid.problem)
            reading.fields[field_spec.name] = replace(
                _judge(grid.value, grid.confidence, problem, threshold, grid.value or "", grid.digits),
                area=grid.digit_row,
            )
            continue
        found = _find_label(field_spec, labels, sections)
        stop = grid.left if field_spec.kind == "amount_words" else None
        reading.fields[field_spec.name] = _read_field(field_spec, found, values, labels, stop, min_confidence)
    return reading


def _read_field(
    spec: FieldSpec,
    found: _Label | tuple[str, str],
    values: Sequence[Token],
    labels: Sequence[_Label],
    stop_x: float | None,
    min_confidence: float,
) -> FieldReading:
    if isinstance(found, tuple):
        return FieldReading(None, 0.0, True, found[1], code=found[0])
    row = value_row(found.token, values, labels, stop_x)
    chosen = chain_value(found.token, row)
    if not chosen:
        return FieldReading(
            None, 0.0, True, f"nothing was read next to the label {found.label}", code="value_missing"
        )
    raw = "".join(t.text for t in chosen)
    shaped = shape(spec.kind, raw)
    confidence = min(t.confidence for t in chosen)
    problem = ("shape", shaped.problem) if shaped.problem else None
    if problem is None and any(t.at_edge for t in chosen):
        problem = ("cut_off", "the value runs to the edge of the image and may be cut off")
    if problem is None and in_separate_pieces(chosen):
        # A value is printed as one run; text further along the row is a stamp, a note or
        # a neighbour, and cannot be told apart from the value here.
        pieces = " | ".join(t.text for t in chosen)
        problem = (
            "separate_pieces",
            f"expected one run of text next to {found.label}, read separate pieces {pieces!r}",
        )
    judged = _judge(shaped.value, confidence, problem, min_confidence, raw, tuple(chosen))
    return replace(judged, label=found.token, row=tuple(row))


def in_separate_pieces(tokens: Sequence[Token]) -> bool:
    """True when boxes along a row leave a gap wider than 1.5 line heights between them."""
    ordered = sorted(tokens, key=lambda t: t.x0)
    line_height = min((t.height for t in ordered), default=0.0)
    return any(b.x0 - a.x1 > 1.5 * line_height for a, b in itertools.pairwise(ordered))


def _judge(
    value: str | None,
    confidence: float,
    problem: tuple[str, str] | None,
    threshold: float,
    raw: str,
    pieces: tuple[Token, ...] = (),
) -> FieldReading:
    if problem:
        return FieldReading(value, confidence, True, problem[1], raw, problem[0], pieces)
    if value is None:
        return FieldReading(None, confidence, True, "nothing was read", raw, "value_missing", pieces)
    if confidence < threshold:
        reason = f"OCR confidence {confidence:.3f} is below {threshold:.2f}"
        return FieldReading(value, confidence, True, reason, raw, "low_confidence", pieces)
    return FieldReading(value, confidence, False, None, raw, pieces=pieces)
