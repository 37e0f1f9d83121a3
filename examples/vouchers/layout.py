"""Draw the two voucher forms of the spec digest (section 6) with Pillow.

* ``wire``: 电汇凭证 (domestic wire): 委托日期, 凭证号; 汇款人 and 收款人 blocks with 全称, 账号,
  汇出行名称 / 汇入行名称 and 汇出行行号 / 汇入行行号; 金额 人民币(大写) plus the figure grid
  亿千百十万千百十元角分 with ￥ before the first digit; 附加信息及用途.
* ``deposit``: 进账单 (deposit slip): 日期, 凭证号; 出票人 and 收款人 blocks with 全称, 账号, 开户银行,
  行号; the same amount block; 票据种类, 票据张数, 用途.

The form is printed in one ink colour and the filled-in values in black, with a slightly
different font, size and offset on each voucher, as when a printer fills in a pre-printed form.
``Rendered.field_boxes`` says where each value landed (in the coordinates of the clean image).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from examples.vouchers.facts import VoucherFacts
from examples.vouchers.fonts import FontFace, cjk_face

WIDTH, HEIGHT = 1800, 700
GRID_UNITS = "亿千百十万千百十元角分"
_TOP = 160
_ROW = 66
_LEFT, _RIGHT, _MIDDLE = 50, 1750, 900
_GRID_LEFT, _GRID_COLUMN = 1090, 60

Box = tuple[int, int, int, int]


@dataclass
class Rendered:
    """A drawn voucher and where its values are (x0, y0, x1, y1 in image pixels)."""

    image: Image.Image
    field_boxes: dict[str, Box] = field(default_factory=dict)


@dataclass
class _Style:
    ink: tuple[int, int, int]
    value_face: FontFace
    value_size: int
    jitter_x: int
    jitter_y: int
    group_accounts: bool


class _Form:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.image = Image.new("RGB", (WIDTH, HEIGHT), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.style = _Style(
            ink=rng.choice([(25, 45, 120), (20, 90, 60), (40, 40, 40), (90, 30, 30)]),
            value_face=cjk_face(rng.choice(["sans", "serif", "hei"])),
            value_size=rng.randint(26, 30),
            jitter_x=rng.randint(-6, 10),
            jitter_y=rng.randint(-4, 4),
            group_accounts=rng.random() < 0.2,
        )
        self.boxes: dict[str, Box] = {}

    def rule(self, x0: int, y0: int, x1: int, y1: int, width: int = 2) -> None:
        self.draw.line((x0, y0, x1, y1), fill=self.style.ink, width=width)

    def rect(self, x0: int, y0: int, x1: int, y1: int, width: int = 2) -> None:
        self.draw.rectangle((x0, y0, x1, y1), outline=self.style.ink, width=width)

    def label(
        self, text: str, x0: int, y0: int, x1: int, y1: int, size: int = 26, bold: bool = False
    ) -> None:
        """Printed form text, centred in the cell."""
        face = cjk_face("sans_bold" if bold else "sans")
        self.draw.text(
            ((x0 + x1) / 2, (y0 + y1) / 2), text, font=face.at(size), fill=self.style.ink, anchor="mm"
        )

    def label_at(self, text: str, x: int, y: int, size: int = 26) -> int:
        """Printed form text starting at (x, middle y); returns its right edge."""
        font = cjk_face("sans").at(size)
        self.draw.text((x, y), text, font=font, fill=self.style.ink, anchor="lm")
        return int(self.draw.textbbox((x, y), text, font=font, anchor="lm")[2])

    def value(
        self, name: str, text: str, x0: int, y0: int, x1: int, y1: int, size: int | None = None
    ) -> None:
        """A filled-in value, left-aligned with a margin, shrunk until it fits the cell."""
        size = size or self.style.value_size
        left, middle = x0 + 14 + self.style.jitter_x, (y0 + y1) / 2 + self.style.jitter_y
        font = self.style.value_face.at(size)
        while size > 16 and self.draw.textlength(text, font=font) > x1 - left - 10:
            size -= 1
            font = self.style.value_face.at(size)
        self.draw.text((left, middle), text, font=font, fill=(15, 15, 15), anchor="lm")
        bbox = self.draw.textbbox((left, middle), text, font=font, anchor="lm")
        self.boxes[name] = (int(bbox[0]), int(bbox[1]), int(bbox[2]), int(bbox[3]))

    def account_text(self, account: str) -> str:
        if not self.style.group_accounts:
            return account
        return " ".join(account[i : i + 4] for i in range(0, len(account), 4))

    def title(self, text: str, brand: str) -> None:
        self.draw.text(
            (WIDTH / 2, 52), text, font=cjk_face("sans_bold").at(46), fill=self.style.ink, anchor="mm"
        )
        width = self.draw.textlength(text, font=cjk_face("sans_bold").at(46))
        self.rule(int(WIDTH / 2 - width / 2), 84, int(WIDTH / 2 + width / 2), 84, 2)
        self.rule(int(WIDTH / 2 - width / 2), 90, int(WIDTH / 2 + width / 2), 90, 2)
        self.label_at(brand, _LEFT + 10, 52, size=30)
        self.label_at("(回单)", int(WIDTH / 2 + width / 2) + 20, 58, size=24)

    def header(self, facts: VoucherFacts, date_label: str) -> None:
        y = 128
        end = self.label_at(date_label, 620, y)
        when = f"{facts.issued.year}年{facts.issued.month:02d}月{facts.issued.day:02d}日"
        self.value("date", when, end + 4, y - 22, end + 340, y + 22)
        end = self.label_at("凭证号", 1300, y)
        self.value("voucher_no", facts.voucher_no, end + 4, y - 22, end + 260, y + 22)

    def party_block(self, x: int, anchor: str, labels: list[tuple[str, str, str]]) -> None:
        """One side of the table: an anchor cell, then rows of label | value."""
        right = x + (_MIDDLE - _LEFT)
        self.label(anchor, x, _TOP, x + 100, _TOP + 4 * _ROW, size=28, bold=True)
        self.rule(x + 100, _TOP, x + 100, _TOP + 4 * _ROW)
        self.rule(x + 280, _TOP, x + 280, _TOP + 4 * _ROW)
        for row, (label, name, text) in enumerate(labels):
            y0 = _TOP + row * _ROW
            if row:
                self.rule(x + 100, y0, right, y0, 1)
            self.label(label, x + 100, y0, x + 280, y0 + _ROW)
            self.value(name, text, x + 280, y0, right, y0 + _ROW)

    def amount_block(self, facts: VoucherFacts) -> None:
        y0, y1 = _TOP + 4 * _ROW, _TOP + 4 * _ROW + 124
        self.rule(_LEFT, y0, _RIGHT, y0)
        self.label("金额", _LEFT, y0, _LEFT + 100, y1, size=28, bold=True)
        self.rule(_LEFT + 100, y0, _LEFT + 100, y1)
        self.label("人民币(大写)", _LEFT + 100, y0, _LEFT + 280, y1, size=25)
        self.rule(_LEFT + 280, y0, _LEFT + 280, y1)
        self.value("amount_words", facts.amount_words, _LEFT + 280, y0, _GRID_LEFT, y1, size=30)
        grid_right = _GRID_LEFT + _GRID_COLUMN * len(GRID_UNITS)
        self.rule(_GRID_LEFT, y0, _GRID_LEFT, y1)
        middle = y0 + 52
        self.rule(_GRID_LEFT, middle, grid_right, middle, 1)
        figure = f"{facts.amount:.2f}".replace(".", "")
        first = len(GRID_UNITS) - len(figure)
        digit_font = self.style.value_face.at(32)
        for column, unit in enumerate(GRID_UNITS):
            cx0 = _GRID_LEFT + column * _GRID_COLUMN
            if column:
                self.rule(cx0, y0, cx0, y1, 2 if unit in "元万" else 1)
            self.label(unit, cx0, y0, cx0 + _GRID_COLUMN, middle, size=24)
            char = "￥" if column == first - 1 else figure[column - first] if column >= first else ""
            if char:
                self.draw.text(
                    (cx0 + _GRID_COLUMN / 2, (middle + y1) / 2),
                    char,
                    font=digit_font,
                    fill=(15, 15, 15),
                    anchor="mm",
                )
        left = _GRID_LEFT + (first - 1) * _GRID_COLUMN
        self.boxes["amount_figure"] = (left, middle, grid_right, y1)
        self.rule(_LEFT, y1, _RIGHT, y1)


def _draw_wire(form: _Form, facts: VoucherFacts) -> None:
    form.title("电汇凭证", facts.bank_brand)
    form.label_at("□普通  □加急", _LEFT + 10, 128, size=24)
    form.header(facts, "委托日期")
    form.rect(_LEFT, _TOP, _RIGHT, _TOP + 4 * _ROW + 124 + _ROW, 3)
    form.rule(_MIDDLE, _TOP, _MIDDLE, _TOP + 4 * _ROW)
    p, q = facts.payer, facts.payee
    form.party_block(
        _LEFT,
        "汇款人",
        [
            ("全称", "payer_name", p.name),
            ("账号", "payer_account", form.account_text(p.account)),
            ("汇出行名称", "payer_bank", p.bank.name),
            ("汇出行行号", "payer_bank_code", p.bank.code),
        ],
    )
    form.party_block(
        _MIDDLE,
        "收款人",
        [
            ("全称", "payee_name", q.name),
            ("账号", "payee_account", form.account_text(q.account)),
            ("汇入行名称", "payee_bank", q.bank.name),
            ("汇入行行号", "payee_bank_code", q.bank.code),
        ],
    )
    form.amount_block(facts)
    y0 = _TOP + 4 * _ROW + 124
    form.label("附加信息及用途", _LEFT, y0, _LEFT + 280, y0 + _ROW, size=25)
    form.rule(_LEFT + 280, y0, _LEFT + 280, y0 + _ROW)
    form.value("purpose", facts.purpose, _LEFT + 280, y0, _RIGHT, y0 + _ROW)
    footer = y0 + _ROW + 40
    form.label_at("汇款人签章", _LEFT + 10, footer, size=24)
    form.label_at("复核", 1300, footer, size=24)
    form.label_at("记账", 1520, footer, size=24)


def _draw_deposit(form: _Form, facts: VoucherFacts) -> None:
    form.title("进账单", facts.bank_brand)
    form.header(facts, "日期")
    form.rect(_LEFT, _TOP, _RIGHT, _TOP + 4 * _ROW + 124 + _ROW, 3)
    form.rule(_MIDDLE, _TOP, _MIDDLE, _TOP + 4 * _ROW)
    for x, anchor, party, prefix in (
        (_LEFT, "出票人", facts.payer, "payer"),
        (_MIDDLE, "收款人", facts.payee, "payee"),
    ):
        form.party_block(
            x,
            anchor,
            [
                ("全称", f"{prefix}_name", party.name),
                ("账号", f"{prefix}_account", form.account_text(party.account)),
                ("开户银行", f"{prefix}_bank", party.bank.name),
                ("行号", f"{prefix}_bank_code", party.bank.code),
            ],
        )
    form.amount_block(facts)
    y0, y1 = _TOP + 4 * _ROW + 124, _TOP + 5 * _ROW + 124
    form.label("票据种类", _LEFT, y0, _LEFT + 140, y1)
    form.rule(_LEFT + 140, y0, _LEFT + 140, y1)
    form.draw.text(
        (_LEFT + 160, (y0 + y1) / 2),
        "转账支票",
        font=form.style.value_face.at(26),
        fill=(15, 15, 15),
        anchor="lm",
    )
    form.rule(_LEFT + 390, y0, _LEFT + 390, y1)
    form.label("票据张数", _LEFT + 390, y0, _LEFT + 530, y1)
    form.rule(_LEFT + 530, y0, _LEFT + 530, y1)
    form.draw.text(
        (_LEFT + 560, (y0 + y1) / 2), "1", font=form.style.value_face.at(26), fill=(15, 15, 15), anchor="lm"
    )
    form.rule(_MIDDLE + 100, y0, _MIDDLE + 100, y1)
    form.label("用途", _MIDDLE + 100, y0, _MIDDLE + 280, y1)
    form.rule(_MIDDLE + 280, y0, _MIDDLE + 280, y1)
    form.value("purpose", facts.purpose, _MIDDLE + 280, y0, _RIGHT, y1)
    footer = y1 + 40
    form.label_at("复核", _LEFT + 10, footer, size=24)
    form.label_at("记账", _LEFT + 200, footer, size=24)
    form.label_at("收款人开户银行签章", 1400, footer, size=24)


def render(facts: VoucherFacts, rng: random.Random) -> Rendered:
    """Draw ``facts`` on the form of ``facts.layout``."""
    form = _Form(rng)
    if facts.layout == "wire":
        _draw_wire(form, facts)
    elif facts.layout == "deposit":
        _draw_deposit(form, facts)
    else:
        raise ValueError(f"expected layout 'wire' or 'deposit', got {facts.layout!r}")
    return Rendered(form.image, dict(form.boxes))
