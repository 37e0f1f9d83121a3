"""hear.transcribe: what did the caller say, and which expected answer was it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from skills import BusinessError, SkillContext, skill
from skills.hear.answers import decide_answer, expected_answers
from skills.hear.audio import load_pcm
from skills.hear.engines import Grammar
from skills.hear.recognizer import SpeechRecognizer


class TranscribeParams(BaseModel):
    """What to listen to and what answers are expected."""

    audio: str = Field(description="Audio file (WAV, any rate/channels); relative to the run's work folder.")
    language: Literal["en", "zh"] = Field("en", description="Spoken language: 'en' or 'zh' (Mandarin).")
    expected: list[str] = Field(
        default_factory=list, description="Phrases the speaker may say; they form the grammar (grammar mode)."
    )
    intents: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Intent → phrases expressing it, e.g. {confirm: [yes I confirm]}; also in the grammar.",
    )
    grammar: str | None = Field(
        None, description="A JSGF grammar text (English engine); then phrases are used only for matching."
    )
    pronunciations: dict[str, str] = Field(
        default_factory=dict, description="Word → ARPAbet phones for words the dictionary lacks."
    )
    min_coverage: float = Field(
        0.8, ge=0.1, le=1.0, description="Share of an expected phrase to hear in one piece for a match."
    )
    min_confidence: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Grammar results below this confidence count as not recognised (see docs/speech.md).",
    )
    require_match: bool = Field(
        False, description="Raise a business error (to a person) when no expected answer was recognised."
    )

    @model_validator(mode="after")
    def _matching_needs_phrases(self) -> TranscribeParams:
        if self.require_match and not (self.expected or self.intents):
            raise ValueError("require_match needs 'expected' or 'intents' to match against")
        return self


class HeardWordModel(BaseModel):
    word: str = Field(description="The recognised word.")
    start: float = Field(description="Start, seconds from the beginning of the audio.")
    end: float = Field(description="End, seconds from the beginning of the audio.")


class TranscribeResult(BaseModel):
    text: str = Field(description="What was recognised, normalised (lower case, no punctuation).")
    mode: Literal["grammar", "free"] = Field(description="'grammar' when phrases or JSGF were given.")
    engine: str = Field(description="The engine that recognised it (pocketsphinx, vosk).")
    matched: str | None = Field(description="The expected phrase that was heard, as written in the params.")
    intent: str | None = Field(description="The intent of the matched phrase; None if none or ambiguous.")
    confidence: float | None = Field(
        description="0..1 (grammar mode): how surely the text is an expected phrase and not other speech."
    )
    rejected_text: str = Field(
        description="The grammar phrase the decoder forced but rejected as below min_confidence, else ''."
    )
    coverage: float = Field(description="Share of the matched phrase heard in one piece (0 when none).")
    ambiguous_with: list[str] = Field(description="Phrases of other intents also heard (then no intent).")
    duration_seconds: float = Field(description="Length of the audio.")
    words: list[HeardWordModel] = Field(description="Recognised words with their timings.")


@skill("hear.transcribe", effect="none", timeout="60s")
def transcribe(ctx: SkillContext, params: TranscribeParams) -> TranscribeResult:
    """Recognise speech in an audio file, in grammar mode when expected answers are given.

    Grammar mode restricts recognition to the expected phrases (or a JSGF grammar), which is
    what makes recognition reliable for confirmation calls; a result whose confidence is below
    ``min_confidence`` (other speech forced onto the closest phrase) counts as not recognised.
    The recognised text is then matched to an expected phrase and its intent.
    """
    try:
        answers = expected_answers(params.expected, params.intents)
    except ValueError as exc:
        raise BusinessError(str(exc), code="bad_intents") from exc
    grammar = None
    if params.grammar or answers:
        grammar = Grammar(
            phrases=tuple(a.phrase for a in answers),
            jsgf=params.grammar,
            pronunciations=dict(params.pronunciations),
        )
    audio_path = Path(params.audio)
    if not audio_path.is_absolute():
        audio_path = ctx.work_dir / audio_path
    audio = load_pcm(audio_path)
    recognizer: SpeechRecognizer = ctx.service("speech_recognizer")
    transcript = recognizer.transcribe(audio, language=params.language, grammar=grammar)
    text, rejected, words = transcript.text, "", transcript.words
    if transcript.confidence is not None and transcript.confidence < params.min_confidence:
        text, rejected, words = "", transcript.text, ()
    decision = decide_answer(text, answers, params.min_coverage)
    ctx.log(
        "transcribed", text=text, rejected=rejected, intent=decision.intent, confidence=transcript.confidence
    )
    if params.require_match and (decision.best is None or decision.ambiguous_with):
        heard = repr(text) if text else "nothing recognisable"
        expected = "; ".join(a.phrase for a in answers[:6]) + ("; ..." if len(answers) > 6 else "")
        problem = "an ambiguous answer" if decision.ambiguous_with else heard
        raise BusinessError(
            f"expected one of the answers ({expected}) in {audio_path.name}, heard {problem}",
            code="answer_not_recognised",
            details={"text": text, "rejected_text": rejected, "confidence": transcript.confidence},
        )
    best = decision.best
    return TranscribeResult(
        text=text,
        mode="grammar" if grammar is not None else "free",
        engine=transcript.engine,
        matched=best.answer.phrase if best else None,
        intent=decision.intent,
        confidence=None if transcript.confidence is None else round(transcript.confidence, 3),
        rejected_text=rejected,
        coverage=round(best.coverage, 3) if best else 0.0,
        ambiguous_with=[m.answer.phrase for m in decision.ambiguous_with],
        duration_seconds=round(audio.duration_seconds, 3),
        words=[HeardWordModel(word=w.word, start=w.start, end=w.end) for w in words],
    )
