"""Pronunciations derived from espeak-ng's IPA for words CMUdict lacks."""

from __future__ import annotations

import pytest

from skills.hear.pronounce import espeak_pronunciations, ipa_to_arpabet


@pytest.mark.parametrize(
    ("ipa", "phones"),
    [
        ("hˈæŋʒuː", "HH AE NG ZH UW"),
        ("ˈɔːθɚɹˌaɪz", "AO TH ER AY Z"),
        ("tʃˈɛk", "CH EH K"),
        ("bˈʌʔn̩", "B AH T AH N"),
        ("dʒˈɔɪ", "JH OY"),
    ],
)
def test_ipa_to_arpabet(ipa: str, phones: str) -> None:
    assert ipa_to_arpabet(ipa) == phones


@pytest.mark.usefixtures("espeak")
def test_espeak_spells_unknown_words() -> None:
    phones = espeak_pronunciations(["hangzhou", "authorise", "shenzhen"])
    assert phones["hangzhou"].startswith("HH AE NG")
    assert phones["authorise"] == "AO TH ER AY Z"
    assert set(phones["shenzhen"].split()) <= {"SH", "EH", "N", "ZH", "AH", "IH"}
