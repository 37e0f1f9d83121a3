"""Turn a name in any script into comparable Latin tokens.

Steps, in order: Unicode NFKC; Chinese company suffixes (有限公司...) dropped; Han characters to
pinyin (``pypinyin``; a 2-4 character personal name becomes surname + joined given name, the way
Latin lists write it: 习近平 -> ``xi jinping``); every other script to ASCII (``anyascii``:
Cyrillic, Greek, Arabic, Hebrew, Thai, Hangul, accents); lower case; apostrophes dropped and other
punctuation made a blank; legal-form words (LTD, CO, LIMITED, GMBH, S.A. ...), honorifics and a
few stop words dropped. Word order is left alone: the scorer is order-free.

Abjad scripts (Arabic, Hebrew) and Thai write few or no vowels, so their transliteration is
compared by *consonant skeleton* (``skeleton``): محمد علي -> ``mhmd ly`` -> ``mhmd l``, which is
also the skeleton of ``Mohamed Ali``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

CHINESE_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "分公司",
    "公司",
)

_LEGAL_FORM_WORDS = """
    ltd limited co company companies corp corporation inc incorporated llc llp lp plc gmbh ag kg
    sa sas sarl sae sal spa srl bv nv ab as oy jsc ojsc cjsc pjsc ooo zao oao pao tov ltda cia
    pte pvt bhd sdn fze fzco fzc fzllc est establishment cv de
"""
LEGAL_FORMS = frozenset(_LEGAL_FORM_WORDS.split())
HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "mme"})
STOP_WORDS = frozenset({"the", "of", "and", "for", "y", "del", "la"})

# Hangul romanised by anyascii (Revised Romanisation) next to the spelling lists use for surnames.
KOREAN_SURNAMES = {"gim": "kim", "i": "lee", "bak": "park", "bag": "park", "choe": "choi", "gang": "kang"}

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ABJAD_OR_THAI = re.compile(r"[\u0590-\u05ff\u0600-\u06ff\u0750-\u077f\u0e00-\u0e7f]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_APOSTROPHES = re.compile(r"[`'’‘ʻʼ\"“”´.]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_VOWELS = re.compile(r"[aeiouyw]")
_PLAIN_VOWELS = re.compile(r"[aeiou]")
_DOUBLES = re.compile(r"(.)\1+")


@dataclass(frozen=True)
class NormalizedName:
    """A name ready for matching.

    Attributes:
        tokens: the comparable words, in the original order.
        abjad: the name was written in a script without vowels (compare skeletons).
    """

    tokens: tuple[str, ...]
    abjad: bool = False

    @property
    def joined(self) -> str:
        return "".join(self.tokens)


def skeleton(token: str) -> str:
    """The consonants of ``token`` with doubled letters collapsed (``hassan`` -> ``hsn``).

    W and Y are dropped too except at the start of a word: inside a word they are the long
    vowels of Arabic and Hebrew spelling (محمود -> ``mhmwd``, Mahmoud -> ``mhmd``).
    """
    stripped = token[:1] + _VOWELS.sub("", token[1:]) if token[:1] in "wy" else _VOWELS.sub("", token)
    stripped = _PLAIN_VOWELS.sub("", stripped[:1]) + stripped[1:]
    return _DOUBLES.sub(r"\1", stripped) or token[:1]


def _pinyin(han: str) -> list[str]:
    from pypinyin import lazy_pinyin  # imported here: its dictionaries take a moment to load

    return lazy_pinyin(han)


def _han_to_latin(text: str) -> str:
    for suffix in CHINESE_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    han_only = "".join(_HAN.findall(text))
    if han_only == text and 2 <= len(text) <= 4:
        syllables = _pinyin(text)
        # Latin lists write Chinese persons as SURNAME Givenname: 习近平 -> XI Jinping.
        return f"{syllables[0]} {''.join(syllables[1:])}"
    parts = []
    for chunk in re.split(f"({_HAN.pattern}+)", text):
        parts.append(" ".join(_pinyin(chunk)) if _HAN.match(chunk) else chunk)
    return " ".join(parts)


def _hangul_to_latin(text: str) -> str:
    # anyascii writes each syllable capitalised ("GimJeongEun"); lists write them as words.
    words = []
    for word in text.split():
        if _HANGUL.search(word):
            # Lists mostly spell Korean names the older way: Jeong -> Jong, Eun -> Un.
            syllables = [
                s.lower().replace("eo", "o").replace("eu", "u")
                for s in re.findall(r"[A-Z][a-z]*", anyascii(word))
            ]
            if syllables:
                syllables[0] = KOREAN_SURNAMES.get(syllables[0], syllables[0])
            words.extend(syllables)
        else:
            words.append(word)
    return " ".join(words)


@lru_cache(maxsize=65536)
def normalize_name(name: str) -> NormalizedName:
    """Normalise ``name`` (any script) into comparable tokens; see the module docstring."""
    text = unicodedata.normalize("NFKC", name).strip()
    abjad = bool(_ABJAD_OR_THAI.search(text))
    if _HAN.search(text):
        text = _han_to_latin(text)
    if _HANGUL.search(text):
        text = _hangul_to_latin(text)
    text = anyascii(text).lower()
    text = _APOSTROPHES.sub("", text)
    raw_tokens = [t for t in _NOT_ALNUM.split(text) if t]
    tokens = [t for t in raw_tokens if t not in LEGAL_FORMS and t not in HONORIFICS and t not in STOP_WORDS]
    return NormalizedName(tuple(tokens or raw_tokens), abjad)
