"""Text to speech with espeak-ng, called as a program (it is GPL-3; it is never linked).

Voices: any espeak-ng voice name, plus the shortcuts ``en`` (→ ``en-us``) and ``zh`` / ``cmn`` /
``mandarin`` (→ ``cmn-latn-pinyin``). espeak-ng 1.51's plain ``cmn`` voice reads Chinese
characters as pinyin with the tone digits spoken in English ("que four ren four"); the
``cmn-latn-pinyin`` voice speaks them as Mandarin syllables, so the shortcuts use it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

from skills import BusinessError, ResourceUnavailable

VOICE_SHORTCUTS = {
    "en": "en-us",
    "zh": "cmn-latn-pinyin",
    "cmn": "cmn-latn-pinyin",
    "mandarin": "cmn-latn-pinyin",
}
_VOICE_NAME = re.compile(r"^[a-z]{2,3}(-[a-z0-9]+)*(\+[a-z0-9]+)?$")


@dataclass(frozen=True)
class SpeechAudio:
    """A synthesised WAV file's bytes and what is known about it."""

    wav: bytes
    voice: str
    sample_rate: int
    duration_seconds: float


def resolve_voice(voice: str) -> str:
    """The espeak-ng voice for a name or shortcut; refuses names that are not voice names."""
    chosen = VOICE_SHORTCUTS.get(voice.lower(), voice)
    if not _VOICE_NAME.match(chosen):
        raise BusinessError(
            f"expected an espeak-ng voice name (en-us, en-gb, en-us+f3, cmn-latn-pinyin...), got {voice!r}",
            code="unknown_voice",
        )
    return chosen


def _binary(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ResourceUnavailable(f"{name} is not installed (apt-get install {package})")
    return found


def synthesize(
    text: str,
    voice: str = "en-us",
    rate: int = 175,
    pitch: int = 50,
    word_gap_ms: int = 0,
    sample_rate: int | None = None,
    timeout: float = 60.0,
) -> SpeechAudio:
    """Speak ``text`` into WAV bytes (mono, 16-bit).

    Args:
        text: What to say (UTF-8; Chinese needs a Mandarin voice).
        voice: An espeak-ng voice or a shortcut (see the module docstring).
        rate: Speed in words per minute.
        pitch: 0-99, 50 is the voice's normal pitch.
        word_gap_ms: Extra pause between words, in milliseconds (rounded to 10 ms).
        sample_rate: Resample to this rate with sox (espeak-ng writes 22,050 Hz).
        timeout: Seconds before the programs are stopped.

    Returns:
        The WAV bytes with voice, rate and duration.

    Raises:
        BusinessError: Empty text or an unknown voice.
        ResourceUnavailable: espeak-ng (or sox, when resampling) is missing or hung.
    """
    if not text.strip():
        raise BusinessError("expected text to speak, got an empty string", code="empty_text")
    chosen = resolve_voice(voice)
    espeak = _binary("espeak-ng", "espeak-ng")
    with tempfile.TemporaryDirectory(prefix="rpa-say-") as folder:
        spoken = Path(folder) / "spoken.wav"
        command = [
            espeak,
            "-v",
            chosen,
            "-s",
            str(rate),
            "-p",
            str(pitch),
            "-g",
            str(round(word_gap_ms / 10)),
        ]
        try:
            done = subprocess.run(
                [*command, "-w", str(spoken), "--stdin"],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ResourceUnavailable(f"espeak-ng did not finish within {timeout:.0f} s") from exc
        message = done.stderr.decode("utf-8", "replace").strip()
        if done.returncode != 0 or not spoken.exists():
            if "voice does not exist" in message:
                raise BusinessError(f"espeak-ng has no voice {chosen!r}", code="unknown_voice")
            raise ResourceUnavailable(f"espeak-ng failed (exit {done.returncode}): {message or 'no message'}")
        if sample_rate is not None:
            converted = Path(folder) / "converted.wav"
            sox = _binary("sox", "sox")
            subprocess.run(
                [
                    sox,
                    "-V1",
                    "-D",
                    str(spoken),
                    "-b",
                    "16",
                    "-c",
                    "1",
                    "-r",
                    str(sample_rate),
                    str(converted),
                ],
                capture_output=True,
                timeout=timeout,
                check=True,
            )
            spoken = converted
        wav = spoken.read_bytes()
        with wave.open(str(spoken)) as reader:
            rate_hz = reader.getframerate()
            duration = reader.getnframes() / rate_hz
    return SpeechAudio(wav=wav, voice=chosen, sample_rate=rate_hz, duration_seconds=duration)
