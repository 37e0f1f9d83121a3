"""The contract of a speech-to-text engine, and what it is given and gives back.

An engine turns 16 kHz mono PCM into text, either freely or restricted to a grammar of expected
answers. Engines are built once per process by the ``speech_recognizer`` service
(``skills/hear/recognizer.py``), which picks one per language from the settings::

    services:
      speech_recognizer:
        engines:
          en: {engine: pocketsphinx}                                   # the default
          zh: {engine: vosk, model_path: /opt/models/vosk-model-small-cn-0.22}

Implementations: ``PocketsphinxEngine`` (English, model shipped in the pocketsphinx wheel) and
``VoskEngine`` (any language, model supplied by the operator; used for Mandarin).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from skills.hear.audio import PcmAudio
from skills.hear.text import normalize_phrase

_JSGF_NOISE = re.compile(
    r"//[^\n]*|/\*.*?\*/|#JSGF[^;]*;|\bgrammar\s+[\w.]+\s*;|\bimport\s+<[^>]*>\s*;|<[^>]*>|\{[^}]*\}"
    r"|/\s*[\d.]+\s*/|\bpublic\b",
    re.DOTALL,
)
_JSGF_OPERATORS = re.compile(r"[=|;()\[\]*+\"]")


@dataclass(frozen=True)
class Grammar:
    """What the speaker is expected to say: a list of phrases, or a JSGF grammar text.

    ``pronunciations`` gives phones (ARPAbet for the English engine) for words the engine's
    dictionary lacks.
    """

    phrases: tuple[str, ...] = ()
    jsgf: str | None = None
    pronunciations: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.phrases and not self.jsgf:
            raise ValueError("a grammar needs at least one phrase or a JSGF text")

    def to_jsgf(self) -> str:
        """The JSGF text: given as is, or one alternative per normalised phrase."""
        if self.jsgf:
            return self.jsgf
        alternatives = sorted({normalize_phrase(p) for p in self.phrases} - {""})
        return "#JSGF V1.0;\ngrammar answers;\npublic <answer> = " + " | ".join(alternatives) + ";\n"

    def words(self) -> list[str]:
        """Every word the grammar can produce (from the phrases or the JSGF text), in order."""
        text = " ".join(normalize_phrase(p) for p in self.phrases) if not self.jsgf else self.jsgf
        if self.jsgf:
            text = _JSGF_OPERATORS.sub(" ", _JSGF_NOISE.sub(" ", text))
        return list(dict.fromkeys(text.split()))


@dataclass(frozen=True)
class HeardWord:
    """One recognised word with its start and end in seconds from the start of the audio."""

    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Transcript:
    """What an engine heard: normalised text, the mode used and per-word timings if known.

    ``confidence`` (0..1, grammar mode) says how likely the text is really one of the grammar's
    phrases rather than other speech forced onto the closest phrase; ``None`` when the engine
    cannot tell.
    """

    text: str
    mode: str
    engine: str
    words: tuple[HeardWord, ...] = ()
    confidence: float | None = None


class TranscriptionEngine(ABC):
    """A speech-to-text engine, built once per process and used under the service's lock.

    Implementations must not download anything: models come from an installed package or a
    path in the settings, and a missing one raises ``ResourceUnavailable`` when the engine is
    built, with a message saying what to install or configure.
    """

    #: The name used in the settings (``engine: pocketsphinx``).
    name: ClassVar[str]

    @abstractmethod
    def transcribe(self, audio: PcmAudio, grammar: Grammar | None = None) -> Transcript:
        """Recognise ``audio`` (16 kHz mono 16-bit).

        Args:
            audio: The samples, already normalised by ``skills.hear.audio.load_pcm``.
            grammar: When given, only phrases of the grammar can be recognised ("grammar
                mode"); the text is empty when no phrase fits. Otherwise free recognition.

        Returns:
            The normalised transcript.

        Raises:
            BusinessError: The grammar is invalid or uses words that cannot be pronounced.
        """

    def close(self) -> None:  # noqa: B027 - engines without resources need not override it
        """Release the model; called once at shutdown."""
