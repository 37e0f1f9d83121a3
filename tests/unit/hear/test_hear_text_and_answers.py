"""Phrase normalisation and the choice of an expected answer (pure functions)."""

from __future__ import annotations

import pytest

from skills.hear.answers import CONFIRMATION_INTENTS, decide_answer, expected_answers
from skills.hear.engines import Grammar
from skills.hear.text import normalize_phrase, number_to_words, tokens


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"),
        (15, "fifteen"),
        (40, "forty"),
        (99, "ninety nine"),
        (100, "one hundred"),
        (8500, "eight thousand five hundred"),
        (12000, "twelve thousand"),
        (300000, "three hundred thousand"),
        (1_000_001, "one million one"),
        (2_500_000_000, "two billion five hundred million"),
    ],
)
def test_number_to_words(number: int, words: str) -> None:
    assert number_to_words(number) == words


def test_number_to_words_refuses_negative() -> None:
    with pytest.raises(ValueError, match="between 0"):
        number_to_words(-1)


def test_normalize_phrase_spells_numbers_and_drops_punctuation() -> None:
    text = "Yes, I confirm the payment of 12,000 yuan to Shanghai Trading!"
    assert normalize_phrase(text) == "yes i confirm the payment of twelve thousand yuan to shanghai trading"
    assert normalize_phrase("It's 3.50") == "it's three point five zero"
    assert normalize_phrase("  ...  ") == ""


def test_chinese_is_kept_without_spaces_and_compared_by_character() -> None:
    assert normalize_phrase("我 确认，这笔 付款") == "我确认这笔付款"
    assert tokens("我确认 ok") == ["我", "确", "认", "ok"]


def test_grammar_words_from_phrases_and_jsgf() -> None:
    assert Grammar(phrases=("Yes, I confirm", "No")).words() == ["yes", "i", "confirm", "no"]
    jsgf = """#JSGF V1.0;
    grammar call; // the answers
    public <answer> = yes [i confirm] | <no> {refuse};
    <no> = no ( i do not confirm | stop ) /2/ ;
    """
    assert Grammar(jsgf=jsgf).words() == ["yes", "i", "confirm", "no", "do", "not", "stop"]


def test_grammar_needs_phrases_or_jsgf() -> None:
    with pytest.raises(ValueError, match="at least one phrase"):
        Grammar()


def _decide(heard: str) -> tuple[str | None, str | None]:
    decision = decide_answer(heard, expected_answers([], CONFIRMATION_INTENTS))
    return decision.intent, decision.best.answer.phrase if decision.best else None


def test_confirmation_answers_match_their_intent() -> None:
    assert _decide("yes i confirm") == ("confirm", "yes I confirm")
    assert _decide("yes i confirm the payment of twelve thousand yuan") == (
        "confirm",
        "yes I confirm the payment",
    )
    assert _decide("no i do not authorise this transfer") == ("refuse", "no I do not authorise this transfer")
    assert _decide("i am busy please call me later") == ("call_later", "I am busy please call me later")


def test_a_refusal_never_counts_as_a_confirmation() -> None:
    answers = expected_answers(["i confirm"])
    # The words of "i confirm" appear in order, but not in one piece.
    assert decide_answer("i do not confirm", answers).best is None
    assert decide_answer("well i confirm", answers).best is not None


def test_two_intents_heard_apart_are_ambiguous() -> None:
    decision = decide_answer("yes i confirm no i do not confirm", expected_answers([], CONFIRMATION_INTENTS))
    assert decision.best is not None
    assert decision.intent is None
    assert [m.answer.intent for m in decision.ambiguous_with] == ["confirm"]


def test_nothing_heard_matches_nothing() -> None:
    answers = expected_answers([], CONFIRMATION_INTENTS)
    assert decide_answer("", answers).best is None
    assert decide_answer("the weather is nice", answers).best is None


def test_phrase_under_two_intents_is_refused() -> None:
    with pytest.raises(ValueError, match="two intents"):
        expected_answers([], {"confirm": ["yes"], "refuse": ["Yes!"]})


def test_intent_of_a_short_phrase_heard_inside_a_longer_plain_phrase() -> None:
    answers = expected_answers(
        ["yes I confirm the payment to Wuhan Steel"], {"confirm": ["yes"], "refuse": ["no"]}
    )
    decision = decide_answer("yes i confirm the payment to wuhan steel", answers)
    assert decision.best is not None
    assert decision.best.answer.phrase == "yes I confirm the payment to Wuhan Steel"
    assert decision.intent == "confirm"


def test_plain_phrases_have_no_intent_and_duplicates_are_dropped() -> None:
    answers = expected_answers(["Yes I confirm", "maybe"], {"confirm": ["yes i confirm"]})
    assert [(a.phrase, a.intent) for a in answers] == [("yes i confirm", "confirm"), ("maybe", None)]
