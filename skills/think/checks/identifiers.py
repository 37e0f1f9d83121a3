"""Identifiers on payments: BIC, IBAN, card numbers, CNAPS bank codes, Chinese ids and accounts.

Every check returns an ``IdentifierCheck`` (valid or not, with the reason and what could be
decoded) and never raises on bad input: a payment with a bad identifier is routed to a person,
and the person needs the reason, not a traceback.

Rules for Chinese bank account numbers (``check_account_number``), which have no national check
digit (payments-spec section 4):

* blanks and hyphens are ignored (``6222 0212 3456 7890 128`` is how people write cards);
* an optional special-account prefix ``NRA`` (非居民账户), ``OSA`` (离岸账户) or ``FTN``/``FTE``/
  ``FTU``/``FTI``/``FTF`` (自由贸易账户) may precede the digits;
* the rest must be digits only, 8 to 32 of them (CNAPS carries accounts as ``Max32Text``; bank
  account numbers in use are 12 to 22 digits, passbooks and cards included);
* a 16-19 digit number starting with 62 looks like a UnionPay card: a failed Luhn check is a
  warning (it is probably mistyped) but does not make the account invalid, because corporate
  accounts of that shape exist and carry no Luhn digit.
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_11_10


class IdentifierKind(StrEnum):
    """The identifiers this module checks."""

    bic = "bic"
    iban = "iban"
    cnaps = "cnaps"
    card = "card"
    account = "account"
    resident_id = "resident_id"
    uscc = "uscc"
    uetr = "uetr"


@dataclass(frozen=True)
class IdentifierCheck:
    """The verdict on one identifier.

    Attributes:
        kind: which identifier was checked.
        value: the value as given.
        valid: whether it passes the rules.
        reason: why it is invalid, or what was checked when it is valid.
        normalized: the compact form (upper case, blanks removed), empty when unreadable.
        details: what the identifier says (bank, city, country, birth date...).
        warnings: doubts that do not make it invalid (unknown city code, card-like account).
    """

    kind: IdentifierKind
    value: str
    valid: bool
    reason: str
    normalized: str = ""
    details: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def _compact(value: str) -> str:
    return re.sub(r"[\s\-]", "", value).upper()


def _invalid(kind: IdentifierKind, value: str, reason: str, normalized: str = "") -> IdentifierCheck:
    return IdentifierCheck(kind, value, False, reason, normalized)


# ---------------------------------------------------------------------------------------------
# BIC and IBAN (schwifty)

# Common Chinese BIC8s (payments-spec section 4, to be verified against the SWIFT directory).
CHINESE_BIC8 = {
    "ICBKCNBJ": "中国工商银行",
    "ABOCCNBJ": "中国农业银行",
    "BKCHCNBJ": "中国银行",
    "PCBCCNBJ": "中国建设银行",
    "COMMCNSH": "交通银行",
    "CMBCCNBS": "招商银行",
    "CIBKCNBJ": "中信银行",
    "MSBCCNBJ": "中国民生银行",
    "FJIBCNBA": "兴业银行",
    "SPDBCNSH": "上海浦东发展银行",
    "EVERCNBJ": "中国光大银行",
    "PSBCCNBJ": "中国邮政储蓄银行",
}


def check_bic(value: str) -> IdentifierCheck:
    """A BIC (ISO 9362): 8 or 11 characters, bank code, ISO country, location, optional branch."""
    kind = IdentifierKind.bic
    compact = _compact(value)
    if not re.fullmatch(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?", compact):
        return _invalid(
            kind, value, "expected 4 letters, 2-letter country, 2 letters/digits, optional 3-char branch"
        )
    try:
        bic = BIC(compact)
    except SchwiftyException as exc:
        return _invalid(kind, value, f"{exc}", compact)
    bic8 = compact[:8]
    details = {
        "bic8": bic8,
        "bank_code": bic.bank_code,
        "country": bic.country_code,
        "location": bic.location_code,
        "branch": bic.branch_code or "XXX",
        "head_office": str(bic.branch_code in ("", "XXX")).lower(),
    }
    bank_name = CHINESE_BIC8.get(bic8) or (bic.bank_names[0] if bic.exists and bic.bank_names else "")
    if bank_name:
        details["bank_name"] = bank_name
    warnings = []
    if compact[7] == "0":
        warnings.append("location code ends in 0: a test and training BIC, not live traffic")
    elif compact[7] == "1":
        warnings.append("location code ends in 1: a passive participant, not connected to SWIFT")
    return IdentifierCheck(
        kind, value, True, "well-formed BIC with a known country", compact, details, tuple(warnings)
    )


def check_iban(value: str) -> IdentifierCheck:
    """An IBAN (ISO 13616): country length and structure, mod-97 check digits."""
    kind = IdentifierKind.iban
    compact = _compact(value)
    if compact.startswith("CN"):
        return _invalid(kind, value, "China does not use IBAN: CN accounts travel as Othr/Id", compact)
    try:
        iban = IBAN(compact)
    except SchwiftyException as exc:
        return _invalid(kind, value, f"{exc} (schwifty {type(exc).__name__})", compact)
    details = {"country": iban.country_code, "bank_code": iban.bank_code, "account_code": iban.account_code}
    if iban.bic is not None:
        details["bic"] = str(iban.bic)
    return IdentifierCheck(
        kind, value, True, "length, structure and mod-97 check digits match", compact, details
    )


# ---------------------------------------------------------------------------------------------
# Cards and accounts


def _card_scheme(digits: str) -> str:
    if digits.startswith(("62", "81")):
        return "UnionPay"
    if digits.startswith("4"):
        return "Visa"
    if digits[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(digits[:4]) <= 2720:
        return "Mastercard"
    if digits[:2] in {"34", "37"}:
        return "American Express"
    if digits.startswith("35"):
        return "JCB"
    return "unknown"


def check_card_number(value: str) -> IdentifierCheck:
    """A bank-card number (ISO/IEC 7812 PAN): 12-19 digits passing the Luhn check."""
    kind = IdentifierKind.card
    compact = _compact(value)
    if not compact.isdigit() or not compact.isascii():
        return _invalid(kind, value, "a card number has digits only", compact)
    if not 12 <= len(compact) <= 19:
        return _invalid(kind, value, f"a card number has 12 to 19 digits, found {len(compact)}", compact)
    details = {"scheme": _card_scheme(compact), "iin": compact[:6]}
    if not luhn.is_valid(compact):
        expected = luhn.calc_check_digit(compact[:-1])
        return IdentifierCheck(
            kind, value, False, f"Luhn check digit is {compact[-1]}, expected {expected}", compact, details
        )
    return IdentifierCheck(kind, value, True, "Luhn check digit matches", compact, details)


ACCOUNT_PREFIXES = ("NRA", "OSA", "FTN", "FTE", "FTU", "FTI", "FTF")


def check_account_number(value: str) -> IdentifierCheck:
    """A Chinese bank account number, by shape only (see the module docstring for the rules)."""
    kind = IdentifierKind.account
    compact = _compact(value)
    prefix = next((p for p in ACCOUNT_PREFIXES if compact.startswith(p)), "")
    digits = compact[len(prefix) :]
    if not digits:
        return _invalid(kind, value, "no account number", compact)
    if not (digits.isdigit() and digits.isascii()):
        bad = next(ch for ch in digits if not (ch.isdigit() and ch.isascii()))
        return _invalid(
            kind,
            value,
            f"an account number has digits only (after an optional NRA/OSA/FT* prefix), found {bad!r}",
        )
    if not 8 <= len(digits) <= 32:
        return _invalid(kind, value, f"an account number has 8 to 32 digits, found {len(digits)}", compact)
    details = {"prefix": prefix} if prefix else {}
    warnings = []
    if 16 <= len(digits) <= 19 and digits.startswith("62") and not prefix:
        details["looks_like_card"] = "true"
        if not luhn.is_valid(digits):
            warnings.append("looks like a UnionPay card number but fails the Luhn check: probably mistyped")
    return IdentifierCheck(
        kind, value, True, f"{len(digits)} digits, within 8-32", compact, details, tuple(warnings)
    )


# ---------------------------------------------------------------------------------------------
# CNAPS bank codes (行号)


@dataclass(frozen=True)
class _BankCategory:
    name: str
    head_office_code: str


@cache
def _bank_categories() -> dict[str, _BankCategory]:
    with resources.files(__package__).joinpath("data/cnaps_bank_categories.csv").open(encoding="utf-8") as f:
        return {
            row["category_code"]: _BankCategory(row["bank_name"], row["head_office_code"])
            for row in csv.DictReader(f)
        }


@cache
def _cities() -> dict[str, tuple[str, str]]:
    with resources.files(__package__).joinpath("data/cnaps_cities.csv").open(encoding="utf-8") as f:
        return {row["city_code"]: (row["city_name"], row["province_name"]) for row in csv.DictReader(f)}


# Bank families by the first digit of the category, for categories not in the table [K].
_CATEGORY_FAMILIES = {
    "0": "中国人民银行",
    "1": "国有商业银行",
    "2": "政策性银行",
    "3": "股份制或地方商业银行",
    "4": "信用社或邮政储蓄银行",
    "5": "外资银行",
}


def cnaps_bank_name(code: str) -> str | None:
    """The bank a valid 12-digit CNAPS code belongs to (中国工商银行 for 102…), from its
    category; ``None`` when the code is invalid or its category is not in the table."""
    compact = _compact(code)
    if not check_cnaps_code(compact).valid:
        return None
    category = _bank_categories().get(compact[:3])
    return None if category is None else category.name


def check_cnaps_code(value: str) -> IdentifierCheck:
    """A 12-digit CNAPS bank code: 3-digit bank category, 4-digit city, 4-digit branch, check digit.

    The check digit is ISO 7064 MOD 11,10 over the first 11 digits. The category and city are
    decoded from the tables shipped in ``data/`` (from gweesin/CNAPS, MIT).
    """
    kind = IdentifierKind.cnaps
    compact = _compact(value)
    if not (compact.isdigit() and compact.isascii() and len(compact) == 12):
        return _invalid(kind, value, f"a CNAPS bank code has 12 digits, found {compact!r}", compact)
    expected = mod_11_10.calc_check_digit(compact[:11])
    if compact[11] != expected:
        return _invalid(
            kind, value, f"check digit is {compact[11]}, expected {expected} (ISO 7064 MOD 11,10)", compact
        )
    category_code, city_code = compact[:3], compact[3:7]
    details = {"category_code": category_code, "city_code": city_code, "branch": compact[7:11]}
    warnings = []
    category = _bank_categories().get(category_code)
    if category is not None:
        details["bank_category"] = category.name
        details["head_office"] = str(compact == category.head_office_code).lower()
    elif category_code[0] in _CATEGORY_FAMILIES:
        details["bank_category"] = _CATEGORY_FAMILIES[category_code[0]]
        warnings.append(f"bank category {category_code} is not in the category table; family guessed")
    else:
        warnings.append(f"bank category {category_code} is not a known CNAPS category")
    city = _cities().get(city_code)
    if city is not None:
        details["city"], details["province"] = city
    else:
        warnings.append(f"city code {city_code} is not in the CNAPS city table")
    return IdentifierCheck(
        kind,
        value,
        True,
        "12 digits, check digit matches (ISO 7064 MOD 11,10)",
        compact,
        details,
        tuple(warnings),
    )


# ---------------------------------------------------------------------------------------------
# Chinese resident id, unified social credit code, UETR


def check_resident_id(value: str) -> IdentifierCheck:
    """An 18-character resident id (身份证, GB 11643): region, birth date, sequence, MOD 11-2 check."""
    kind = IdentifierKind.resident_id
    compact = _compact(value)
    if not re.fullmatch(r"\d{17}[\dX]", compact):
        return _invalid(kind, value, "a resident id has 17 digits and a final digit or X", compact)
    expected = ric.calc_check_digit(compact)
    if compact[17] != expected:
        return _invalid(
            kind, value, f"check character is {compact[17]}, expected {expected} (MOD 11-2)", compact
        )
    try:
        birth_date = ric.get_birth_date(compact)
    except ValidationError:
        return _invalid(kind, value, f"characters 7-14 ({compact[6:14]}) are not a valid birth date", compact)
    details = {"birth_date": birth_date.isoformat(), "sex": "male" if int(compact[16]) % 2 else "female"}
    warnings = []
    try:
        place = ric.get_birth_place(compact)
        details["birth_place"] = "".join(place.values())
    except ValidationError:
        warnings.append(f"region code {compact[:6]} is not in python-stdnum's table")
    return IdentifierCheck(
        kind, value, True, "check character matches (MOD 11-2)", compact, details, tuple(warnings)
    )


def check_uscc(value: str) -> IdentifierCheck:
    """An 18-character unified social credit code (统一社会信用代码, GB 32100-2015), mod-31 check."""
    kind = IdentifierKind.uscc
    compact = _compact(value)
    if len(compact) != 18:
        return _invalid(
            kind, value, f"a unified social credit code has 18 characters, found {len(compact)}", compact
        )
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, Z, S, V
    bad = next((ch for ch in compact if ch not in alphabet), None)
    if bad is not None:
        return _invalid(
            kind, value, f"character {bad!r} is not used in credit codes (no I, O, Z, S, V)", compact
        )
    try:
        uscc.validate(compact)
    except ValidationError as exc:
        expected = uscc.calc_check_digit(compact[:17])
        if expected != compact[17]:
            return _invalid(kind, value, f"check character is {compact[17]}, expected {expected}", compact)
        return _invalid(kind, value, f"python-stdnum rejects it: {exc}", compact)
    details = {"registering_authority": compact[0], "entity_type": compact[1], "region_code": compact[2:8]}
    return IdentifierCheck(kind, value, True, "check character matches (GB 32100 mod 31)", compact, details)


def check_uetr(value: str) -> IdentifierCheck:
    """A UETR: a lower-case UUID version 4 (``8-4-4-4-12`` hex digits)."""
    kind = IdentifierKind.uetr
    text = value.strip()
    if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", text):
        try:
            parsed = uuid.UUID(text)
        except ValueError:
            return _invalid(kind, value, "expected a UUID written 8-4-4-4-12 in lower-case hex")
        if parsed.version != 4:
            return _invalid(kind, value, f"a UETR is a version 4 UUID, found version {parsed.version}")
        return _invalid(kind, value, "a UETR is written in lower case with hyphens", str(parsed))
    return IdentifierCheck(kind, value, True, "UUID version 4", text)


CHECKS: Mapping[IdentifierKind, Callable[[str], IdentifierCheck]] = {
    IdentifierKind.bic: check_bic,
    IdentifierKind.iban: check_iban,
    IdentifierKind.cnaps: check_cnaps_code,
    IdentifierKind.card: check_card_number,
    IdentifierKind.account: check_account_number,
    IdentifierKind.resident_id: check_resident_id,
    IdentifierKind.uscc: check_uscc,
    IdentifierKind.uetr: check_uetr,
}


def check_identifier(kind: IdentifierKind | str, value: str) -> IdentifierCheck:
    """Check ``value`` as an identifier of ``kind`` (one of ``IdentifierKind``)."""
    try:
        chosen = IdentifierKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in IdentifierKind)
        raise ValueError(f"unknown identifier kind {kind!r}; expected one of {known}") from None
    if not isinstance(value, str):
        return _invalid(chosen, repr(value), f"expected text, got {type(value).__name__}")
    return CHECKS[chosen](value)
