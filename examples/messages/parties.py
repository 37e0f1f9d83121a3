"""Who pays whom in the generated cross-border RMB messages: banks, customers, accounts, codes.

Everything is drawn from a ``random.Random`` the caller seeds, so a seed gives the same parties.
The receiving bank is a fictional city commercial bank (``DEMOCNSHXXX``, CNAPS category 313)
whose branches hold the beneficiaries' accounts; payers are companies abroad banking with real
correspondent BICs. Names are plain SWIFT x-set text (MT103 cannot carry Chinese), except that a
pacs.008 may name a Chinese beneficiary in Chinese, as CIPS allows.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from decimal import Decimal

from schwifty import IBAN
from stdnum.iso7064 import mod_11_10

OUR_BIC = "DEMOCNSHXXX"
OUR_BANK_CATEGORY = "313"  # 城市商业银行 in the CNAPS category table
OUR_BRANCHES = {  # CNAPS city code -> (town, branch BIC)
    "2900": ("SHANGHAI", "DEMOCNSH"),
    "5840": ("SHENZHEN", "DEMOCNSHSZX"),
    "5810": ("GUANGZHOU", "DEMOCNSHGZX"),
    "3310": ("HANGZHOU", "DEMOCNSHHZX"),
    "1000": ("BEIJING", "DEMOCNSHBJX"),
}


def _words(text: str) -> list[str]:
    return text.split()


SWIFT_X = re.compile(r"^[A-Za-z0-9/\-?:().,'+ ]*$")

# Banks abroad that send CNY (real BICs; only their shape and country are checked).
CORRESPONDENTS = {
    "HK": ["HSBCHKHHXXX", "SCBLHKHHXXX", "BKCHHKHHXXX", "HASEHKHHXXX"],
    "SG": ["DBSSSGSGXXX", "OCBCSGSGXXX", "UOVBSGSGXXX"],
    "DE": ["DEUTDEFFXXX", "COBADEFFXXX"],
    "GB": ["BARCGB22XXX", "NWBKGB2LXXX"],
    "US": ["CITIUS33XXX", "CHASUS33XXX"],
    "JP": ["MHCBJPJTXXX", "BOTKJPJTXXX"],
    "KR": ["KOEXKRSEXXX", "HVBKKRSEXXX"],
    "AU": ["ANZBAU3MXXX", "CTBAAU2SXXX"],
}
TOWNS = {
    "HK": ["HONG KONG", "KOWLOON"],
    "SG": ["SINGAPORE"],
    "DE": ["FRANKFURT", "HAMBURG", "MUNICH"],
    "GB": ["LONDON", "MANCHESTER"],
    "US": ["NEW YORK", "LOS ANGELES", "CHICAGO"],
    "JP": ["TOKYO", "OSAKA"],
    "KR": ["SEOUL", "BUSAN"],
    "AU": ["SYDNEY", "MELBOURNE"],
}
FOREIGN_WORDS = _words(
    "PACIFIC ORIENT HARBOUR SUMMIT GOLDEN MERIDIAN NORTHSTAR EVERBRIGHT SILVERLINE BLUEWATER "
    "CROWN HORIZON ATLAS PIONEER UNITED GLOBAL CONTINENTAL CAPITAL VANGUARD KESTREL ALPINE"
)
FOREIGN_TRADES = _words(
    "TRADING IMPORT EXPORT LOGISTICS ELECTRONICS MACHINERY TEXTILES FOODS CHEMICALS "
    "COMPONENTS MARINE RESOURCES DISTRIBUTION INDUSTRIES"
)
FOREIGN_FORMS = {
    "HK": ["LIMITED", "LTD", "CO LTD", "COMPANY LIMITED"],
    "SG": ["PTE LTD", "PTE. LTD."],
    "DE": ["GMBH", "AG"],
    "GB": ["LTD", "PLC", "LIMITED"],
    "US": ["INC", "LLC", "CORP"],
    "JP": ["CO LTD", "KK"],
    "KR": ["CO LTD", "CORP"],
    "AU": ["PTY LTD"],
}
CN_TRADES_PINYIN = {
    "ELECTRONICS": "电子",
    "TEXTILE": "纺织",
    "MACHINERY": "机械",
    "TRADING": "贸易",
    "PLASTICS": "塑料",
    "FURNITURE": "家具",
    "LIGHTING": "照明",
    "HARDWARE": "五金",
    "GARMENT": "服装",
    "PACKAGING": "包装",
}
CN_TOWNS_HANZI = {
    "SHENZHEN": "深圳",
    "DONGGUAN": "东莞",
    "NINGBO": "宁波",
    "YIWU": "义乌",
    "SUZHOU": "苏州",
    "WUXI": "无锡",
    "XIAMEN": "厦门",
    "QINGDAO": "青岛",
    "FOSHAN": "佛山",
    "HANGZHOU": "杭州",
}
CN_BRANDS_HANZI = {
    "HUAXIN": "华信",
    "JINLONG": "金龙",
    "HENGTAI": "恒泰",
    "XINDA": "信达",
    "YONGSHENG": "永盛",
    "TIANRUI": "天瑞",
    "HAIXING": "海星",
    "RUIFENG": "瑞丰",
    "JIAHE": "嘉禾",
    "LONGTENG": "龙腾",
    "HONGDA": "宏达",
    "KAIYUAN": "开元",
    "HUALIAN": "华联",
    "TONGDA": "通达",
    "MINGYANG": "明阳",
    "SANJIANG": "三江",
    "HONGYUAN": "宏远",
    "JINFENG": "金丰",
    "HUAMEI": "华美",
    "XINGHE": "星河",
}
CN_TOWNS_PINYIN = list(CN_TOWNS_HANZI)
CN_BRANDS_PINYIN = list(CN_BRANDS_HANZI)

# Purposes of cross-border RMB receipts, with a matching SAFE BOP transaction code (spec §7).
PURPOSES = [
    ("GDDS", "121010", "GENERAL TRADE"),
    ("GDDS", "121020", "PROCESSING TRADE"),
    ("SUPP", "121990", "GOODS OTHER"),
    ("SCVE", "221000", "PROCESSING FEES"),
    ("TRAD", "122990", "NON-CUSTOMS GOODS"),
    ("SCVE", "222011", "SEA FREIGHT"),
]


@dataclass(frozen=True)
class ForeignParty:
    """A payer abroad: name, where it is, its account and its bank."""

    name: str
    country: str
    town: str
    account: str
    bank_bic: str


@dataclass(frozen=True)
class DomesticParty:
    """A beneficiary in China holding an account at one of our branches."""

    name: str
    name_latin: str
    account: str
    town: str
    branch_bic: str
    branch_cnaps: str


def cnaps_code(category: str, city: str, branch: str) -> str:
    """A 12-digit CNAPS bank code with its ISO 7064 MOD 11,10 check digit."""
    body = f"{category}{city}{branch}"
    return body + mod_11_10.calc_check_digit(body)


def break_check_digit(code: str) -> str:
    """The same code with a wrong check digit (a one-digit keying error in the last place)."""
    wrong = (int(code[-1]) + 1 + int(code[-2]) % 8) % 10
    return code[:-1] + str(wrong if wrong != int(code[-1]) else (wrong + 1) % 10)


def digits(rng: random.Random, count: int, first: str = "123456789") -> str:
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(count - 1))


def domestic_account(rng: random.Random) -> str:
    """A corporate account number of our bank: 17-19 digits, never card-like (no 62 prefix)."""
    return rng.choice(["3101", "4420", "3300", "1100"]) + digits(rng, rng.choice([13, 14, 15]), "0123456789")


def foreign_account(rng: random.Random, country: str) -> str:
    """An account abroad: an IBAN where the country uses one, else 9-14 digits."""
    if country == "DE":
        return str(IBAN.generate("DE", bank_code="37040044", account_code=digits(rng, 10)))
    if country == "GB":
        return str(IBAN.generate("GB", bank_code="NWBK601613", account_code=digits(rng, 8)))
    return digits(rng, rng.choice([9, 12, 14]))


def foreign_company(rng: random.Random, country: str) -> str:
    """A company name abroad in SWIFT x characters, at most 33 of them (fits MT103 50F)."""
    for _ in range(20):
        words = [rng.choice(FOREIGN_WORDS), rng.choice(FOREIGN_TRADES), rng.choice(FOREIGN_FORMS[country])]
        if rng.random() < 0.3:
            words.insert(0, rng.choice(FOREIGN_WORDS))
        name = " ".join(words)
        if len(name) <= 33:
            return name
    return name[:33].rstrip()


def foreign_party(rng: random.Random) -> ForeignParty:
    country = rng.choice(list(CORRESPONDENTS))
    return ForeignParty(
        name=foreign_company(rng, country),
        country=country,
        town=rng.choice(TOWNS[country]),
        account=foreign_account(rng, country),
        bank_bic=rng.choice(CORRESPONDENTS[country]),
    )


def domestic_party(rng: random.Random) -> DomesticParty:
    """A Chinese company with an account at one of our branches, in Chinese and in pinyin."""
    town = rng.choice(CN_TOWNS_PINYIN)
    brand = rng.choice(CN_BRANDS_PINYIN)
    trade = rng.choice(list(CN_TRADES_PINYIN))
    latin = f"{town} {brand} {trade} CO LTD"
    if len(latin) > 33:
        latin = f"{brand} {trade} CO LTD"
    hanzi = f"{CN_TOWNS_HANZI[town]}{CN_BRANDS_HANZI[brand]}{CN_TRADES_PINYIN[trade]}有限公司"
    city = rng.choice(list(OUR_BRANCHES))
    branch_town, branch_bic = OUR_BRANCHES[city]
    return DomesticParty(
        name=hanzi,
        name_latin=latin,
        account=domestic_account(rng),
        town=branch_town,
        branch_bic=branch_bic if len(branch_bic) == 11 else branch_bic + "XXX",
        branch_cnaps=cnaps_code(OUR_BANK_CATEGORY, city, digits(rng, 4, "0123456789")),
    )


def amount_between(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    """An amount drawn log-uniformly between low and high, with cents (realistic spread)."""
    import math

    value = math.exp(rng.uniform(math.log(float(low)), math.log(float(high))))
    cents = Decimal(int(value * 100)) / 100
    if rng.random() < 0.3:  # many trade payments are round sums
        cents = Decimal(int(cents / 100) * 100)
    return max(cents, low).quantize(Decimal("0.01"))


def is_swift_x(text: str) -> bool:
    return bool(SWIFT_X.match(text))
