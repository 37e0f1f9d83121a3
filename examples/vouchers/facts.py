"""The facts printed on one synthetic voucher: parties, banks, amount, date, purpose, defects.

Everything is drawn from one ``random.Random`` so a seed gives the same vouchers every time.
Bank codes are real 12-digit CNAPS codes (``banks.csv``); the amount in words comes from
``skills.think.checks.amounts.amount_to_words``, the project's one writer of 大写 amounts.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources

from skills.think.checks.amounts import amount_to_words

LAYOUTS = ("wire", "deposit")
DEFECTS = ("amount_mismatch", "bad_account", "bad_bank_code", "unreadable")
FIELDS = (
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

_CITIES = [
    "北京",
    "上海",
    "深圳",
    "广州",
    "杭州",
    "南京",
    "天津",
    "成都",
    "武汉",
    "西安",
    "苏州",
    "厦门",
    "青岛",
    "宁波",
    "长沙",
    "重庆",
]
_TRADE_NAMES = [
    "恒信",
    "华泰",
    "瑞丰",
    "鼎盛",
    "嘉禾",
    "同创",
    "远航",
    "金桥",
    "中联",
    "新元",
    "宏达",
    "安泰",
    "博源",
    "众诚",
    "永利",
    "汇通",
    "天成",
    "润和",
]
_INDUSTRIES = [
    "贸易",
    "科技",
    "建设工程",
    "物流",
    "医药",
    "电子",
    "食品",
    "纺织",
    "能源",
    "信息技术",
    "机械制造",
    "进出口",
    "文化传媒",
    "环保",
]
_COMPANY_FORMS = ("有限公司", "有限责任公司", "股份有限公司")
_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰文斌宇浩凯晨欣怡子涵")
_PURPOSES = (
    "货款",
    "服务费",
    "工程款",
    "往来款",
    "工资",
    "房租",
    "还款",
    "采购原材料",
    "技术服务费",
    "咨询费",
    "运输费",
    "设备款",
    "投标保证金",
    "备用金",
    "差旅费报销",
    "预付货款",
    "合同尾款",
    "软件许可费",
)


@dataclass(frozen=True)
class Bank:
    """A bank branch from the CNAPS directory."""

    code: str
    name: str


@dataclass(frozen=True)
class Party:
    """Payer or payee as printed: name, account number, bank name and 12-digit bank code."""

    name: str
    account: str
    bank: Bank


@dataclass
class VoucherFacts:
    """Everything printed on one voucher, plus what was deliberately made wrong."""

    layout: str
    voucher_no: str
    issued: date
    payer: Party
    payee: Party
    amount: Decimal
    amount_words: str
    purpose: str
    defects: list[str] = field(default_factory=list)

    @property
    def bank_brand(self) -> str:
        """The payer bank's brand for the form's title (``中国工商银行`` of a branch name)."""
        name = self.payer.bank.name
        end = name.find("银行")
        return name[: end + 2] if end >= 0 else name

    def fields(self) -> dict[str, str]:
        """The ground truth of every field, as ``see.voucher`` should report it."""
        return {
            "voucher_no": self.voucher_no,
            "date": self.issued.isoformat(),
            "payer_name": self.payer.name,
            "payer_account": self.payer.account,
            "payer_bank": self.payer.bank.name,
            "payer_bank_code": self.payer.bank.code,
            "payee_name": self.payee.name,
            "payee_account": self.payee.account,
            "payee_bank": self.payee.bank.name,
            "payee_bank_code": self.payee.bank.code,
            "amount_words": self.amount_words,
            "amount_figure": f"{self.amount:.2f}",
            "purpose": self.purpose,
        }


@cache
def load_banks() -> tuple[Bank, ...]:
    """The bank branches of ``banks.csv`` (names NFKC-normalised: half-width brackets)."""
    text = resources.files(__package__).joinpath("banks.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(Bank(row["code"], unicodedata.normalize("NFKC", row["name"])) for row in rows)


def luhn_digit(digits: str) -> str:
    """The Luhn check digit to append to ``digits`` (bank-card numbers)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _company(rng: random.Random) -> str:
    return (
        rng.choice(_CITIES) + rng.choice(_TRADE_NAMES) + rng.choice(_INDUSTRIES) + rng.choice(_COMPANY_FORMS)
    )


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _account(rng: random.Random, personal: bool) -> str:
    if personal:  # a UnionPay debit card: 62 + 16 digits + Luhn
        body = "62" + _digits(rng, 16)
        return body + luhn_digit(body)
    return str(rng.randint(1, 9)) + _digits(rng, rng.choice((11, 14, 15, 16, 17, 18, 19)))


