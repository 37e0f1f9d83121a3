"""The ``speech_recognizer`` service: one engine per language, built once per process.

The factory receives the ``services`` section of the settings and reads its
``speech_recognizer`` entry::

    services:
      speech_recognizer:
        engines:
          en: {engine: pocketsphinx}                       # default; optional hmm/dict/lm paths
          zh: {engine: vosk, model_path: /opt/models/vosk-model-small-cn-0.22}

Engines are created on first use, so a process that never hears Mandarin never needs a
Mandarin model. Decoders are not thread-safe: every transcription holds the service's lock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from skills import ResourceUnavailable, service
from skills.hear.audio import PcmAudio
from skills.hear.engines import Grammar, Transcript, TranscriptionEngine
from skills.hear.pocketsphinx_engine import PocketsphinxEngine
from skills.hear.vosk_engine import VoskEngine

ENGINE_CLASSES: dict[str, type[TranscriptionEngine]] = {
    PocketsphinxEngine.name: PocketsphinxEngine,
    VoskEngine.name: VoskEngine,
}
DEFAULT_ENGINES: dict[str, dict[str, Any]] = {"en": {"engine": "pocketsphinx"}}


class SpeechRecognizer:
    """Holds the configured engines and serialises access to them."""

    def __init__(self, engines: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._config = {**DEFAULT_ENGINES, **{k: dict(v) for k, v in (engines or {}).items()}}
        self._engines: dict[str, TranscriptionEngine] = {}
        self._lock = threading.Lock()

    @property
    def languages(self) -> list[str]:
        """The languages an engine is configured for."""
        return sorted(self._config)

    def _engine(self, language: str) -> TranscriptionEngine:
        engine = self._engines.get(language)
        if engine is not None:
            return engine
        config = self._config.get(language)
        if config is None:
            raise ResourceUnavailable(
                f"no speech engine is configured for language {language!r} (configured: "
                f"{', '.join(self.languages)}); set services.speech_recognizer.engines.{language}, "
                "see docs/speech.md"
            )
        kind = str(config.get("engine", ""))
        engine_class = ENGINE_CLASSES.get(kind)
        if engine_class is None:
            known = ", ".join(sorted(ENGINE_CLASSES))
            raise ResourceUnavailable(f"unknown speech engine {kind!r} for {language!r}; known: {known}")
        engine = engine_class({k: v for k, v in config.items() if k != "engine"})
        self._engines[language] = engine
        return engine

    def transcribe(self, audio: PcmAudio, language: str = "en", grammar: Grammar | None = None) -> Transcript:
        """Recognise ``audio`` with the engine of ``language`` (see ``TranscriptionEngine``)."""
        with self._lock:
            return self._engine(language).transcribe(audio, grammar)

    def close(self) -> None:
        """Close every engine that was built."""
        with self._lock:
            for engine in self._engines.values():
                engine.close()
            self._engines.clear()


@service("speech_recognizer")
def speech_recognizer(settings: Mapping[str, Any]) -> SpeechRecognizer:
    """Build the recogniser from ``settings["speech_recognizer"]["engines"]`` (all optional)."""
    section = settings.get("speech_recognizer") or {}
    return SpeechRecognizer(engines=section.get("engines"))
