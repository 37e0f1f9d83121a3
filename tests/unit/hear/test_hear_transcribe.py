"""hear.transcribe on real speech: espeak-ng → sox → pocketsphinx (grammar and free mode)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from skills import BusinessError, ResourceUnavailable
from skills.hear.answers import CONFIRMATION_INTENTS
from skills.hear.transcribe import TranscribeResult, transcribe
from skills.testing import run_skill


def _hear(pool: object, audio: Path, **params: object) -> TranscribeResult:
    result = run_skill(transcribe, {"audio": str(audio), **params}, services=pool)
    assert isinstance(result, TranscribeResult)
    return result


@pytest.mark.parametrize(
    ("answer", "voice", "speed", "sample_rate", "channels", "intent"),
    [
        ("yes I confirm", "en-us", 175, None, 1, "confirm"),
        ("no I do not confirm", "en-us+f3", 140, 44100, 2, "refuse"),
        ("please call me later", "en-gb", 200, 8000, 1, "call_later"),
        ("no I did not send this payment", "en-us+m3", 160, 48000, 2, "refuse"),
        ("yes I confirm the payment", "en-us+f2", 190, 16000, 1, "confirm"),
    ],
)
def test_confirmation_answers_in_any_wav_format(
    recognizer_pool: object,
    speak_wav: object,
    answer: str,
    voice: str,
    speed: int,
    sample_rate: int | None,
    channels: int,
    intent: str,
) -> None:
    audio = speak_wav(answer, voice=voice, speed=speed, sample_rate=sample_rate, channels=channels)
    result = _hear(recognizer_pool, audio, intents=CONFIRMATION_INTENTS)
    assert result.mode == "grammar"
    assert result.engine == "pocketsphinx"
    assert result.text == answer.lower()
    assert result.intent == intent
    assert result.matched is not None
    assert result.coverage == 1.0
    assert result.confidence is not None
    assert result.confidence >= 0.5
    assert result.rejected_text == ""
    assert [w.word for w in result.words] == answer.lower().split()
    assert 0 < result.words[-1].end <= result.duration_seconds + 0.01


def test_noisy_answer_is_still_recognised(recognizer_pool: object, speak_wav: object) -> None:
    audio = speak_wav("no I do not authorise this transfer", noise=0.02, sample_rate=16000)
    result = _hear(recognizer_pool, audio, intents=CONFIRMATION_INTENTS)
    assert result.intent == "refuse"
    assert result.text == "no i do not authorise this transfer"


def test_other_speech_forced_onto_a_phrase_is_rejected(recognizer_pool: object, speak_wav: object) -> None:
    # The grammar decoder forces "what is this about" onto the closest phrase; the confidence
    # check (grammar path against a free phone loop) rejects it.
    result = _hear(recognizer_pool, speak_wav("what is this about"), intents=CONFIRMATION_INTENTS)
    assert result.rejected_text != ""
    assert result.confidence is not None
    assert result.confidence < 0.5
    assert result.text == ""
    assert result.words == []
    assert result.intent is None
    accepted_anyway = _hear(
        recognizer_pool, speak_wav("what is this about"), intents=CONFIRMATION_INTENTS, min_confidence=0.0
    )
    assert accepted_anyway.text == result.rejected_text


def test_an_answer_longer_than_every_phrase_is_not_taken_for_one(
    recognizer_pool: object, speak_wav: object
) -> None:
    audio = speak_wav("sorry I did not hear you, can you repeat the amount")
    result = _hear(recognizer_pool, audio, intents=CONFIRMATION_INTENTS)
    assert result.intent is None


def test_plain_expected_phrases_with_a_word_missing_from_the_dictionary(
    recognizer_pool: object, speak_wav: object
) -> None:
    phrases = [
        "the payment to Hangzhou Tea Company",
        "the payment to Shanghai Trading",
        "the payment to Beijing Logistics",
    ]
    result = _hear(recognizer_pool, speak_wav("the payment to Hangzhou Tea Company"), expected=phrases)
    assert result.matched == "the payment to Hangzhou Tea Company"
    assert result.intent is None


def test_jsgf_grammar_with_amounts(recognizer_pool: object, speak_wav: object) -> None:
    grammar = """#JSGF V1.0;
    grammar confirmation;
    public <answer> = yes i confirm the payment of <amount> yuan | no i do not confirm;
    <amount> = <digit> thousand [<digit> hundred] | <teen> thousand;
    <digit> = one | two | three | four | five | six | seven | eight | nine;
    <teen> = ten | eleven | twelve | thirteen | fifteen;
    """
    audio = speak_wav("yes I confirm the payment of eight thousand five hundred yuan")
    result = _hear(recognizer_pool, audio, grammar=grammar, intents=CONFIRMATION_INTENTS)
    assert result.text == "yes i confirm the payment of eight thousand five hundred yuan"
    assert result.intent == "confirm"


def test_free_mode_without_expected_answers(recognizer_pool: object, speak_wav: object) -> None:
    result = _hear(recognizer_pool, speak_wav("please call me later"))
    assert result.mode == "free"
    assert result.text  # free recognition of synthetic speech is poor: only check that it ran
    assert result.matched is None
    assert result.intent is None


def test_out_of_grammar_speech_with_require_match_goes_to_a_person(
    recognizer_pool: object, speak_wav: object
) -> None:
    audio = speak_wav("what is this about")
    with pytest.raises(BusinessError, match="expected one of the answers") as caught:
        _hear(recognizer_pool, audio, intents=CONFIRMATION_INTENTS, require_match=True)
    assert caught.value.code == "answer_not_recognised"


def test_relative_audio_path_is_read_from_the_work_folder(recognizer_pool: object, speak_wav: object) -> None:
    audio = speak_wav("yes I confirm")
    result = run_skill(
        transcribe,
        {"audio": audio.name, "intents": CONFIRMATION_INTENTS},
        services=recognizer_pool,
        work_dir=audio.parent,
    )
    assert result.intent == "confirm"


def test_missing_and_unreadable_audio_are_business_errors(
    recognizer_pool: object, tmp_path: Path, sox: str
) -> None:
    with pytest.raises(BusinessError, match="found nothing there") as missing:
        _hear(recognizer_pool, tmp_path / "absent.wav", expected=["yes"])
    assert missing.value.code == "audio_not_found"
    not_audio = tmp_path / "call.wav"
    not_audio.write_text("this is not a wave file")
    with pytest.raises(BusinessError, match="readable audio file") as unreadable:
        _hear(recognizer_pool, not_audio, expected=["yes"])
    assert unreadable.value.code == "unreadable_audio"


def test_broken_grammar_and_pronunciation_are_business_errors(
    recognizer_pool: object, speak_wav: object
) -> None:
    audio = speak_wav("yes")
    with pytest.raises(BusinessError, match="JSGF grammar could not be parsed") as grammar:
        _hear(recognizer_pool, audio, grammar="#JSGF V1.0;\ngrammar g;\npublic <a> = yes | (no;\n")
    assert grammar.value.code == "bad_grammar"
    with pytest.raises(BusinessError, match="phones the model does not have") as phones:
        _hear(recognizer_pool, audio, expected=["yes blorf"], pronunciations={"blorf": "QQ ZZ"})
    assert phones.value.code == "bad_pronunciation"


def test_mandarin_without_a_configured_engine_is_unavailable(
    recognizer_pool: object, speak_wav: object
) -> None:
    with pytest.raises(ResourceUnavailable, match="no speech engine is configured for language 'zh'"):
        _hear(recognizer_pool, speak_wav("yes"), language="zh", expected=["是"])


def test_require_match_needs_expected_answers() -> None:
    with pytest.raises(ValidationError, match="require_match needs"):
        run_skill(transcribe, {"audio": "x.wav", "require_match": True})
