"""Decide which expected answer a recognised phrase is: plain functions, no recogniser needed.

A confirmation call expects a few answers ("yes I confirm", "no I do not confirm", "please call
me later"), each standing for an *intent*. The recognised text matches an expected phrase when
that phrase was heard **in one piece**: the longest run of its words found contiguously in the
text, divided by its length, is the *coverage*. Contiguity is deliberate: "I do not confirm"
contains the words of "I confirm" in order, but not in one run, so a refusal never counts as a
confirmation. When phrases of two different intents are both fully heard in separate parts of
the text ("yes I confirm, no, no I do not confirm") the answer is ambiguous and no intent is
chosen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from skills.hear.text import normalize_phrase, tokens

#: The answers of the interbank scenario's confirmation call, by intent.
CONFIRMATION_INTENTS: dict[str, list[str]] = {
    "confirm": [
        "yes I confirm",
        "yes I confirm the payment",
        "yes I authorise the transfer",
        "yes that is correct",
    ],
    "refuse": [
        "no I do not confirm",
        "no I do not authorise this transfer",
        "no I did not send this payment",
        "no stop the payment",
    ],
    "call_later": [
        "please call me later",
        "call me back later",
        "I am busy please call me later",
    ],
}


@dataclass(frozen=True)
class ExpectedAnswer:
    """One phrase the caller may say, and the intent it stands for (if any)."""

    phrase: str
    intent: str | None
    words: tuple[str, ...]


@dataclass(frozen=True)
class AnswerMatch:
    """How well an expected answer was heard: coverage and where in the heard words."""

    answer: ExpectedAnswer
    coverage: float
    start: int
    end: int

    def contains(self, other: AnswerMatch) -> bool:
        """Whether ``other`` was heard inside the span of this match."""
        return self.start <= other.start and other.end <= self.end


@dataclass(frozen=True)
class AnswerDecision:
    """The best-matching phrase, the best phrase that has an intent, and its rivals.

    ``best`` may be a plain expected phrase (no intent) while ``intent_match`` is a shorter
    intent phrase heard inside it ("yes I confirm the payment ..." and intent phrase "yes").
    """

    best: AnswerMatch | None
    intent_match: AnswerMatch | None = None
    ambiguous_with: tuple[AnswerMatch, ...] = ()

    @property
    def intent(self) -> str | None:
        """The intent heard; ``None`` when no intent phrase matched or two intents did."""
        if self.intent_match is None or self.ambiguous_with:
            return None
        return self.intent_match.answer.intent


def expected_answers(
    phrases: Sequence[str] = (), intents: Mapping[str, Sequence[str]] | None = None
) -> list[ExpectedAnswer]:
    """Collect and normalise the expected answers, dropping duplicates and empty phrases.

    Args:
        phrases: Phrases without an intent.
        intents: Intent name → the phrases that express it.

    Returns:
        The expected answers, intent phrases first, in the order given.

    Raises:
        ValueError: If one phrase is listed under two different intents.
    """
    seen: dict[tuple[str, ...], ExpectedAnswer] = {}
    for intent, intent_phrases in (intents or {}).items():
        for phrase in intent_phrases:
            words = tuple(tokens(phrase))
            if not words:
                continue
            earlier = seen.get(words)
            if earlier is not None and earlier.intent != intent:
                raise ValueError(
                    f"the phrase {phrase!r} is listed under two intents: {earlier.intent!r} and {intent!r}"
                )
            seen.setdefault(words, ExpectedAnswer(phrase=phrase, intent=intent, words=words))
    for phrase in phrases:
        words = tuple(tokens(phrase))
        if words and words not in seen:
            seen[words] = ExpectedAnswer(phrase=phrase, intent=None, words=words)
    return list(seen.values())


def _longest_common_run(heard: Sequence[str], expected: Sequence[str]) -> tuple[int, int]:
    """Length and start (in ``heard``) of the longest run of words both sequences share."""
    best_length, best_end = 0, 0
    previous = [0] * (len(expected) + 1)
    for i, heard_word in enumerate(heard, start=1):
        current = [0] * (len(expected) + 1)
        for j, expected_word in enumerate(expected, start=1):
            if heard_word == expected_word:
                current[j] = previous[j - 1] + 1
                if current[j] > best_length:
                    best_length, best_end = current[j], i
        previous = current
    return best_length, best_end - best_length


def score_answers(heard: str, answers: Sequence[ExpectedAnswer]) -> list[AnswerMatch]:
    """Every expected answer with its coverage in ``heard``, best first."""
    heard_words = tokens(heard)
    matches = []
    for answer in answers:
        length, start = _longest_common_run(heard_words, answer.words)
        coverage = length / len(answer.words)
        matches.append(AnswerMatch(answer=answer, coverage=coverage, start=start, end=start + length))
    return sorted(matches, key=lambda m: (m.coverage, len(m.answer.words)), reverse=True)


def decide_answer(heard: str, answers: Sequence[ExpectedAnswer], min_coverage: float = 0.8) -> AnswerDecision:
    """Choose the expected answer that ``heard`` is, or none.

    Args:
        heard: The recognised text.
        answers: The expected answers (see ``expected_answers``).
        min_coverage: The share of an expected phrase that must be heard in one piece.

    Returns:
        The best match at or above ``min_coverage`` (longer phrases win ties), the best such
        match among phrases with an intent, and the matches of *other* intents heard outside
        its span, which make the intent ambiguous.
    """
    if not normalize_phrase(heard):
        return AnswerDecision(best=None)
    accepted = [m for m in score_answers(heard, answers) if m.coverage >= min_coverage]
    if not accepted:
        return AnswerDecision(best=None)
    with_intent = [m for m in accepted if m.answer.intent is not None]
    if not with_intent:
        return AnswerDecision(best=accepted[0])
    chosen = with_intent[0]
    rivals = tuple(
        m for m in with_intent[1:] if m.answer.intent != chosen.answer.intent and not chosen.contains(m)
    )
    return AnswerDecision(best=accepted[0], intent_match=chosen, ambiguous_with=rivals)
