"""Validation of the payment entry screen (messages in Chinese, as the terminal shows them).

Each message starts with the field's label and says what was expected and what was found; the
screen prefixes the first one with ``错误: `` in its status line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from stdnum.iso7064 import mod_11_10

from examples.platforms.common.money import AmountError, parse_amount

FIELD_LABELS = {
    "reference": "业务参考号",
    "payer_account": "付款人账号",
    "payer_name": "付款人名称",
    "payee_account": "收款人账号",
    "payee_name": "收款人名称",
    "payee_bank_code": "收款行行号",
    "amount": "金额",
    "purpose": "用途",
}
"""Entry fields in screen (and Tab) order, with their labels."""

MAX_REFERENCE = 35
MAX_NAME = 60
MAX_PURPOSE = 60
_REFERENCE = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]+")  # the SWIFT "x" character set
_ACCOUNT = re.compile(r"\d{8,32}")
_BANK_CODE = re.compile(r"\d{12}")


@dataclass(frozen=True)
class PaymentInput:
    """A validated payment entry."""

    reference: str
    payer_account: str
    payer_name: str
    payee_account: str
    payee_name: str
    payee_bank_code: str
    amount: Decimal
    purpose: str


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field and what is wrong with it."""

    field: str
    message: str


def validate_payment(values: Mapping[str, str]) -> tuple[PaymentInput | None, list[FieldProblem]]:
    """Check the entry screen's fields, in screen order.

    Args:
        values: field name (keys of :data:`FIELD_LABELS`) to typed text; missing means empty.

    Returns:
        ``(payment, [])`` when every field is valid, else ``(None, problems in screen order)``.
    """
    text = {name: values.get(name, "").strip() for name in FIELD_LABELS}
    problems = [
        FieldProblem(name, message)
        for name, message in (
            ("reference", _reference_problem(text["reference"])),
            ("payer_account", _account_problem("payer_account", text["payer_account"])),
            ("payer_name", _name_problem("payer_name", text["payer_name"])),
            ("payee_account", _account_problem("payee_account", text["payee_account"])),
            ("payee_name", _name_problem("payee_name", text["payee_name"])),
            ("payee_bank_code", bank_code_problem(text["payee_bank_code"])),
            ("amount", _amount_problem(text["amount"])),
            ("purpose", _purpose_problem(text["purpose"])),
        )
        if message
    ]
    if problems:
        return None, problems
    return PaymentInput(
        reference=text["reference"],
        payer_account=text["payer_account"],
        payer_name=text["payer_name"],
        payee_account=text["payee_account"],
        payee_name=text["payee_name"],
        payee_bank_code=text["payee_bank_code"],
        amount=parse_amount(text["amount"]),
        purpose=text["purpose"],
    ), []


def bank_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid 12-digit CNAPS bank code (ISO 7064 MOD 11,10 check digit), or None."""
    label = FIELD_LABELS["payee_bank_code"]
    if not code:
        return f"{label}不能为空"
    if not _BANK_CODE.fullmatch(code):
        return f"{label}必须是12位数字，实际为 {code!r}"
    expected = mod_11_10.calc_check_digit(code[:11])
    if code[11] != expected:
        return f"{label}校验位不正确：{code} 的最后一位应为 {expected}"
    return None


def _reference_problem(reference: str) -> str | None:
    label = FIELD_LABELS["reference"]
    if not reference:
        return f"{label}不能为空"
    if len(reference) > MAX_REFERENCE:
        return f"{label}最长{MAX_REFERENCE}个字符，实际为{len(reference)}个"
    if not _REFERENCE.fullmatch(reference):
        return f"{label}只能包含字母、数字、空格和 /-?:().,'+，实际为 {reference!r}"
    return None


def _account_problem(field: str, account: str) -> str | None:
    label = FIELD_LABELS[field]
    if not account:
        return f"{label}不能为空"
    if not _ACCOUNT.fullmatch(account):
        return f"{label}必须是8到32位数字，实际为 {account!r}"
    return None


def _name_problem(field: str, name: str) -> str | None:
    label = FIELD_LABELS[field]
    if not name:
        return f"{label}不能为空"
    if len(name) > MAX_NAME:
        return f"{label}最长{MAX_NAME}个字，实际为{len(name)}个"
    return None


def _amount_problem(amount: str) -> str | None:
    label = FIELD_LABELS["amount"]
    if not amount:
        return f"{label}不能为空"
    try:
        parse_amount(amount)
    except AmountError:
        return f"{label}必须是大于零的数字，最多两位小数，如 1234.56，实际为 {amount!r}"
    return None


def _purpose_problem(purpose: str) -> str | None:
    if len(purpose) > MAX_PURPOSE:
        return f"{FIELD_LABELS['purpose']}最长{MAX_PURPOSE}个字，实际为{len(purpose)}个"
    return None
