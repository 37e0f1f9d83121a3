"""English speech recognition with pocketsphinx and the en-us model shipped in its wheel.

Grammar mode is what confirmation calls use, and its decoder is tuned against what failed here
(see docs/speech.md, "Why the grammar decoder is configured the way it is"):

* ``fsgusefiller=False``: with silence/noise fillers allowed at every grammar state, a filler
  loop on the state after "yes I confirm" swallowed the rest of "yes I confirm the payment of
  twelve thousand yuan ..." and the short phrase won. Without fillers every frame must be
  explained by grammar words, so leading and trailing silence is cut first with the
  pocketsphinx voice-activity detector.
* ``bestpath=False``: the lattice best-path pass dropped the last words of grammar phrases.
* wide beams and no HMM cap: the default beams pruned the right phrase of long answers and
  left no hypothesis at all. A grammar of a few dozen phrases stays cheap with them.

A grammar decoder always answers with *some* grammar phrase if one fits at all, so speech that
is not an expected answer ("can you repeat the amount") can come out as "please call me later".
Each grammar result therefore gets a **confidence**: the acoustic score of the grammar path is
compared, per frame, with that of an unconstrained phone loop over the same audio (the packaged
``en-us-phone.lm.bin``). Expected answers score close to the phone loop, other sentences far
below it; ``confidence`` maps that margin to 0..1 with 0.5 at the calibrated boundary
(docs/speech.md has the measurements). ``hear.transcribe`` rejects results below its
``min_confidence``.

A second decoding pass with fillers allowed was tried to spot an expected phrase inside a longer
answer, and dropped: it turned "sorry I did not hear you" into "yes I confirm". An answer longer
than every expected phrase is rejected and goes to a person unless the grammar covers it.

Free mode uses the packaged n-gram language model with the default settings; on synthetic
speech its word error rate is 0.78-0.93, so it is only a fallback for logging.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, ClassVar

from skills import BusinessError, ResourceUnavailable
from skills.hear.audio import RECOGNISER_SAMPLE_RATE, PcmAudio
from skills.hear.engines import Grammar, HeardWord, Transcript, TranscriptionEngine
from skills.hear.pronounce import espeak_pronunciations
from skills.hear.text import normalize_phrase

_WIDE_SEARCH: dict[str, Any] = {
    "bestpath": False,
    "beam": 1e-100,
    "pbeam": 1e-100,
    "wbeam": 1e-80,
    "maxhmmpf": -1,
}
#: Pronunciations the packaged dictionary lacks, added as alternates (``word(n)``). "correct"
#: is only K ER EH K T there; the reduced first vowel (/kəˈrɛkt/, British voices and most
#: fast speech) left "yes that is correct" the confirmation most often rejected as unsure
#: (docs/benchmarks/speech.md, "Alternate pronunciations").
ALTERNATE_PRONUNCIATIONS = {"correct(2)": "K AH R EH K T"}
_FRAMES_PER_SECOND = 100
#: Per-frame margin (grammar path minus phone loop, in pocketsphinx log units) where expected
#: answers and other speech were best separated on espeak-ng voices; confidence 0.5 there.
CONFIDENCE_BOUNDARY = -42.0
CONFIDENCE_SCALE = 4.0
_LOG_BASE = math.log(1.0001)  # pocketsphinx's default logbase: segment scores come back as base**score
_SPEECH_MARGIN_SECONDS = 0.09
_MAX_CACHED_GRAMMARS = 32
_ALTERNATE = re.compile(r"\(\d+\)")  # "the(2)": an alternate pronunciation in the dictionary


def _log_score(probability: float) -> float:
    """Back from the ``base**score`` the Python bindings return to the score."""
    return math.log(probability) / _LOG_BASE if probability > 0 else -1e9


def speech_bounds(audio: PcmAudio, margin_seconds: float = _SPEECH_MARGIN_SECONDS) -> tuple[int, int]:
    """Byte offsets of the speech in ``audio``, keeping ``margin_seconds`` around it.

    Uses pocketsphinx's voice-activity detector (WebRTC-style, 30 ms frames). When no frame is
    speech, the whole audio is returned.
    """
    from pocketsphinx import Vad

    vad = Vad(mode=Vad.LOOSE, sample_rate=audio.sample_rate)
    size = vad.frame_bytes
    samples = audio.samples
    flags = [vad.is_speech(samples[o : o + size]) for o in range(0, len(samples) - size + 1, size)]
    if not any(flags):
        return 0, len(samples)
    first = flags.index(True)
    last = len(flags) - 1 - flags[::-1].index(True)
    margin = round(margin_seconds / vad.frame_length)
    end = len(samples) if last + 1 + margin >= len(flags) else (last + 1 + margin) * size
    return max(0, first - margin) * size, end


class _GrammarDecoder:
    """A pocketsphinx decoder for grammar searches, with the searches it has compiled (LRU)."""

    def __init__(self, model: Mapping[str, str], use_fillers: bool) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(loglevel="FATAL", lm=None, fsgusefiller=use_fillers, **model, **_WIDE_SEARCH)
        for word, word_phones in ALTERNATE_PRONUNCIATIONS.items():
            self.decoder.add_word(word, word_phones, True)
        self._searches: OrderedDict[str, str] = OrderedDict()

    def activate(self, jsgf: str, key: str, phones: Mapping[str, str]) -> None:
        name = self._searches.get(key)
        if name is None:
            for word, word_phones in phones.items():
                if self.decoder.lookup_word(word) != word_phones:
                    try:
                        self.decoder.add_word(word, word_phones, True)
                    except RuntimeError as exc:
                        raise BusinessError(
                            f"the pronunciation {word_phones!r} of {word!r} uses phones the model "
                            "does not have",
                            code="bad_pronunciation",
                        ) from exc
            name = f"g{key}"
            try:
                self.decoder.add_jsgf_string(name, jsgf)
            except (ValueError, RuntimeError) as exc:
                raise BusinessError(
                    "the JSGF grammar could not be parsed: expected '#JSGF V1.0;', 'grammar NAME;' and "
                    f"'public <rule> = ...;' with balanced brackets ({exc})",
                    code="bad_grammar",
                ) from exc
            self._searches[key] = name
            if len(self._searches) > _MAX_CACHED_GRAMMARS:
                _, oldest = self._searches.popitem(last=False)
                self.decoder.remove_search(oldest)
        self._searches.move_to_end(key)
        self.decoder.activate_search(name)


class PocketsphinxEngine(TranscriptionEngine):
    """pocketsphinx 5 with its packaged en-us acoustic model, dictionary and language model.

    Settings (all optional): ``hmm`` (acoustic model folder), ``dict`` (pronunciation
    dictionary), ``lm`` (language model for free mode). The defaults are the files inside the
    installed pocketsphinx package; nothing is ever downloaded.
    """

    name: ClassVar[str] = "pocketsphinx"

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        try:
            import pocketsphinx
        except ImportError as exc:  # pragma: no cover - a dependency of the project
            raise ResourceUnavailable("the pocketsphinx package is not installed") from exc
        settings = dict(settings or {})
        model_root = pocketsphinx.get_model_path()
        self._model = {
            "hmm": str(settings.get("hmm") or os.path.join(model_root, "en-us", "en-us")),
            "dict": str(settings.get("dict") or os.path.join(model_root, "en-us", "cmudict-en-us.dict")),
        }
        self._lm = str(settings.get("lm") or os.path.join(model_root, "en-us", "en-us.lm.bin"))
        for key, path in (*self._model.items(), ("lm", self._lm)):
            if not os.path.exists(path):
                raise ResourceUnavailable(f"the pocketsphinx {key} file {path} does not exist")
        self._phone_lm = os.path.join(model_root, "en-us", "en-us-phone.lm.bin")
        self._strict: _GrammarDecoder | None = None
        self._free_decoder: Any = None
        self._phone_loop: Any = None
        self._phones: dict[str, tuple[str, dict[str, str]]] = {}

    def _free(self) -> Any:
        if self._free_decoder is None:
            from pocketsphinx import Decoder

            self._free_decoder = Decoder(loglevel="FATAL", lm=self._lm, **self._model)
        return self._free_decoder

    def _strict_decoder(self) -> _GrammarDecoder:
        if self._strict is None:
            self._strict = _GrammarDecoder(self._model, use_fillers=False)
        return self._strict

    def _phone_loop_decoder(self) -> Any:
        if self._phone_loop is None:
            from pocketsphinx import Decoder

            self._phone_loop = Decoder(
                loglevel="FATAL", allphone=self._phone_lm, bestpath=False, **self._model
            )
        return self._phone_loop

    def _confidence(self, decoder: Any, samples: bytes) -> float:
        """How close the grammar path's acoustic score is to an unconstrained phone loop's, 0..1."""
        frames = decoder.n_frames()
        if frames <= 0:
            return 0.0
        grammar_score = sum(_log_score(segment.ascore) for segment in decoder.seg())
        phone_loop = self._phone_loop_decoder()
        self._decode(phone_loop, samples)
        free_score = sum(_log_score(segment.ascore) for segment in phone_loop.seg())
        margin = (grammar_score - free_score) / frames
        return 1.0 / (1.0 + math.exp(-(margin - CONFIDENCE_BOUNDARY) / CONFIDENCE_SCALE))

    def _prepare(self, grammar: Grammar) -> tuple[str, str, dict[str, str]]:
        """The JSGF text, its cache key and the phones of the words the dictionary lacks."""
        jsgf = grammar.to_jsgf()
        key = hashlib.sha256(repr((jsgf, sorted(grammar.pronunciations.items()))).encode()).hexdigest()[:16]
        known = self._phones.get(key)
        if known is not None:
            return known[0], key, known[1]
        dictionary = self._strict_decoder().decoder
        given = {w.lower(): " ".join(p.upper().split()) for w, p in grammar.pronunciations.items()}
        missing = [w for w in grammar.words() if w in given or dictionary.lookup_word(w) is None]
        derived = espeak_pronunciations([w for w in missing if w not in given])
        phones = {}
        for word in missing:
            word_phones = given.get(word) or derived.get(word)
            if word_phones is None:
                raise BusinessError(
                    f"no pronunciation is known for {word!r}; give one in 'pronunciations'",
                    code="unknown_word",
                )
            phones[word] = word_phones
        self._phones[key] = (jsgf, phones)
        return jsgf, key, phones

    @staticmethod
    def _decode(decoder: Any, samples: bytes) -> Any:
        decoder.start_utt()
        decoder.process_raw(samples, full_utt=True)
        decoder.end_utt()
        return decoder.hyp()

    def transcribe(self, audio: PcmAudio, grammar: Grammar | None = None) -> Transcript:
        if audio.sample_rate != RECOGNISER_SAMPLE_RATE:
            raise ValueError(f"expected {RECOGNISER_SAMPLE_RATE} Hz audio, got {audio.sample_rate} Hz")
        offset, confidence = 0.0, None
        if grammar is None:
            decoder = self._free()
            hypothesis = self._decode(decoder, audio.samples)
        else:
            jsgf, key, phones = self._prepare(grammar)
            strict = self._strict_decoder()
            strict.activate(jsgf, key, phones)
            start, end = speech_bounds(audio)
            decoder = strict.decoder
            samples = audio.samples[start:end]
            hypothesis = self._decode(decoder, samples)
            offset = start / (2 * audio.sample_rate)
            confidence = self._confidence(decoder, samples) if hypothesis is not None else 0.0
        text = normalize_phrase(_ALTERNATE.sub("", hypothesis.hypstr)) if hypothesis is not None else ""
        words = tuple(
            HeardWord(
                word=_ALTERNATE.sub("", segment.word),
                start=round(offset + segment.start_frame / _FRAMES_PER_SECOND, 2),
                end=round(offset + (segment.end_frame + 1) / _FRAMES_PER_SECOND, 2),
            )
            for segment in (decoder.seg() if hypothesis is not None else ())
            if not segment.word.startswith(("<", "[", "(")) and segment.word.strip()
        )
        mode = "free" if grammar is None else "grammar"
        return Transcript(text=text, mode=mode, engine=self.name, words=words, confidence=confidence)

    def close(self) -> None:
        self._strict = self._free_decoder = self._phone_loop = None
        self._phones.clear()
