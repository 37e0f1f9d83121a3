"""Hear generated answers back with ``hear.transcribe`` and compare with the ground truth."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from skills.hear.answers import CONFIRMATION_INTENTS
from skills.hear.recognizer import speech_recognizer
from skills.hear.transcribe import TranscribeResult, transcribe
from skills.testing import run_skill, service_pool


@dataclass(frozen=True)
class Evaluation:
    """How many answers were heard as their intent, not recognised, or taken for another intent."""

    right: int
    unrecognised: int
    wrong: int
    lines: list[str]


def evaluate_answers(folder: Path) -> Evaluation:
    """Transcribe every file listed in ``folder/ground_truth.json`` in grammar mode."""
    truth: dict[str, str] = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    pool = service_pool([speech_recognizer])
    right = unrecognised = wrong = 0
    lines = []
    try:
        for name, intent in truth.items():
            result = run_skill(
                transcribe, {"audio": str(folder / name), "intents": CONFIRMATION_INTENTS}, services=pool
            )
            assert isinstance(result, TranscribeResult)
            if result.intent == intent:
                right += 1
                continue
            if result.intent is None:
                unrecognised += 1
            else:
                wrong += 1
            heard = (
                result.text or f"nothing (rejected {result.rejected_text!r}, confidence {result.confidence})"
            )
            lines.append(f"{name}: expected {intent}, heard {heard} -> {result.intent}")
    finally:
        pool.close()
    return Evaluation(right=right, unrecognised=unrecognised, wrong=wrong, lines=lines)
