"""A reproducible labelled set for measuring screening quality.

*Positives* are real names from the loaded list, altered the way names arrive in payments: one or
two typos, words reordered, a middle name or legal form dropped or spelt out, transliteration
variants (MOHAMMED/MUHAMMAD, KH/H, OU/U...), case and punctuation changes. Each remembers the uid
it must hit. *Negatives* are ordinary company and person names built from the word lists below
(Chinese and Western companies, Chinese, Western and Arabic-style persons), none of which is on
the list. Everything is drawn from ``random.Random(seed)``, so the same seed gives the same set.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from skills.think.checks.screening.normalize import normalize_name
from skills.think.checks.screening.watchlist import WatchlistEntry


def _words(text: str) -> list[str]:
    return text.split()


CN_SURNAMES = _words("""wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin
luo zheng liang xie song tang han feng deng cao peng zeng xiao tian dong pan yuan cai jiang yu du ye cheng
wei su lu ding ren shen yao jin fu zhong cui tan fan shi qin""")
CN_GIVEN_SYLLABLES = _words("""wei fang min jing li qiang lei jun yang yong yan jie tao ming chao xiu xia
hua ping gang gui hong hui jian lin bin bo chen dan fei feng guo hai hao jia kai lan le liang long mei na
ning peng qi qing rong rui shan sheng shu song ting wen xiang xin xu yi ying yu yuan yun zhen zhi zhong""")
WESTERN_FIRST = _words("""james john robert michael william david richard joseph thomas charles
christopher daniel matthew anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy
ronald edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon
benjamin samuel mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty
margaret sandra ashley kimberly emily donna michelle carol amanda melissa deborah stephanie rebecca sharon
laura cynthia hans klaus petra sabine pierre camille giulia marco sofia lucas emma olivia noah liam""")
WESTERN_LAST = _words("""smith johnson williams brown jones miller davis wilson anderson taylor thomas
moore martin jackson thompson white harris clark lewis robinson walker young allen wright scott green baker
adams nelson hill campbell mitchell roberts carter phillips evans turner parker collins edwards stewart
morris murphy cook rogers morgan cooper peterson bailey reed kelly howard cox ward richardson watson brooks
wood james bennett gray hughes price sanders myers long ross foster powell jenkins perry russell sullivan
bell coleman butler henderson barnes fisher vasquez simmons graham marshall owens harrison gibson wallace
mueller schmidt schneider fischer weber meyer wagner becker schulz hoffmann dubois moreau laurent rossi
russo ferrari esposito bianchi romano colombo""")
ARABIC_FIRST = _words("""omar youssef karim tariq samir nabil walid rami fadi hisham bilal anas ziad
majid faisal nasser sami adel hamza yasin amira layla nadia rania salma yasmin dina huda leila mona""")
ARABIC_LAST = _words("""haddad khoury nasser saleh darwish farah haddadin mansour aziz karam najjar
sabbagh zaher qasim barakat jaber hamdan hijazi kanaan masri rahal shami tamimi zoubi""")
CN_CITIES = _words("""shenzhen ningbo yiwu hangzhou suzhou wuxi dongguan foshan xiamen qingdao dalian
tianjin chengdu wuhan changsha nanjing hefei fuzhou kunming zhengzhou jinan shenyang harbin guangzhou""")
CN_BRANDS = _words("""huaxin jinlong hengtai xinda yongsheng tianrui haixing ruifeng dongfang jiahe
longteng hongda baoli xingfa meida shunfeng kaiyuan zhongxin hualian tongda fuxing lianhe mingyang
sanjiang hongyuan jinfeng huamei xinghe""")
INDUSTRIES = _words("""electronics textile garment machinery trading logistics plastics chemical
furniture lighting packaging hardware ceramics optical auto parts medical devices food import export
pharmaceutical software printing steel""")
CN_SUFFIXES = [
    "Co., Ltd.",
    "Co Ltd",
    "Limited",
    "Industrial Co., Ltd.",
    "Group Co., Ltd.",
    "Technology Co., Ltd.",
]
WESTERN_SUFFIXES = ["GmbH", "Inc.", "LLC", "Ltd", "S.A.", "B.V.", "AG", "PLC", "& Co."]

_TRANSLITERATIONS = [
    (r"MOHAMMED|MOHAMMAD|MUHAMMAD|MOHAMED", ["MUHAMMAD", "MOHAMMED", "MOHAMED", "MOHAMAD"]),
    (r"KH", ["H", "KH"]),
    (r"OU", ["U", "OO"]),
    (r"EE", ["I"]),
    (r"PH", ["F"]),
    (r"Y", ["I"]),
    (r"\bAL-", ["EL-", "AL ", "AL"]),
    (r"\bABDUL\b", ["ABD AL", "ABDEL"]),
    (r"Q", ["K", "G"]),
    (r"J", ["DJ", "ZH"]),
    (r"V", ["W"]),
    (r"X", ["KS"]),
    (r"I\b", ["Y", "IY"]),
    (r"SH", ["SCH", "CH"]),
]
_LEGAL_EXPANSIONS = [
    (r"\bCO\.?,? LTD\.?", ["COMPANY LIMITED", "CO LTD", ""]),
    (r"\bLTD\.?", ["LIMITED", ""]),
    (r"\bLIMITED\b", ["LTD", ""]),
    (r"\bCO\.", ["COMPANY", ""]),
    (r"\bCOMPANY\b", ["CO", ""]),
    (r"\bS\.A\.", ["SA", ""]),
    (r"\bINC\.?", ["INCORPORATED", ""]),
    (r"\bLLC\b", ["L.L.C.", ""]),
]


DEFAULT_SEED = 20240611


@dataclass(frozen=True)
class LabelledName:
    """A query with its truth: ``expected_uid`` is the entry it must hit, or ``None`` (no hit)."""

    query: str
    expected_uid: str | None
    variant: str  # how it was made (typo, reorder...) or which negative group it belongs to


def _typo(name: str, rng: random.Random) -> str:
    words = name.split()
    candidates = [i for i, w in enumerate(words) if sum(ch.isalpha() for ch in w) >= 4]
    if not candidates:
        return name + "S"
    index = rng.choice(candidates)
    word = list(words[index])
    letters = [i for i, ch in enumerate(word) if ch.isalpha()]
    position = rng.choice(letters[1:])  # keep the first letter: people rarely misspell it
    operation = rng.choice(["substitute", "delete", "insert", "transpose"])
    letter = rng.choice("ABCDEFGHIKLMNOPRSTUVY")
    if operation == "substitute":
        word[position] = letter
    elif operation == "delete":
        del word[position]
    elif operation == "insert":
        word.insert(position, letter)
    elif position + 1 < len(word) and word[position + 1].isalpha():
        word[position], word[position + 1] = word[position + 1], word[position]
    else:
        word[position] = letter
    words[index] = "".join(word)
    return " ".join(words)


def _reorder(name: str, rng: random.Random) -> str:
    if "," in name:  # SDN persons are "LAST, First Middle": payments write "First Middle Last"
        last, _, first = name.partition(",")
        return f"{first.strip()} {last.strip()}"
    words = name.split()
    shuffled = words[:]
    while len(words) > 1 and shuffled == words:
        rng.shuffle(shuffled)
    return " ".join(shuffled)


def _rewrite(name: str, rng: random.Random, rules: list[tuple[str, list[str]]]) -> str | None:
    applicable = [(pattern, options) for pattern, options in rules if re.search(pattern, name)]
    if not applicable:
        return None
    pattern, options = rng.choice(applicable)
    match = re.search(pattern, name)
    choices = [o for o in options if match is None or o != match.group(0)] or options
    return re.sub(pattern, rng.choice(choices), name, count=1).strip(" ,")


def _drop_or_expand(name: str, entry: WatchlistEntry, rng: random.Random) -> str:
    if entry.entry_type == "individual" and "," in name:
        last, _, first = name.partition(",")
        given = first.split()
        if len(given) >= 2:  # drop a middle name
            given.pop(rng.randrange(1, len(given)))
            return f"{last}, {' '.join(given)}"
    return _rewrite(name, rng, _LEGAL_EXPANSIONS) or _typo(name, rng)


def _cosmetic(name: str, rng: random.Random) -> str:
    text = re.sub(r"[.,'\-]", " ", name)
    return " ".join(text.split()).title() if rng.random() < 0.5 else " ".join(text.split()).lower()


VARIANTS: dict[str, Callable[[str, WatchlistEntry, random.Random], str]] = {
    "case_punctuation": lambda n, e, r: _cosmetic(n, r),
    "one_typo": lambda n, e, r: _typo(n, r),
    "two_typos": lambda n, e, r: _typo(_typo(n, r), r),
    "reordered": lambda n, e, r: _reorder(n, r),
    "dropped_or_expanded": _drop_or_expand,
    "transliteration": lambda n, e, r: _rewrite(n, r, _TRANSLITERATIONS) or _typo(n, r),
    "reordered_and_typo": lambda n, e, r: _typo(_reorder(n, r), r),
}


def make_positives(entries: Sequence[WatchlistEntry], count: int, seed: int) -> list[LabelledName]:
    """``count`` altered names of listed persons and entities, variants in turn."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets  # nosec B311
    pool = [
        e
        for e in entries
        if e.entry_type in ("individual", "entity") and len(normalize_name(e.name).joined) >= 6
    ]
    chosen = rng.sample(pool, count)
    kinds = list(VARIANTS)
    positives = []
    for number, entry in enumerate(chosen):
        kind = kinds[number % len(kinds)]
        positives.append(LabelledName(VARIANTS[kind](entry.name, entry, rng), entry.uid, kind))
    return positives


