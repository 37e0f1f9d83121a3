"""Measure screening quality: recall and false-positive rate over a labelled set.

Run ``python -m skills.think.checks.screening.evaluation [LIST_FOLDER]`` to print the tables that
``docs/screening.md`` quotes (labelled set from ``labelled_set.py``, and the cross-script pairs
of ``name-matching/cross_script_pairs.csv``).
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from skills.think.checks.screening.labelled_set import DEFAULT_SEED, LabelledName, make_labelled_set
from skills.think.checks.screening.matcher import Screener
from skills.think.checks.screening.watchlist import WatchlistEntry, load_watchlist

THRESHOLDS = (75.0, 80.0, 85.0, 88.0, 90.0, 95.0)
DEFAULT_LIST = (
    Path(__file__).resolve().parents[1] / "data" / "ofac-sdn"
)  # the snapshot shipped with the package


@dataclass(frozen=True)
class Outcome:
    """One labelled query screened at the lowest threshold: the score of the expected entry
    (positives) or the best score of any entry (negatives), and the best-scoring entry."""

    item: LabelledName
    score: float
    best_uid: str | None
    best_name: str


def screen_all(screener: Screener, labelled: Sequence[LabelledName], floor: float) -> list[Outcome]:
    """Screen every labelled query once, keeping scores down to ``floor``."""
    outcomes = []
    for item in labelled:
        hits = screener.screen(item.query, threshold=floor, limit=50)
        best_uid, best_name = (hits[0].entry.uid, hits[0].matched_name) if hits else (None, "")
        if item.expected_uid is None:
            score = hits[0].score if hits else 0.0
        else:
            score = next((h.score for h in hits if h.entry.uid == item.expected_uid), 0.0)
        outcomes.append(Outcome(item, score, best_uid, best_name))
    return outcomes


def rates(outcomes: Sequence[Outcome], threshold: float) -> dict[str, dict[str, float]]:
    """Recall per positive variant and false-positive rate per negative group at ``threshold``."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for outcome in outcomes:
        flagged = outcome.score >= threshold
        groups[outcome.item.variant].append(flagged)
        groups["ALL positives" if outcome.item.expected_uid else "ALL negatives"].append(flagged)
    return {name: {"rate": sum(flags) / len(flags), "n": len(flags)} for name, flags in groups.items()}


def top1_accuracy(outcomes: Sequence[Outcome]) -> float:
    """Share of positives whose best hit is the expected entry."""
    positives = [o for o in outcomes if o.item.expected_uid]
    return sum(o.best_uid == o.item.expected_uid for o in positives) / len(positives)


def read_cross_script_pairs(path: Path) -> list[tuple[str, str, float, str]]:
    """``(query, expected Latin name, minimum score 0-100, description)`` rows of the pairs file."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader(line for line in handle if line.strip() and not line.startswith("#")):
            rows.append((row[0], row[1], float(row[2]) * 100, row[3]))
    return rows


def cross_script(
    entries: Sequence[WatchlistEntry], pairs_path: Path
) -> list[tuple[str, str, float, float, bool]]:
    """Screen each query of the pairs file against the list plus the expected names.

    Returns ``(query, expected, score against expected, minimum, expected among the hits at the
    default threshold)``. The score is computed directly, so it does not depend on blocking.
    """
    pairs = read_cross_script_pairs(pairs_path)
    extra = [
        WatchlistEntry(f"X{i}", expected, "individual", ("TEST",))
        for i, (_, expected, _, _) in enumerate(pairs)
    ]
    screener = Screener([*entries, *extra])
    results = []
    for i, (query, expected, minimum, _) in enumerate(pairs):
        found = any(h.entry.uid == f"X{i}" for h in screener.screen(query, limit=1000))
        results.append((query, expected, screener.compare(query, expected), minimum, found))
    return results


def main(argv: Sequence[str]) -> int:
    """Usage: ``evaluation [LIST_FOLDER] [--seed N]`` (the default seed is the one tuned on)."""
    args = list(argv)
    seed = DEFAULT_SEED
    if "--seed" in args:
        position = args.index("--seed")
        seed = int(args[position + 1])
        del args[position : position + 2]
    list_path = Path(args[0]) if args else DEFAULT_LIST
    entries = load_watchlist(list_path)
    screener = Screener(entries)
    labelled = make_labelled_set(entries, seed=seed)
    outcomes = screen_all(screener, labelled, min(THRESHOLDS))
    print(f"list: {list_path} ({len(entries)} entries, {screener.name_count} names), seed {seed}")
    table = {t: rates(outcomes, t) for t in THRESHOLDS}
    groups = list(table[THRESHOLDS[0]])
    print("| group | n | " + " | ".join(f">= {t:g}" for t in THRESHOLDS) + " |")
    print("|---|---|" + "---|" * len(THRESHOLDS))
    for group in sorted(groups, key=lambda g: (not g.startswith("ALL"), g)):
        cells = " | ".join(f"{100 * table[t][group]['rate']:.1f}%" for t in THRESHOLDS)
        print(f"| {group} | {table[THRESHOLDS[0]][group]['n']:.0f} | {cells} |")
    print(f"top-1 accuracy on positives: {100 * top1_accuracy(outcomes):.1f}%")
    threshold = screener.threshold
    print(f"\nfalse positives at {threshold:g}:")
    for o in sorted(outcomes, key=lambda o: -o.score):
        if o.item.expected_uid is None and o.score >= threshold:
            print(f"  {o.score:5.1f}  {o.item.query!r} -> {o.best_name!r}")
    print(f"\nmissed positives at {threshold:g}:")
    for o in outcomes:
        if o.item.expected_uid and o.score < threshold:
            print(f"  {o.score:5.1f}  [{o.item.variant}] {o.item.query!r} (uid {o.item.expected_uid})")
    pairs_path = list_path.parent / "name-matching" / "cross_script_pairs.csv"
    if pairs_path.is_file():
        print(f"\n| query | expected | score | minimum | hit at {threshold:g} |")
        print("|---|---|---|---|---|")
        for query, expected, score, minimum, top in cross_script(entries, pairs_path):
            print(f"| {query} | {expected} | {score:.1f} | {minimum:.0f} | {'yes' if top else 'no'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
