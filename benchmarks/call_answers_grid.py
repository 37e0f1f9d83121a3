"""Confirmation-call answers over a grid of voices, speeds and noise: heard right, unsure, wrong.

Every phrase of ``CONFIRMATION_INTENTS`` recorded as the demo's call generator records it
(``examples.calls.record_answer``: espeak-ng, sox white noise) with each of its six voices, at
``--speeds`` words per minute and two noise volumes, then heard back by ``hear.transcribe`` in
grammar mode. The baseline, in the same run, hears the same files without the alternate
pronunciations of ``skills.hear.pocketsphinx_engine.ALTERNATE_PRONUNCIATIONS`` (the packaged
dictionary alone). Prints, for both, how many answers were heard as their intent, how many were
rejected as unsure (they go to a person) and how many were taken for another intent (must stay
0), the unsure ones, and last ``ratio=<heard right with / heard right without>``.

    .venv/bin/python benchmarks/call_answers_grid.py [--speeds 140 170 200]
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from examples.calls import CallAnswer, record_answer
from examples.calls.generator import VOICES
from skills.hear import pocketsphinx_engine
from skills.hear.answers import CONFIRMATION_INTENTS
from skills.hear.recognizer import speech_recognizer
from skills.hear.transcribe import TranscribeResult, transcribe
from skills.testing import run_skill, service_pool

NOISES = (0.003, 0.02)


@dataclass
class Tally:
    right: int = 0
    unsure: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)


def record_grid(folder: Path, speeds: list[int]) -> list[CallAnswer]:
    answers = []
    for intent, phrases in CONFIRMATION_INTENTS.items():
        for phrase in phrases:
            for voice in VOICES:
                for speed in speeds:
                    for noise in NOISES:
                        name = f"{len(answers):04d}.wav"
                        answer = CallAnswer(name, intent, phrase, voice, speed, noise, 16000)
                        record_answer(answer, folder / name)
                        answers.append(answer)
    return answers


def hear_grid(folder: Path, answers: list[CallAnswer], alternates: dict[str, str]) -> Tally:
    """One fresh recogniser for the whole grid, in the same order each time."""
    pocketsphinx_engine.ALTERNATE_PRONUNCIATIONS = alternates
    pool = service_pool([speech_recognizer])
    tally = Tally()
    try:
        for answer in answers:
            result = run_skill(
                transcribe,
                {"audio": str(folder / answer.file), "intents": CONFIRMATION_INTENTS},
                services=pool,
            )
            assert isinstance(result, TranscribeResult)
            label = f"{answer.text!r} {answer.voice} {answer.speed} wpm noise {answer.noise}"
            if result.intent == answer.intent:
                tally.right += 1
            elif result.intent is None:
                tally.unsure.append(f"{label}: confidence {result.confidence}")
            else:
                tally.wrong.append(f"{label}: heard {result.text!r} ({result.intent})")
    finally:
        pool.close()
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeds", type=int, nargs="+", default=[140, 170, 200])
    args = parser.parse_args()
    shipped = dict(pocketsphinx_engine.ALTERNATE_PRONUNCIATIONS)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        answers = record_grid(folder, args.speeds)
        without = hear_grid(folder, answers, {})
        with_alternates = hear_grid(folder, answers, shipped)
    total = len(answers)
    for name, tally in (("dictionary alone", without), (f"with {shipped}", with_alternates)):
        print(f"{name}: {tally.right}/{total} right, {len(tally.unsure)} unsure, {len(tally.wrong)} wrong")
        for line in tally.unsure + tally.wrong:
            print(f"  {line}")
    print(f"ratio={with_alternates.right / without.right:.4f}")


if __name__ == "__main__":
    main()