def _chinese_company(rng: random.Random) -> str:
    words = [rng.choice(CN_CITIES).title(), rng.choice(CN_BRANDS).title(), rng.choice(INDUSTRIES).title()]
    if rng.random() < 0.4:
        words.insert(2, rng.choice(INDUSTRIES).title())
    return " ".join(words) + " " + rng.choice(CN_SUFFIXES)


def _western_company(rng: random.Random) -> str:
    owner = rng.choice(WESTERN_LAST).title()
    if rng.random() < 0.3:
        owner += " & " + rng.choice(WESTERN_LAST).title()
    return f"{owner} {rng.choice(INDUSTRIES).title()} {rng.choice(WESTERN_SUFFIXES)}"


def _chinese_person(rng: random.Random) -> str:
    given = "".join(rng.choice(CN_GIVEN_SYLLABLES) for _ in range(rng.choice([1, 2, 2])))
    surname, given = rng.choice(CN_SURNAMES).upper(), given.title()
    return f"{surname} {given}" if rng.random() < 0.5 else f"{given} {surname.title()}"


def _western_person(rng: random.Random) -> str:
    first = rng.choice(WESTERN_FIRST).title()
    middle = f" {rng.choice(WESTERN_FIRST)[0].upper()}." if rng.random() < 0.3 else ""
    return f"{first}{middle} {rng.choice(WESTERN_LAST).title()}"


