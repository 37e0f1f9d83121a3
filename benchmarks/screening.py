"""Benchmark: screen one name against the full OFAC SDN snapshot.

Usage: ``python benchmarks/screening.py [LIST_FOLDER] [--queries N]``

Times ``Screener.screen`` on N names (half altered listed names, half ordinary names, from the
reproducible labelled set) and, in the same run, a baseline: ``rapidfuzz.process.extractOne``
with ``fuzz.WRatio`` over the raw primary and alias names (no normalisation, no blocking). Prints
median and p95 of both, and the last line ``ratio=<screener median / baseline median>`` (below 1
means the screener is faster). The target is a median under 20 ms.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from rapidfuzz import fuzz, process

from skills.think.checks.screening import Screener, load_watchlist
from skills.think.checks.screening.labelled_set import make_labelled_set

DEFAULT_LIST = (
    Path(__file__).resolve().parents[1] / "../shared/data/sanctions/moov-io-watchman/ofac-full-snapshot"
)
TARGET_MEDIAN_MS = 20.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _time_each(queries: list[str], screen: object) -> list[float]:
    timings = []
    for query in queries:
        start = time.perf_counter()
        screen(query)  # type: ignore[operator]
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def main(argv: list[str]) -> int:
    args = list(argv)
    count = 400
    if "--queries" in args:
        position = args.index("--queries")
        count = int(args[position + 1])
        del args[position : position + 2]
    list_path = Path(args[0]) if args else DEFAULT_LIST
    if not (list_path / "sdn.csv").is_file():
        print(f"no sdn.csv under {list_path}: pass the folder of an OFAC SDN-layout list", file=sys.stderr)
        return 2
    entries = load_watchlist(list_path)
    start = time.perf_counter()
    screener = Screener(entries)
    build_ms = (time.perf_counter() - start) * 1000
    labelled = make_labelled_set(entries, positives=count // 2)
    positives = [item.query for item in labelled if item.expected_uid][: count // 2]
    negatives = [item.query for item in labelled if not item.expected_uid][: count - len(positives)]
    queries = [q for pair in zip(positives, negatives, strict=False) for q in pair]
    raw_names = [alias.name for entry in entries for alias in entry.names()]

    screener.screen(queries[0])  # warm the caches (pinyin dictionary, rapidfuzz) before timing
    ours = _time_each(queries, screener.screen)
    baseline = _time_each(queries, lambda q: process.extractOne(q, raw_names, scorer=fuzz.WRatio))

    print(f"list: {len(entries)} entries, {len(raw_names)} names; index built in {build_ms:.0f} ms")
    print(f"queries: {len(queries)} ({len(positives)} altered listed names, {len(negatives)} ordinary names)")
    print(f"screener  median {statistics.median(ours):.2f} ms  p95 {_percentile(ours, 0.95):.2f} ms")
    print(
        f"baseline  median {statistics.median(baseline):.2f} ms  p95 {_percentile(baseline, 0.95):.2f} ms"
        "  (process.extractOne, fuzz.WRatio, raw names)"
    )
    verdict = "under" if statistics.median(ours) < TARGET_MEDIAN_MS else "OVER"
    print(f"target: median {verdict} {TARGET_MEDIAN_MS:g} ms")
    print(f"ratio={statistics.median(ours) / statistics.median(baseline):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
