"""Speech round trip: speak.say speaks 20 banking confirmation answers, hear.transcribe hears them.

Prints the word accuracy of grammar-mode recognition, for a list of expected phrases and for a
JSGF grammar that admits thousands of other answers (any amount up to 999,999, seven
counterparties), on clean 22 kHz speech and on telephone-like audio (8 kHz with white noise).
The floors asserted here are far below the measured figures (docs/benchmarks/speech.md): they
only catch breakage.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from skills.hear.transcribe import TranscribeResult, transcribe
from skills.speak.say import SayResult, say
from skills.testing import run_skill

SENTENCES = [
    ("yes I confirm the payment of twelve thousand yuan to Shanghai Trading", "confirm"),
    ("no I do not authorise this transfer", "refuse"),
    ("please call me later", "call_later"),
    ("yes I confirm", "confirm"),
    ("no I do not confirm", "refuse"),
    ("yes I authorise the transfer to Beijing Logistics", "confirm"),
    ("yes the amount of fifty thousand yuan is correct", "confirm"),
    ("no I did not send this payment", "refuse"),
    ("please call me back tomorrow morning", "call_later"),
    ("yes I confirm the payment of three hundred thousand yuan to Guangzhou Textiles", "confirm"),
    ("no the amount is wrong", "refuse"),
    ("yes please release the payment", "confirm"),
    ("no please stop this transfer", "refuse"),
    ("I am busy please call me later", "call_later"),
    ("yes I confirm the transfer of eight thousand five hundred yuan", "confirm"),
    ("no I do not know this company", "refuse"),
    ("yes the beneficiary is Shenzhen Electronics", "confirm"),
    ("please hold the payment until I call you back", "call_later"),
    ("yes I confirm the payment to Hangzhou Tea Company", "confirm"),
    ("no I do not recognise this account", "refuse"),
]
INTENTS = {"confirm": ["yes"], "refuse": ["no"], "call_later": ["please call me", "please hold the payment"]}
VOICES = [("en-us", 175), ("en-us+f3", 150), ("en-gb", 190), ("en-us+m3", 165), ("en-us+f2", 200)]

CONFIRMATION_GRAMMAR = """#JSGF V1.0;
grammar confirmation_call;
public <answer> = <confirm> | <refuse> | <later>;
<confirm> = yes i confirm [<what>] | yes i authorise the transfer [to <company>]
          | yes the amount of <amount> yuan is correct | yes please release the payment
          | yes the beneficiary is <company> | yes that is correct;
<what> = the (payment | transfer) [of <amount> yuan] [to <company>];
<refuse> = no i do not (confirm | authorise this transfer | know this company | recognise this account)
         | no i did not send this payment | no the amount is wrong | no please stop this transfer
         | no stop the payment;
<later> = [i am busy] please call me (later | back tomorrow morning)
        | please hold the payment until i call you back | call me back later;
<amount> = <hundreds> thousand [<hundreds>] | <hundreds>;
<hundreds> = <digit> hundred [<below_hundred>] | <below_hundred>;
<below_hundred> = <digit> | <teen> | <tens> [<digit>];
<digit> = one | two | three | four | five | six | seven | eight | nine;
<teen> = ten | eleven | twelve | thirteen | fourteen | fifteen | sixteen | seventeen | eighteen | nineteen;
<tens> = twenty | thirty | forty | fifty | sixty | seventy | eighty | ninety;
<company> = shanghai trading | beijing logistics | guangzhou textiles | shenzhen electronics
          | hangzhou tea company | wuhan steel | chengdu foods;
"""


def _speak_all(work_dir: Path) -> list[Path]:
    paths = []
    for index, (sentence, _) in enumerate(SENTENCES):
        voice, rate = VOICES[index % len(VOICES)]
        spoken = run_skill(say, {"text": sentence, "voice": voice, "rate": rate}, work_dir=work_dir)
        assert isinstance(spoken, SayResult)
        paths.append(Path(spoken.path))
    return paths


def _telephone(audio: list[Path], sox: str) -> list[Path]:
    """The same speech as a phone line would carry it: 8 kHz, with white noise mixed in."""
    converted = []
    for path in audio:
        noise, out = path.with_suffix(".noise.wav"), path.with_suffix(".8k.wav")
        subprocess.run(
            [sox, "-R", "-V1", str(path), str(noise), "synth", "whitenoise", "vol", "0.02"], check=True
        )
        subprocess.run([sox, "-R", "-V1", "-m", str(path), str(noise), "-r", "8000", str(out)], check=True)
        converted.append(out)
    return converted


def _measure(
    pool: object,
    audio: list[Path],
    intents: dict[str, list[str]] | None = None,
    sentences: list[tuple[str, str]] = SENTENCES,
    **grammar: object,
) -> tuple[float, float, list[str]]:
    """Word accuracy (1 - word error rate), share of intents right, and the misses."""
    errors = words = right_intents = 0
    misses = []
    for path, (sentence, intent) in zip(audio, sentences, strict=True):
        params = {"audio": str(path), "intents": INTENTS if intents is None else intents, **grammar}
        result = run_skill(transcribe, params, services=pool)
        assert isinstance(result, TranscribeResult)
        reference = sentence.lower().split()
        errors += Levenshtein.distance(reference, result.text.split())
        words += len(reference)
        right_intents += result.intent == intent
        if result.text != sentence.lower():
            misses.append(f"{sentence!r} -> {result.text!r} (confidence {result.confidence})")
    return 1 - errors / words, right_intents / len(sentences), misses


def test_speech_round_trip_word_accuracy(
    recognizer_pool: object, tmp_path: Path, espeak: str, sox: str
) -> None:
    audio = _speak_all(tmp_path)
    phrases = [sentence for sentence, _ in SENTENCES]
    list_accuracy, list_intents, list_misses = _measure(recognizer_pool, audio, expected=phrases)
    jsgf_accuracy, jsgf_intents, jsgf_misses = _measure(recognizer_pool, audio, grammar=CONFIRMATION_GRAMMAR)
    # Free recognition is slow (about 0.5 s of CPU per answer): every other sentence is enough.
    free_accuracy, _, _ = _measure(recognizer_pool, audio[::2], intents={}, sentences=SENTENCES[::2])
    phone = _telephone(audio, sox)
    phone_accuracy, phone_intents, phone_misses = _measure(
        recognizer_pool, phone, grammar=CONFIRMATION_GRAMMAR
    )
    print(f"\nspeech round trip, {len(SENTENCES)} sentences, {len(VOICES)} espeak-ng voices:")
    print(
        f"  phrase list ({len(phrases)} phrases): word accuracy {list_accuracy:.1%}, intents {list_intents:.0%}"
    )
    print(
        f"  JSGF grammar (any amount, 7 companies): word accuracy {jsgf_accuracy:.1%}, intents {jsgf_intents:.0%}"
    )
    print(
        f"  free recognition (no grammar), 10 of the sentences, for comparison: word accuracy {free_accuracy:.1%}"
    )
    print(
        f"  JSGF grammar, 8 kHz + noise (phone line): word accuracy {phone_accuracy:.1%}, intents {phone_intents:.0%}"
    )
    for miss in list_misses + jsgf_misses + [f"(8 kHz) {m}" for m in phone_misses]:  # free-mode misses: all
        print(f"  miss: {miss}")
    assert list_accuracy >= 0.85
    assert jsgf_accuracy >= 0.80
    assert list_intents >= 0.85
    assert jsgf_intents >= 0.80
    assert jsgf_accuracy > free_accuracy + 0.3
    assert phone_accuracy >= 0.65
    assert phone_intents >= 0.70