def _arabic_person(rng: random.Random) -> str:
    return f"{rng.choice(ARABIC_FIRST).title()} {rng.choice(ARABIC_LAST).title()}"


NEGATIVE_GROUPS: dict[str, tuple[Callable[[random.Random], str], int]] = {
    "chinese_company": (_chinese_company, 450),
    "western_company": (_western_company, 200),
    "chinese_person": (_chinese_person, 300),
    "western_person": (_western_person, 200),
    "arabic_person": (_arabic_person, 100),
}


def make_negatives(entries: Sequence[WatchlistEntry], seed: int) -> list[LabelledName]:
    """Ordinary names (1,250 by default), none equal to a listed name once normalised."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets  # nosec B311
    listed = {normalize_name(alias.name).tokens for entry in entries for alias in entry.names()}
    negatives: list[LabelledName] = []
    for group, (make, count) in NEGATIVE_GROUPS.items():
        seen: set[str] = set()
        while len(seen) < count:
            name = make(rng)
            if name in seen or normalize_name(name).tokens in listed:
                continue
            seen.add(name)
            negatives.append(LabelledName(name, None, group))
    return negatives


def make_labelled_set(
    entries: Sequence[WatchlistEntry], *, positives: int = 700, seed: int = DEFAULT_SEED
) -> list[LabelledName]:
    """The positives then the negatives, reproducible from ``seed``."""
    return make_positives(entries, positives, seed) + make_negatives(entries, seed + 1)
