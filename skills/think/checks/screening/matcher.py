"""Fuzzy name screening against a loaded sanctions list.

How a name is scored against the list, in two stages:

1. *Blocking.* Every listed name (primary and aliases) is normalised once into tokens, and an
   inverted index maps each token to the names that hold it. For each token of the query,
   ``rapidfuzz.process.extract`` finds the similar tokens of the list vocabulary (Jaro-Winkler
   >= 0.82, exact for one- and two-letter tokens); the names holding them collect the token's
   IDF weight times the similarity. Only the best ``candidates`` names go on to stage 2, so a
   query costs a few vocabulary scans, not a comparison with all 17,000 names.
2. *Scoring.* Query and candidate tokens are paired greedily by Jaro-Winkler similarity, capped
   by OSA edit similarity + 0.15 (pairs below 0.8 count as no match), in any order. Coverage on
   each side is the IDF-weighted share of its tokens that found a partner; the token score leans
   on the query side (0.65 query, 0.35 list), so a payment that leaves out a listed middle name
   still hits. When the two names have a different number of words, the Indel ratio of the
   joined tokens may raise the score (``jin ping`` against ``jinping``). Scores are 0-100.

Common words (AL, BANK, TRADING) weigh little through IDF, so two names that share only those
do not hit. Names in Arabic, Hebrew or Thai script are compared by consonant skeleton.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler

from skills.think.checks.screening.normalize import NormalizedName, normalize_name, skeleton
from skills.think.checks.screening.watchlist import WatchlistEntry, load_watchlist

DEFAULT_THRESHOLD = 85.0
TOKEN_CUTOFF = 0.82
PAIR_CUTOFF = 0.80
QUERY_SIDE_WEIGHT = 0.65


@dataclass(frozen=True)
class ScreeningHit:
    """A listed entry whose name is close to the screened name.

    Attributes:
        entry: the listed entry (uid, primary name, type, programmes).
        matched_name: the name of the entry that matched (the primary name or an alias).
        matched_kind: ``primary``, ``aka``, ``fka`` or ``nka``.
        score: 0-100, higher is closer.
    """

    entry: WatchlistEntry
    matched_name: str
    matched_kind: str
    score: float


@dataclass(frozen=True)
class _IndexedName:
    entry_index: int
    name: str
    kind: str
    tokens: tuple[str, ...]
    joined: str


class _TokenIndex:
    """Tokens -> names holding them, with IDF weights, for one way of writing tokens."""

    def __init__(self, names: Sequence[tuple[str, ...]]) -> None:
        postings: dict[str, list[int]] = defaultdict(list)
        for name_id, tokens in enumerate(names):
            for token in set(tokens):
                postings[token].append(name_id)
        self.postings = dict(postings)
        self.vocabulary = list(self.postings)
        total = len(names) + 1
        self.idf = {token: math.log(total / (len(ids) + 1)) + 1.0 for token, ids in self.postings.items()}
        self.unseen_idf = math.log(total) + 1.0
        self.name_weights = [sum(self.idf[t] for t in tokens) or 1.0 for tokens in names]

    def weight(self, token: str) -> float:
        return self.idf.get(token, self.unseen_idf)

    def candidates(self, tokens: Sequence[str], limit: int) -> list[int]:
        votes: dict[int, float] = defaultdict(float)
        # Adjacent words joined too, so that ABD ALLAH finds ABDULLAH and AERO CARIBBEAN finds AEROCARIBBEAN.
        joined = {a + b for a, b in itertools.pairwise(tokens)}
        for token in set(tokens) | joined:
            if len(token) <= 2:
                matches = [(token, 1.0)] if token in self.postings else []
            else:
                found = process.extract(
                    token,
                    self.vocabulary,
                    scorer=JaroWinkler.normalized_similarity,
                    score_cutoff=TOKEN_CUTOFF,
                    limit=40,
                )
                matches = [(match, similarity) for match, similarity, _ in found]
            for match, similarity in matches:
                gain = self.idf[match] * similarity
                for name_id in self.postings[match]:
                    votes[name_id] += gain
        # Rank like the final score: the share of the query found, and of the listed name.
        query_weight = sum(self.weight(t) for t in tokens) or 1.0
        ranked = heapq.nlargest(
            limit,
            votes.items(),
            key=lambda item: (
                QUERY_SIDE_WEIGHT * item[1] / query_weight
                + (1 - QUERY_SIDE_WEIGHT) * item[1] / self.name_weights[item[0]]
            ),
        )
        return [name_id for name_id, _ in ranked]


def _token_similarity(a: str, b: str, initials: bool = True) -> float:
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:
        return 0.85 if initials and a[0] == b[0] else 0.0  # an initial against a full name
    if len(a) <= 2 or len(b) <= 2:
        return 0.0
    # Jaro-Winkler rewards a shared prefix; capping it by the edit similarity (OSA: a swap is
    # one edit) keeps XIANG from passing for XIAOHONG.
    similarity = min(JaroWinkler.normalized_similarity(a, b), OSA.normalized_similarity(a, b) + 0.15)
    return similarity if similarity >= PAIR_CUTOFF else 0.0


def _token_score(
    query: Sequence[str], listed: Sequence[str], index: _TokenIndex, initials: bool = True
) -> float:
    pairs = sorted(
        (
            (_token_similarity(q, t, initials), i, j)
            for i, q in enumerate(query)
            for j, t in enumerate(listed)
        ),
        reverse=True,
    )
    query_match = [0.0] * len(query)
    listed_match = [0.0] * len(listed)
    for similarity, i, j in pairs:
        if similarity <= 0.0:
            break
        if query_match[i] == 0.0 and listed_match[j] == 0.0:
            query_match[i] = listed_match[j] = similarity
    query_weights = [index.weight(t) for t in query]
    listed_weights = [index.weight(t) for t in listed]
    query_cover = sum(w * m for w, m in zip(query_weights, query_match, strict=True)) / sum(query_weights)
    listed_cover = sum(w * m for w, m in zip(listed_weights, listed_match, strict=True)) / sum(listed_weights)
    return QUERY_SIDE_WEIGHT * query_cover + (1 - QUERY_SIDE_WEIGHT) * listed_cover


class Screener:
    """A sanctions list indexed for fuzzy screening; build once, screen many names.

    Args:
        entries: the listed entries (see ``load_watchlist``).
        threshold: default minimum score (0-100) for a hit.
        candidates: how many names the blocking stage passes to full scoring.
    """

    def __init__(
        self,
        entries: Sequence[WatchlistEntry],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        candidates: int = 100,
    ) -> None:
        self.entries = list(entries)
        self.threshold = threshold
        self.candidate_limit = candidates
        self._names: list[_IndexedName] = []
        for entry_index, entry in enumerate(self.entries):
            for alias in entry.names():
                normalized = normalize_name(alias.name)
                if normalized.tokens:
                    self._names.append(
                        _IndexedName(
                            entry_index, alias.name, alias.kind, normalized.tokens, normalized.joined
                        )
                    )
        self._latin = _TokenIndex([n.tokens for n in self._names])
        self._skeletons = [tuple(skeleton(t) for t in n.tokens) for n in self._names]
        self._abjad = _TokenIndex(self._skeletons)

    @classmethod
    def from_path(cls, path: str | Path, **options: float | int) -> Screener:
        """Load the list at ``path`` (OFAC SDN layout) and index it."""
        return cls(load_watchlist(path), **options)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def name_count(self) -> int:
        """How many names (primary names and aliases) are indexed."""
        return len(self._names)

    def _score(self, query: Sequence[str], listed: Sequence[str], abjad: bool) -> float:
        index = self._abjad if abjad else self._latin
        score = _token_score(query, listed, index, initials=not abjad)
        if len(query) != len(listed):  # words split or merged: 习近平 as XI Jin Ping, ABD ALLAH
            joined = max(
                fuzz.ratio("".join(query), "".join(listed)),
                fuzz.ratio("".join(sorted(query)), "".join(sorted(listed))),
            )
            score = max(score, joined / 100)
        return 100 * score

    def _query_tokens(self, query: NormalizedName) -> tuple[str, ...]:
        return tuple(skeleton(t) for t in query.tokens) if query.abjad else query.tokens

    def score_names(self, query: NormalizedName, name_ids: Iterable[int]) -> dict[int, float]:
        """Score the query against the given indexed names; returns name id -> score (0-100)."""
        tokens = self._query_tokens(query)
        listed = self._skeletons if query.abjad else [n.tokens for n in self._names]
        return {name_id: self._score(tokens, listed[name_id], query.abjad) for name_id in name_ids}

    def compare(self, query: str, listed_name: str) -> float:
        """The score (0-100) of ``query`` against one name, weighted by this list's word frequencies."""
        normalized = normalize_name(query)
        other = normalize_name(listed_name)
        if not normalized.tokens or not other.tokens:
            return 0.0
        listed = tuple(skeleton(t) for t in other.tokens) if normalized.abjad else other.tokens
        return round(self._score(self._query_tokens(normalized), listed, normalized.abjad), 1)

    def screen(
        self,
        name: str,
        *,
        threshold: float | None = None,
        limit: int = 10,
        entry_types: Iterable[str] | None = None,
    ) -> list[ScreeningHit]:
        """Screen one name; the best hit per entry, best first, at or above the threshold.

        Args:
            name: the name as written in the payment (any script).
            threshold: minimum score, 0-100 (default: the screener's threshold).
            limit: at most this many hits.
            entry_types: only these entry types (``individual``, ``entity``, ``vessel``,
                ``aircraft``); all when ``None``.
        """
        minimum = self.threshold if threshold is None else threshold
        query = normalize_name(name)
        if not query.tokens:
            return []
        index = self._abjad if query.abjad else self._latin
        candidates = index.candidates(self._query_tokens(query), self.candidate_limit)
        wanted = set(entry_types) if entry_types is not None else None
        best: dict[int, tuple[float, int]] = {}
        for name_id, score in self.score_names(query, candidates).items():
            entry_index = self._names[name_id].entry_index
            if score < minimum:
                continue
            if wanted is not None and self.entries[entry_index].entry_type not in wanted:
                continue
            if entry_index not in best or score > best[entry_index][0]:
                best[entry_index] = (score, name_id)
        ranked = sorted(best.values(), key=lambda item: (-item[0], item[1]))[:limit]
        return [
            ScreeningHit(
                entry=self.entries[self._names[name_id].entry_index],
                matched_name=self._names[name_id].name,
                matched_kind=self._names[name_id].kind,
                score=round(score, 1),
            )
            for score, name_id in ranked
        ]
