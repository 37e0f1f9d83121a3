"""``python -m examples.vouchers --count 200 --seed 7 --out DIR [--noise clean|noisy]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from examples.vouchers.facts import DEFECTS, LAYOUTS
from examples.vouchers.fonts import FontMissingError
from examples.vouchers.generate import NOISE_LEVELS, generate, parse_defects


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, write the vouchers and print where they went."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.vouchers",
        description="Render synthetic Chinese transfer vouchers (电汇凭证, 进账单) with ground-truth JSON.",
    )
    parser.add_argument("--count", type=int, default=20, help="how many vouchers (default 20)")
    parser.add_argument(
        "--seed", type=int, default=7, help="random seed; the same seed gives the same vouchers"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="folder to write the images and JSON files into"
    )
    parser.add_argument("--noise", choices=NOISE_LEVELS, default="clean", help="clean render or scanned look")
    parser.add_argument(
        "--layout", choices=(*LAYOUTS, "mixed"), default="mixed", help="one form, or both alternately"
    )
    parser.add_argument(
        "--defects",
        default="",
        help=f"shares of deliberately wrong vouchers, e.g. amount_mismatch=0.1,unreadable=0.05 "
        f"(defects: {', '.join(DEFECTS)})",
    )
    args = parser.parse_args(argv)
    try:
        shares = parse_defects(args.defects)
        layouts = LAYOUTS if args.layout == "mixed" else (args.layout,)
        written = generate(args.count, args.seed, args.out, noise=args.noise, defects=shares, layouts=layouts)
    except (ValueError, FontMissingError) as exc:
        parser.exit(2, f"error: {exc}\n")
    except OSError as exc:
        parser.exit(2, f"error: cannot write into {args.out}: {exc}\n")
    defective = sum(1 for voucher in written if voucher.facts.defects)
    print(
        f"wrote {len(written)} {args.noise} vouchers ({defective} with defects) to {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
