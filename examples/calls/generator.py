"""Recorded customer answers for the interbank scenario's confirmation call, made with espeak-ng.

Before a large-value transfer is released, the bank calls the customer and reads the payment
back; the customer answers. Each generated file is one such answer: several voices and speeds,
mostly confirmations, some refusals and some "call me later", with a little white noise mixed
in by sox. ``ground_truth.json`` maps each file to the intent it expresses, and
``manifest.json`` records how each one was made. The same seed gives the same files.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from skills.hear.answers import CONFIRMATION_INTENTS

#: How often each intent is drawn.
INTENT_WEIGHTS = {"confirm": 0.6, "refuse": 0.25, "call_later": 0.15}
#: espeak-ng voices and the speeds (words per minute) each may speak at.
VOICES = ["en-us", "en-us+f3", "en-gb", "en-us+m3", "en-us+f2", "en-gb-x-rp"]
SPEEDS = (140, 200)
NOISE_VOLUMES = (0.003, 0.02)


@dataclass(frozen=True)
class CallAnswer:
    """One generated answer: the file and how it was made."""

    file: str
    intent: str
    text: str
    voice: str
    speed: int
    noise: float
    sample_rate: int


def _require(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise RuntimeError(
            f"{program} is not installed (apt-get install {program}); it is needed to make answers"
        )
    return found


def _record(answer: CallAnswer, target: Path, espeak: str, sox: str) -> None:
    with tempfile.TemporaryDirectory(prefix="rpa-calls-") as folder:
        spoken, noise = Path(folder) / "spoken.wav", Path(folder) / "noise.wav"
        speak = [espeak, "-v", answer.voice, "-s", str(answer.speed), "-w", str(spoken), "--stdin"]
        subprocess.run(speak, input=answer.text.encode(), check=True, capture_output=True)
        # -R: sox's fixed random seed, so noise and dither are the same on every run.
        subprocess.run(
            [sox, "-R", "-V1", str(spoken), str(noise), "synth", "whitenoise", "vol", f"{answer.noise:.4f}"],
            check=True,
        )
        subprocess.run(
            [
                sox,
                "-R",
                "-V1",
                "-m",
                str(spoken),
                str(noise),
                "-b",
                "16",
                "-r",
                str(answer.sample_rate),
                str(target),
            ],
            check=True,
        )


def plan_answers(seed: int, count: int, sample_rate: int = 16000) -> list[CallAnswer]:
    """Decide what each answer says and how, without touching the disk."""
    if count < 1:
        raise ValueError(f"expected at least one answer, got count={count}")
    chooser = random.Random(seed)  # reproducible sample calls, not secrets  # nosec B311
    intents = list(INTENT_WEIGHTS)
    answers = []
    for number in range(1, count + 1):
        intent = chooser.choices(intents, weights=[INTENT_WEIGHTS[i] for i in intents])[0]
        answers.append(
            CallAnswer(
                file=f"call_{number:03d}.wav",
                intent=intent,
                text=chooser.choice(CONFIRMATION_INTENTS[intent]),
                voice=chooser.choice(VOICES),
                speed=chooser.randint(*SPEEDS),
                noise=round(chooser.uniform(*NOISE_VOLUMES), 4),
                sample_rate=sample_rate,
            )
        )
    return answers


def record_answer(answer: CallAnswer, target: Path) -> Path:
    """Write one answer recording to ``target`` (``answer.file`` is ignored); returns ``target``.

    For callers that decide the answers themselves, e.g. a scenario that names each recording
    after the voucher it confirms.
    """
    espeak, sox = _require("espeak-ng"), _require("sox")
    target.parent.mkdir(parents=True, exist_ok=True)
    _record(answer, target, espeak, sox)
    return target


def generate_answers(
    out: Path, *, seed: int = 7, count: int = 12, sample_rate: int = 16000
) -> list[CallAnswer]:
    """Write ``count`` answer recordings, ``ground_truth.json`` and ``manifest.json`` into ``out``.

    Args:
        out: The folder (created if missing).
        seed: The random seed; the same seed gives the same answers.
        count: How many answers.
        sample_rate: 16000 (wideband) or 8000 (a telephone line).

    Returns:
        The answers written, in file order.
    """
    espeak, sox = _require("espeak-ng"), _require("sox")
    out.mkdir(parents=True, exist_ok=True)
    answers = plan_answers(seed, count, sample_rate)
    for answer in answers:
        _record(answer, out / answer.file, espeak, sox)
    truth = {a.file: a.intent for a in answers}
    (out / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    manifest = {"seed": seed, "answers": [asdict(a) for a in answers]}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return answers
