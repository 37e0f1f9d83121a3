"""``python -m examples.calls --out DIR --seed N --count K``: write recorded confirmation-call answers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from examples.calls.generator import generate_answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m examples.calls",
        description="Generate recorded customer answers for confirmation calls.",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write the WAV files and JSON into")
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same files)")
    parser.add_argument("--count", type=int, default=12, help="how many answers")
    parser.add_argument("--telephone", action="store_true", help="8 kHz audio, as a phone line carries it")
    parser.add_argument(
        "--evaluate", action="store_true", help="then hear them back and compare with the truth"
    )
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    try:
        answers = generate_answers(
            args.out, seed=args.seed, count=args.count, sample_rate=8000 if args.telephone else 16000
        )
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    counts = {
        intent: sum(a.intent == intent for a in answers) for intent in sorted({a.intent for a in answers})
    }
    summary = ", ".join(f"{n} {intent}" for intent, n in counts.items())
    print(
        f"wrote {len(answers)} answers to {args.out} ({summary}); ground truth in {args.out / 'ground_truth.json'}"
    )
    if args.evaluate:
        from examples.calls.evaluate import evaluate_answers

        outcome = evaluate_answers(args.out)
        for line in outcome.lines:
            print(f"  {line}")
        print(
            f"heard back: {outcome.right}/{len(answers)} right, {outcome.unrecognised} not recognised "
            f"(for a person), {outcome.wrong} wrong"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
