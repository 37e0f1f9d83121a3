"""examples.calls: recorded confirmation-call answers, and hear.transcribe on them."""

from __future__ import annotations

import hashlib
import json
import wave
from pathlib import Path

import pytest

from examples.calls import generate_answers, plan_answers
from examples.calls.__main__ import main
from skills.hear.answers import CONFIRMATION_INTENTS
from skills.hear.transcribe import TranscribeResult, transcribe
from skills.testing import run_skill

pytestmark = pytest.mark.usefixtures("espeak", "sox")


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.wav"))}


def test_answers_with_ground_truth_are_reproducible(tmp_path: Path) -> None:
    answers = generate_answers(tmp_path / "a", seed=11, count=8)
    truth = json.loads((tmp_path / "a" / "ground_truth.json").read_text())
    assert truth == {a.file: a.intent for a in answers}
    assert set(truth.values()) <= set(CONFIRMATION_INTENTS)
    with wave.open(str(tmp_path / "a" / answers[0].file)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (16000, 1, 2)
    generate_answers(tmp_path / "b", seed=11, count=8)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["seed"] == 11
    assert len(manifest["answers"]) == 8


def test_plan_mixes_intents_voices_and_speeds() -> None:
    answers = plan_answers(seed=5, count=60)
    assert {a.intent for a in answers} == {"confirm", "refuse", "call_later"}
    assert len({a.voice for a in answers}) >= 4
    assert len({a.speed for a in answers}) >= 10
    assert all(0.003 <= a.noise <= 0.02 for a in answers)
    with pytest.raises(ValueError, match="at least one"):
        plan_answers(seed=1, count=0)


def test_recorded_answers_are_heard_as_their_intent(tmp_path: Path, recognizer_pool: object) -> None:
    answers = generate_answers(tmp_path, seed=7, count=8)
    heard = []
    for answer in answers:
        result = run_skill(
            transcribe,
            {"audio": str(tmp_path / answer.file), "intents": CONFIRMATION_INTENTS},
            services=recognizer_pool,
        )
        assert isinstance(result, TranscribeResult)
        heard.append(result.intent)
    right = sum(h == a.intent for h, a in zip(heard, answers, strict=True))
    wrong = sum(h is not None and h != a.intent for h, a in zip(heard, answers, strict=True))
    print(f"\nexample calls: {right}/{len(answers)} intents right, {wrong} wrong")
    assert wrong == 0
    assert right >= len(answers) - 1


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path), "--seed", "2", "--count", "3", "--telephone", "--evaluate"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 3 answers" in printed
    assert "heard back: " in printed
    with wave.open(str(tmp_path / "call_001.wav")) as reader:
        assert reader.getframerate() == 8000
