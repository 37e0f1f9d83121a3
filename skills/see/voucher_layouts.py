"""The printed labels of each voucher form and the field each label introduces.

A field is found by its label, never by pixel position: the value is the text to the right of
the label on the same row, up to the next printed label. Labels shared by both parties (全称,
账号...) belong to the payer or the payee by the section anchor (汇款人 / 出票人 / 付款人 or
收款人) nearest to their left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["text", "account", "bank_code", "number", "date", "amount_words", "amount_figure"]
Section = Literal["payer", "payee"]

GRID_UNITS = "亿千百十万千百十元角分"
FIELD_NAMES = (
    "voucher_no",
    "date",
    "payer_name",
    "payer_account",
    "payer_bank",
    "payer_bank_code",
    "payee_name",
    "payee_account",
    "payee_bank",
    "payee_bank_code",
    "amount_words",
    "amount_figure",
    "purpose",
)


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form: its name, the labels that introduce it, its section and kind."""

    name: str
    labels: tuple[str, ...]
    kind: FieldKind
    section: Section | None = None


@dataclass(frozen=True)
class LayoutSpec:
    """A voucher form: title words, section anchors, fields and the other printed labels."""

    name: str
    title_words: tuple[str, ...]
    payer_anchors: tuple[str, ...]
    payee_anchors: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    other_labels: tuple[str, ...]

    def all_labels(self) -> tuple[str, ...]:
        """Every printed label (longest first, so 汇出行行号 wins over 行号)."""
        labels = {label for spec in self.fields for label in spec.labels}
        labels.update(self.payer_anchors, self.payee_anchors, self.other_labels, self.title_words)
        return tuple(sorted(labels, key=lambda label: (-len(label), label)))

    def field(self, name: str) -> FieldSpec:
        return next(spec for spec in self.fields if spec.name == name)


_COMMON_OTHER = ("金额", "复核", "记账", "(回单)", "回单", "普通", "加急", "□普通□加急", "小写")

WIRE = LayoutSpec(
    name="wire",
    title_words=("电汇凭证",),
    payer_anchors=("汇款人", "付款人"),
    payee_anchors=("收款人",),
    fields=(
        FieldSpec("voucher_no", ("凭证号", "凭证编号"), "number"),
        FieldSpec("date", ("委托日期", "日期"), "date"),
        FieldSpec("payer_name", ("全称",), "text", "payer"),
        FieldSpec("payer_account", ("账号",), "account", "payer"),
        FieldSpec("payer_bank", ("汇出行名称", "开户银行"), "text", "payer"),
        FieldSpec("payer_bank_code", ("汇出行行号", "行号"), "bank_code", "payer"),
        FieldSpec("payee_name", ("全称",), "text", "payee"),
        FieldSpec("payee_account", ("账号",), "account", "payee"),
        FieldSpec("payee_bank", ("汇入行名称", "开户银行"), "text", "payee"),
        FieldSpec("payee_bank_code", ("汇入行行号", "行号"), "bank_code", "payee"),
        FieldSpec("amount_words", ("人民币(大写)", "人民币大写", "大写"), "amount_words"),
        FieldSpec("amount_figure", (), "amount_figure"),
        FieldSpec("purpose", ("附加信息及用途", "用途"), "text"),
    ),
    other_labels=(*_COMMON_OTHER, "汇款人签章", "支付密码", "汇出地点", "汇入地点"),
)

DEPOSIT = LayoutSpec(
    name="deposit",
    title_words=("进账单",),
    payer_anchors=("出票人", "付款人"),
    payee_anchors=("收款人",),
    fields=(
        FieldSpec("voucher_no", ("凭证号", "凭证编号"), "number"),
        FieldSpec("date", ("日期",), "date"),
        FieldSpec("payer_name", ("全称",), "text", "payer"),
        FieldSpec("payer_account", ("账号",), "account", "payer"),
        FieldSpec("payer_bank", ("开户银行",), "text", "payer"),
        FieldSpec("payer_bank_code", ("行号",), "bank_code", "payer"),
        FieldSpec("payee_name", ("全称",), "text", "payee"),
        FieldSpec("payee_account", ("账号",), "account", "payee"),
        FieldSpec("payee_bank", ("开户银行",), "text", "payee"),
        FieldSpec("payee_bank_code", ("行号",), "bank_code", "payee"),
        FieldSpec("amount_words", ("人民币(大写)", "人民币大写", "大写"), "amount_words"),
        FieldSpec("amount_figure", (), "amount_figure"),
        FieldSpec("purpose", ("用途",), "text"),
    ),
    other_labels=(*_COMMON_OTHER, "票据种类", "票据张数", "票据号码", "收款人开户银行签章", "开户银行签章"),
)

LAYOUTS: dict[str, LayoutSpec] = {spec.name: spec for spec in (WIRE, DEPOSIT)}
