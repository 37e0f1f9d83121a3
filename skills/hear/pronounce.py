"""Pronunciations for words the recogniser's dictionary lacks, derived from espeak-ng.

The packaged en-us dictionary (CMUdict) knows neither British spellings ("authorise") nor most
Chinese place and company names in pinyin ("Hangzhou"). espeak-ng spells any word in IPA
(``espeak-ng -q --ipa``); this module maps that IPA to the ARPAbet phones of the acoustic model.
The result is approximate but consistent, which is what a small answer grammar needs. Operators
can always give exact phones instead (``pronunciations`` parameter of ``hear.transcribe``).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable

from skills import BusinessError, ResourceUnavailable

#: IPA (as espeak-ng writes it for English voices) → ARPAbet, longest symbols first when matched.
IPA_TO_ARPABET: dict[str, str] = {
    "aɪə": "AY AH", "aʊə": "AW AH", "ɚɹ": "ER", "ɜːɹ": "ER",
    "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "əʊ": "OW", "ɔɪ": "OY", "eə": "EH",
    "tʃ": "CH", "dʒ": "JH", "ts": "T S", "n̩": "AH N", "l̩": "AH L", "m̩": "AH M",
    "ɑː": "AA", "ɔː": "AO", "iː": "IY", "uː": "UW", "ɜː": "ER",
    "ɑ": "AA", "ɒ": "AA", "æ": "AE", "a": "AE", "ʌ": "AH", "ɐ": "AH", "ə": "AH", "ɔ": "AO",
    "o": "OW", "ɚ": "ER", "ɜ": "ER", "ɛ": "EH", "e": "EH", "ɪ": "IH", "ᵻ": "IH", "i": "IY",
    "ʊ": "UH", "u": "UW", "y": "UW",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "ɡ": "G", "g": "G", "f": "F", "v": "V",
    "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "m": "M",
    "n": "N", "ŋ": "NG", "l": "L", "ɹ": "R", "r": "R", "ɾ": "T", "ʔ": "T", "j": "Y", "w": "W",
    "x": "K", "ç": "HH", "ʍ": "W", "ɬ": "L",
}  # fmt: skip
_IGNORED = set("ˈˌː‍_-. \u0361\u035c")
_SYMBOLS = sorted(IPA_TO_ARPABET, key=len, reverse=True)


def ipa_to_arpabet(ipa: str) -> str:
    """Map one word's IPA to space-separated ARPAbet phones; unknown symbols are skipped."""
    phones: list[str] = []
    position = 0
    while position < len(ipa):
        if ipa[position] in _IGNORED:
            position += 1
            continue
        for symbol in _SYMBOLS:
            if ipa.startswith(symbol, position):
                phones.extend(IPA_TO_ARPABET[symbol].split())
                position += len(symbol)
                break
        else:
            position += 1
    return " ".join(phones)


def espeak_pronunciations(
    words: Iterable[str], voice: str = "en-us", timeout: float = 30.0
) -> dict[str, str]:
    """ARPAbet pronunciations of ``words`` derived from espeak-ng's IPA, one call for all words.

    Args:
        words: Lower-case words without spaces.
        voice: The espeak-ng voice whose spelling rules apply.
        timeout: Seconds before espeak-ng is stopped.

    Returns:
        Word → phones, for every word espeak-ng could spell.

    Raises:
        ResourceUnavailable: espeak-ng is not installed or hung.
        BusinessError: espeak-ng produced no pronunciation for some word.
    """
    wanted = [w for w in dict.fromkeys(words) if w]
    if not wanted:
        return {}
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise ResourceUnavailable(
            f"espeak-ng is not installed, so no pronunciation can be derived for {', '.join(wanted)}"
        )
    try:
        done = subprocess.run(
            [binary, "-q", "--ipa", "-v", voice, "--stdin"],
            input="\n".join(f"{w}." for w in wanted).encode(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ResourceUnavailable("espeak-ng did not spell the unknown words in time") from exc
    lines = [line.strip() for line in done.stdout.decode("utf-8", "replace").splitlines() if line.strip()]
    if done.returncode != 0 or len(lines) != len(wanted):
        raise BusinessError(
            f"could not derive pronunciations for {', '.join(wanted)} with espeak-ng "
            f"(got {len(lines)} lines for {len(wanted)} words); give them in 'pronunciations'",
            code="unknown_word",
        )
    result = {}
    for word, ipa in zip(wanted, lines, strict=True):
        phones = ipa_to_arpabet(ipa)
        if phones:
            result[word] = phones
    return result