def _party(rng: random.Random) -> Party:
    personal = rng.random() < 0.25
    name = _person(rng) if personal else _company(rng)
    return Party(name=name, account=_account(rng, personal), bank=rng.choice(load_banks()))


def random_amount(rng: random.Random) -> Decimal:
    """An amount from 1.00 to 99,999,999.99 with plenty of zeros, round sums and small change.

    At most eight integer digits, so the 11-column figure grid (亿 to 分) keeps a column for ￥.
    """
    integer_digits = rng.choices(range(1, 9), weights=(3, 6, 10, 12, 12, 10, 8, 5))[0]
    digits = [str(rng.randint(1, 9))] + [
        "0" if rng.random() < 0.3 else str(rng.randint(0, 9)) for _ in range(integer_digits - 1)
    ]
    cents_kind = rng.random()
    if cents_kind < 0.3:
        cents = "00"
    elif cents_kind < 0.45:
        cents = f"{rng.randint(1, 9)}0"
    elif cents_kind < 0.6:
        cents = f"0{rng.randint(1, 9)}"
    else:
        cents = f"{rng.randint(0, 9)}{rng.randint(1, 9)}"
    return Decimal("".join(digits) + "." + cents)


def _other_amount(rng: random.Random, amount: Decimal) -> Decimal:
    """``amount`` with one digit changed: what a wrong 大写 on a voucher typically says."""
    text = f"{amount:.2f}"
    positions = [i for i, ch in enumerate(text) if ch.isdigit()]
    while True:
        index = rng.choice(positions)
        replacement = str(rng.randint(0, 9))
        if replacement == text[index] or (index == 0 and replacement == "0"):
            continue
        changed = Decimal(text[:index] + replacement + text[index + 1 :])
        if changed >= Decimal("0.01"):
            return changed


def _broken_account(rng: random.Random, account: str) -> str:
    """An account no bank would accept: a card with a wrong Luhn digit, or far too short."""
    if account.startswith("62") and len(account) == 19:
        wrong = str((int(account[-1]) + rng.randint(1, 9)) % 10)
        return account[:-1] + wrong
    return _digits(rng, rng.randint(5, 7))


def _broken_bank(rng: random.Random, bank: Bank) -> Bank:
    """The same branch with a wrong check digit (12 digits that fail ISO 7064 MOD 11,10)."""
    wrong = str((int(bank.code[-1]) + rng.randint(1, 9)) % 10)
    return Bank(bank.code[:-1] + wrong, bank.name)


def random_facts(rng: random.Random, layout: str, defects: list[str] | None = None) -> VoucherFacts:
    """Draw one voucher's facts; ``defects`` (from ``DEFECTS``) are applied on purpose."""
    defects = list(defects or [])
    payer, payee = _party(rng), _party(rng)
    while payee.name == payer.name:
        payee = _party(rng)
    amount = random_amount(rng)
    words_amount = _other_amount(rng, amount) if "amount_mismatch" in defects else amount
    if "bad_account" in defects:
        if rng.random() < 0.5:
            payer = Party(payer.name, _broken_account(rng, payer.account), payer.bank)
        else:
            payee = Party(payee.name, _broken_account(rng, payee.account), payee.bank)
    if "bad_bank_code" in defects:
        if rng.random() < 0.5:
            payer = Party(payer.name, payer.account, _broken_bank(rng, payer.bank))
        else:
            payee = Party(payee.name, payee.account, _broken_bank(rng, payee.bank))
    return VoucherFacts(
        layout=layout,
        voucher_no=_digits(rng, 8),
        issued=date(2024, 1, 1) + timedelta(days=rng.randint(0, 729)),
        payer=payer,
        payee=payee,
        amount=amount,
        amount_words=amount_to_words(words_amount),
        purpose=rng.choice(_PURPOSES),
        defects=defects,
    )
