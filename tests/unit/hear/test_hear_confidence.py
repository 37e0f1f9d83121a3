"""The grammar-mode confidence check: expected answers pass, other speech is rejected.

Speaks every confirmation-call phrase and sixteen other sentences with four espeak-ng voices
(two with noise) and prints how many expected answers were accepted and how many other
sentences slipped through as an answer. Floors are far below the measured figures
(docs/benchmarks/speech.md).
"""

from __future__ import annotations

from pathlib import Path

from skills.hear.answers import CONFIRMATION_INTENTS, decide_answer, expected_answers
from skills.hear.transcribe import TranscribeResult, transcribe
from skills.testing import run_skill

OTHER_SPEECH = [
    "what is this about",
    "the weather is nice today in Beijing",
    "I want to speak to the manager about fraud",
    "who is calling",
    "sorry I did not hear you",
    "can you repeat the amount",
    "hello",
    "I have no idea what you mean",
    "is this the bank",
    "my account number is one two three",
    "yes",
    "no",
    "I confirm",
    "call me",
    "not now",
    "which payment",
]
VOICES = [("en-us", 175, 0.0), ("en-us+f3", 140, 0.0), ("en-gb", 200, 0.01), ("en-us+m3", 160, 0.02)]


def test_confidence_separates_answers_from_other_speech(
    recognizer_pool: object, speak_wav: object, tmp_path: Path
) -> None:
    phrases = [(p, intent) for intent, ps in CONFIRMATION_INTENTS.items() for p in ps]
    accepted_right = accepted_wrong = rejected_answers = 0
    slipped: list[str] = []
    unchecked_intents: list[str | None] = []  # what other speech would have been without the check
    answers_list = expected_answers([], CONFIRMATION_INTENTS)
    for voice, speed, noise in VOICES:
        for phrase, intent in phrases:
            audio = speak_wav(
                phrase, voice=voice, speed=speed, noise=noise, sample_rate=16000 if noise else None
            )
            result = run_skill(
                transcribe, {"audio": str(audio), "intents": CONFIRMATION_INTENTS}, services=recognizer_pool
            )
            assert isinstance(result, TranscribeResult)
            if result.intent == intent:
                accepted_right += 1
            elif result.intent is None:
                rejected_answers += 1
            else:
                accepted_wrong += 1
        for sentence in OTHER_SPEECH:
            audio = speak_wav(
                sentence, voice=voice, speed=speed, noise=noise, sample_rate=16000 if noise else None
            )
            result = run_skill(
                transcribe, {"audio": str(audio), "intents": CONFIRMATION_INTENTS}, services=recognizer_pool
            )
            assert isinstance(result, TranscribeResult)
            unchecked_intents.append(decide_answer(result.text or result.rejected_text, answers_list).intent)
            if result.intent is not None:
                slipped.append(
                    f"{voice}: {sentence!r} -> {result.text!r} ({result.intent}, {result.confidence})"
                )
    answers = len(phrases) * len(VOICES)
    others = len(OTHER_SPEECH) * len(VOICES)
    print(
        f"\nexpected answers: {accepted_right}/{answers} right, {rejected_answers} rejected, {accepted_wrong} wrong"
    )
    print(f"other speech taken for an answer: {len(slipped)}/{others}")
    for line in slipped:
        print(f"  slipped: {line}")
    unchecked = sum(i is not None for i in unchecked_intents)
    unchecked_confirm = unchecked_intents.count("confirm")
    print(
        f"without the confidence check: {unchecked}/{others} taken for an answer, {unchecked_confirm} as 'confirm'"
    )
    assert accepted_wrong == 0
    assert accepted_right >= 0.9 * answers
    assert len(slipped) <= 0.15 * others
    assert not any("(confirm," in line for line in slipped)
    assert unchecked > len(slipped)  # the check is what keeps other speech out


def test_correct_said_with_a_reduced_first_vowel_is_a_confirmation(tmp_path: Path) -> None:
    # A recording as the demo's call generator makes it. With only the dictionary's K ER EH K T
    # for "correct" it came out at confidence 0.28 and went to a person; with the /kəˈrɛkt/
    # alternate 0.65. A recogniser of its own: the decoder's cepstral mean adapts to what it
    # heard before, so a shared one would make the figure depend on the tests run earlier.
    from examples.calls import CallAnswer, record_answer
    from skills.hear.recognizer import speech_recognizer
    from skills.testing import service_pool

    answer = CallAnswer(
        file="correct.wav",
        intent="confirm",
        text="yes that is correct",
        voice="en-us+f3",
        speed=200,
        noise=0.02,
        sample_rate=16000,
    )
    audio = record_answer(answer, tmp_path / answer.file)
    pool = service_pool([speech_recognizer])
    try:
        result = run_skill(transcribe, {"audio": str(audio), "intents": CONFIRMATION_INTENTS}, services=pool)
    finally:
        pool.close()
    assert isinstance(result, TranscribeResult)
    assert (result.intent, result.text) == ("confirm", "yes that is correct"), result.confidence
