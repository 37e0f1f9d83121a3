"""speak.say: turn text into a WAV file with espeak-ng."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, Field

from skills import SkillContext, skill
from skills.hear.paths import confined_path, write_atomically
from skills.paths import confine
from skills.speak.voice import synthesize


class SayParams(BaseModel):
    """What to say, with which voice, and where to put the WAV file."""

    text: str = Field(min_length=1, max_length=10_000, description="What to say (English or Chinese).")
    voice: str = Field(
        "en-us",
        description="espeak-ng voice (en-us, en-gb, en-us+f3...) or a shortcut: en, zh / cmn / mandarin.",
    )
    rate: int = Field(175, ge=80, le=450, description="Speed in words per minute.")
    pitch: int = Field(50, ge=0, le=99, description="Pitch, 0-99; 50 is the voice's normal pitch.")
    word_gap_ms: int = Field(0, ge=0, le=2000, description="Extra pause between words, in milliseconds.")
    sample_rate: int | None = Field(
        None, ge=8000, le=48000, description="Resample to this rate (Hz); espeak-ng writes 22,050 Hz."
    )
    output: str | None = Field(
        None, description="Relative path of the WAV file under the output root; default speech/<hash>.wav."
    )
    output_root: str | None = Field(
        None, description="Folder outputs are confined to; default the work folder."
    )


class SayResult(BaseModel):
    path: str = Field(description="Absolute path of the WAV file.")
    duration_seconds: float = Field(description="Length of the speech.")
    sha256: str = Field(description="SHA-256 of the WAV file.")
    sample_rate: int = Field(description="Sample rate of the WAV file (Hz).")
    voice: str = Field(description="The espeak-ng voice used.")


def _default_name(params: SayParams) -> str:
    fingerprint = repr(
        (params.text, params.voice, params.rate, params.pitch, params.word_gap_ms, params.sample_rate)
    )
    return f"speech/{hashlib.sha256(fingerprint.encode()).hexdigest()[:16]}.wav"


@skill("speak.say", effect="idempotent", timeout="60s")
def say(ctx: SkillContext, params: SayParams) -> SayResult:
    """Speak text into a WAV file with espeak-ng (English and Mandarin voices).

    The same parameters give the same file, so repeating the step changes nothing.
    """
    root = confine(ctx, params.output_root) if params.output_root else ctx.work_dir
    target = confined_path(root, params.output or _default_name(params), what="output path")
    speech = synthesize(
        params.text,
        voice=params.voice,
        rate=params.rate,
        pitch=params.pitch,
        word_gap_ms=params.word_gap_ms,
        sample_rate=params.sample_rate,
    )
    write_atomically(target, speech.wav)
    return SayResult(
        path=str(target),
        duration_seconds=round(speech.duration_seconds, 3),
        sha256=hashlib.sha256(speech.wav).hexdigest(),
        sample_rate=speech.sample_rate,
        voice=speech.voice,
    )
