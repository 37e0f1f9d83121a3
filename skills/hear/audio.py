"""Bring any audio file to what recognisers expect: 16 kHz, mono, 16-bit signed PCM (via sox).

sox is called as a program with a fixed argument list; it reads WAV at any rate and channel
count (and whatever else the local sox build reads) and writes raw little-endian samples to
stdout, so nothing is left on disk.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from skills import BusinessError, ResourceUnavailable

RECOGNISER_SAMPLE_RATE = 16000
_BYTES_PER_SAMPLE = 2


@dataclass(frozen=True)
class PcmAudio:
    """Raw 16-bit little-endian mono samples at ``sample_rate``."""

    samples: bytes
    sample_rate: int

    @property
    def duration_seconds(self) -> float:
        return len(self.samples) / (_BYTES_PER_SAMPLE * self.sample_rate)


def sox_binary() -> str:
    """The path of sox, or a ``ResourceUnavailable`` saying it must be installed."""
    found = shutil.which("sox")
    if found is None:
        raise ResourceUnavailable(
            "sox is not installed (apt-get install sox); it converts audio for recognition"
        )
    return found


def load_pcm(path: Path, sample_rate: int = RECOGNISER_SAMPLE_RATE, timeout: float = 60.0) -> PcmAudio:
    """Read an audio file and convert it to mono 16-bit PCM at ``sample_rate``.

    Args:
        path: The audio file (WAV at any rate or channel count).
        sample_rate: The rate the recogniser wants.
        timeout: Seconds before sox is stopped.

    Returns:
        The converted samples.

    Raises:
        BusinessError: The file is missing, is not audio sox can read, or holds no samples.
        ResourceUnavailable: sox is not installed or did not finish in time.
    """
    if not path.is_file():
        raise BusinessError(f"expected an audio file at {path}, found nothing there", code="audio_not_found")
    command = [sox_binary(), "-V1", "-D", str(path)]
    command += ["-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-c", "1", "-r", str(sample_rate), "-"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ResourceUnavailable(f"sox did not convert {path.name} within {timeout:.0f} s") from exc
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1] if lines else "unknown error"
        raise BusinessError(
            f"expected a readable audio file at {path}, sox said: {reason}",
            code="unreadable_audio",
        )
    if not done.stdout:
        raise BusinessError(f"the audio file {path} holds no samples", code="empty_audio")
    return PcmAudio(samples=done.stdout, sample_rate=sample_rate)
