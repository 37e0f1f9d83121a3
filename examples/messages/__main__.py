"""``python -m examples.messages``: write a batch of cross-border RMB messages and its ground truth."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from examples.messages.inbound import DEFECTS, generate_inbound
from examples.messages.outbound import generate_outbound
from examples.messages.sanctioned import SanctionsListMissingError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m examples.messages",
        description="Write CNY MT103 and CIPS pacs.008 messages (some with one defect) to OUT, with truth.json "
        "describing each, and outbound.json with outbound customer instructions.",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write the messages to")
    parser.add_argument("--count", type=int, default=200, help="distinct inbound messages (default 200)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (the same seed, the same batch)")
    parser.add_argument(
        "--defect-rate", type=float, default=0.2, help=f"share with one defect of {', '.join(DEFECTS)}"
    )
    parser.add_argument("--outbound", type=int, default=None, help="outbound instructions (default count/10)")
    args = parser.parse_args(argv)
    if args.count < 1 or not 0 <= args.defect_rate <= 1:
        parser.error("--count must be at least 1 and --defect-rate between 0 and 1")
    try:
        messages = generate_inbound(args.count, args.seed, defect_rate=args.defect_rate)
        instructions = generate_outbound(
            max(2, round(args.count / 10)) if args.outbound is None else args.outbound, args.seed
        )
    except SanctionsListMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for message in messages:
        (args.out / message.file_name).write_bytes(message.content)
    (args.out / "truth.json").write_text(
        json.dumps([m.truth() for m in messages], indent=1, ensure_ascii=False), encoding="utf-8"
    )
    (args.out / "outbound.json").write_text(
        json.dumps([i.truth() for i in instructions], indent=1, ensure_ascii=False), encoding="utf-8"
    )
    defects = sum(1 for m in messages if m.defect)
    print(
        f"wrote {len(messages)} message file(s) ({defects} with a defect) and {len(instructions)} instruction(s) to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
