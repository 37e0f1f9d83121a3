"""Fixtures for the hear tests: real espeak-ng, sox and pocketsphinx (skipped when a binary is missing)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from skills.hear.recognizer import speech_recognizer
from skills.testing import service_pool

SpeakFunction = Callable[..., Path]


def require_binary(name: str) -> str:
    """The path of ``name``, or skip the test saying it is missing."""
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"this test needs {name}, and /usr/bin/{name} is missing")
    return found


@pytest.fixture
def espeak() -> str:
    """The espeak-ng program (the test is skipped when it is missing)."""
    return require_binary("espeak-ng")


@pytest.fixture
def sox() -> str:
    """The sox program (the test is skipped when it is missing)."""
    return require_binary("sox")


@pytest.fixture(scope="module")
def recognizer_pool() -> Iterator[object]:
    """A service pool with the speech recogniser, loaded once per test module."""
    pool = service_pool([speech_recognizer])
    yield pool
    pool.close()


@pytest.fixture
def speak_wav(tmp_path: Path) -> SpeakFunction:
    """Speak text with espeak-ng into a WAV file, optionally converted by sox (rate, channels, noise)."""
    espeak = require_binary("espeak-ng")
    sox = require_binary("sox")
    counter = iter(range(10_000))

    def speak(
        text: str,
        *,
        voice: str = "en-us",
        speed: int = 175,
        sample_rate: int | None = None,
        channels: int = 1,
        noise: float = 0.0,
    ) -> Path:
        index = next(counter)
        raw = tmp_path / f"raw{index}.wav"
        subprocess.run([espeak, "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
        if sample_rate is None and channels == 1 and not noise:
            return raw
        out = tmp_path / f"speech{index}.wav"
        effects = ["channels", str(channels)] + (["rate", str(sample_rate)] if sample_rate else [])
        if noise:
            noisy = tmp_path / f"noise{index}.wav"
            subprocess.run(
                [sox, "-R", "-V1", str(raw), str(noisy), "synth", "whitenoise", "vol", str(noise)], check=True
            )
            subprocess.run([sox, "-R", "-V1", "-m", str(raw), str(noisy), str(out), *effects], check=True)
        else:
            subprocess.run([sox, "-R", "-V1", str(raw), str(out), *effects], check=True)
        return out

    return speak
