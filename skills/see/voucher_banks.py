"""A bank name read on a voucher must name the bank of the CNAPS code read beside it.

The first three digits of a CNAPS bank code are the bank's category (102 中国工商银行, 306 广发
银行; ``skills.think.checks.identifiers``), and a voucher's bank name is that bank's branch
(中国工商银行股份有限公司北京燕山支行). A name that does not hold its code's bank name was misread
(工 read as 全, seed 11: both readings agreed, so double keying could not see it) or written
wrong by the customer; either way a person must look, so the name is flagged
(``bank_mismatch``). The code is not flagged: its check digit already vouches for it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from skills.see.voucher_reader import VoucherReading

PARTIES = ("payer", "payee")


def check_bank_names(reading: VoucherReading) -> VoucherReading:
    """``reading`` with each surely read bank name flagged when it does not name the bank of the
    surely read, valid bank code beside it (codes of banks the category table does not know are
    not checked)."""
    from skills.think.checks.identifiers import cnaps_bank_name

    fields = dict(reading.fields)
    for party in PARTIES:
        name, code = fields.get(f"{party}_bank"), fields.get(f"{party}_bank_code")
        if name is None or code is None or name.flagged or code.flagged or not name.value or not code.value:
            continue
        bank = cnaps_bank_name(code.value)
        if bank is None or _normal(bank) in _normal(name.value):
            continue
        fields[f"{party}_bank"] = replace(
            name,
            flagged=True,
            code="bank_mismatch",
            reason=f"read {name.value!r}, but the bank code {code.value} beside it is {bank}'s",
        )
    return replace(reading, fields=fields)


def _normal(text: str) -> str:
    """Full- and half-width brackets alike, no spaces."""
    return unicodedata.normalize("NFKC", text).replace(" ", "")
