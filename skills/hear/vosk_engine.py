"""Speech recognition with Vosk (Kaldi) and a model the operator supplies: used for Mandarin.

No package on PyPI ships a Mandarin acoustic model and models cannot be downloaded at run time
here, so this engine only loads a model folder named in the settings, for example Vosk's
``vosk-model-small-cn-0.22`` unpacked under ``/opt/models``::

    services:
      speech_recognizer:
        engines:
          zh: {engine: vosk, model_path: /opt/models/vosk-model-small-cn-0.22}

The ``vosk`` package itself is optional (``pip install vosk``); without it, or without the
model folder, building the engine raises ``ResourceUnavailable`` saying which is missing.
Grammar mode passes the phrases as Vosk's JSON phrase list (words must be in the model's
vocabulary; Vosk ignores unknown ones); JSGF text is not supported by Vosk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from skills import BusinessError, ResourceUnavailable
from skills.hear.audio import PcmAudio
from skills.hear.engines import Grammar, HeardWord, Transcript, TranscriptionEngine
from skills.hear.text import normalize_phrase

_CHUNK_BYTES = 8000
_NOT_WORD = re.compile(r"[^\w']+")


class VoskEngine(TranscriptionEngine):
    """Vosk with a model folder from the settings (``model_path``, required)."""

    name: ClassVar[str] = "vosk"

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        settings = dict(settings or {})
        raw_path = settings.get("model_path")
        if not raw_path:
            raise ResourceUnavailable(
                "the vosk engine needs 'model_path', the folder of a Vosk model (for Mandarin, "
                "vosk-model-small-cn-0.22 unpacked by the operator); see docs/speech.md"
            )
        model_path = Path(str(raw_path)).expanduser()
        if not (model_path / "am").is_dir() and not (model_path / "conf").is_dir():
            raise ResourceUnavailable(
                f"expected a Vosk model folder (with am/ and conf/) at {model_path}, found "
                f"{'nothing' if not model_path.exists() else 'something else'}"
            )
        try:
            import vosk
        except ImportError as exc:
            raise ResourceUnavailable(
                "the vosk engine needs the 'vosk' package, which is not installed (pip install vosk)"
            ) from exc
        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self._model = vosk.Model(str(model_path))

    def transcribe(self, audio: PcmAudio, grammar: Grammar | None = None) -> Transcript:
        if grammar is not None and grammar.jsgf:
            raise BusinessError(
                "the vosk engine takes a list of expected phrases, not a JSGF grammar", code="bad_grammar"
            )
        if grammar is not None:
            # Spaces are kept: they separate the words of the model's vocabulary ("我 确认").
            phrases = [" ".join(_NOT_WORD.sub(" ", p.lower()).split()) for p in grammar.phrases]
            recognizer = self._vosk.KaldiRecognizer(
                self._model, audio.sample_rate, json.dumps([*phrases, "[unk]"], ensure_ascii=False)
            )
        else:
            recognizer = self._vosk.KaldiRecognizer(self._model, audio.sample_rate)
        recognizer.SetWords(True)
        pieces: list[dict[str, Any]] = []
        for offset in range(0, len(audio.samples), _CHUNK_BYTES):
            if recognizer.AcceptWaveform(audio.samples[offset : offset + _CHUNK_BYTES]):
                pieces.append(json.loads(recognizer.Result()))
        pieces.append(json.loads(recognizer.FinalResult()))
        words = tuple(
            HeardWord(word=w["word"], start=round(w["start"], 2), end=round(w["end"], 2))
            for piece in pieces
            for w in piece.get("result", [])
            if w.get("word") != "[unk]"
        )
        text = normalize_phrase(" ".join(w.word for w in words))
        return Transcript(text=text, mode="grammar" if grammar else "free", engine=self.name, words=words)

    def close(self) -> None:
        self._model = None
