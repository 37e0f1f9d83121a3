"""Confirmation-call answers over a grid of voices, speeds and noise: heard right, unsure, wrong.

Every phrase of ``CONFIRMATION_INTENTS`` recorded as the demo's call generator records it
(``examples.calls.record_answer``: espeak-ng, sox white noise) with each of its six voices, at
``--speeds`` words per minute and two noise volumes, then heard back by ``hear.transcribe`` in
grammar mode. The baseline, in the same run, hears the same files without the alternate
pronunciations of ``skills.hear.pocketsphinx_engine.ALTERNATE_PRONUNCIATIONS`` (the packaged
dictionary alone). Prints, for both, how many answers were heard as their intent, how many were
rejected as unsure (they go to a person) and how many were taken for another intent (must stay
0), each answer not heard as its intent, and last ``ratio=<heard right with / heard right without>``.

    .venv/bin/python benchmarks/call_answers_grid.py [--speeds 140 170 200]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from examples.calls import CallAnswer, record_answer
from examples.calls.evaluate import Evaluation, evaluate_answers
from examples.calls.generator import VOICES
from skills.hear import pocketsphinx_engine
from skills.hear.answers import CONFIRMATION_INTENTS

NOISES = (0.003, 0.02)


def record_grid(folder: Path, speeds: list[int]) -> int:
    """Record the grid into ``folder`` with its ``ground_truth.json`` (file → intent)."""
    truth: dict[str, str] = {}
    for intent, phrases in CONFIRMATION_INTENTS.items():
        for phrase in phrases:
            for voice in VOICES:
                for speed in speeds:
                    for noise in NOISES:
                        name = f"{len(truth):04d}-{voice}-{speed}wpm-noise{noise}.wav"
                        record_answer(
                            CallAnswer(name, intent, phrase, voice, speed, noise, 16000), folder / name
                        )
                        truth[name] = intent
    (folder / "ground_truth.json").write_text(json.dumps(truth), encoding="utf-8")
    return len(truth)


def hear_grid(folder: Path, alternates: dict[str, str]) -> Evaluation:
    """One fresh recogniser for the whole grid, in the same order each time."""
    pocketsphinx_engine.ALTERNATE_PRONUNCIATIONS = alternates
    return evaluate_answers(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeds", type=int, nargs="+", default=[140, 170, 200])
    args = parser.parse_args()
    shipped = dict(pocketsphinx_engine.ALTERNATE_PRONUNCIATIONS)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        total = record_grid(folder, args.speeds)
        without = hear_grid(folder, {})
        with_alternates = hear_grid(folder, shipped)
    for name, outcome in (("dictionary alone", without), (f"with {shipped}", with_alternates)):
        print(f"{name}: {outcome.right}/{total} right, {outcome.unrecognised} unsure, {outcome.wrong} wrong")
        for line in outcome.lines:
            print(f"  {line}")
    print(f"ratio={with_alternates.right / without.right:.4f}")


if __name__ == "__main__":
    main()
