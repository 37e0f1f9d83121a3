"""``python -m examples.cips``: answer the pacs.008 files of an outbox with pacs.002 reports."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from examples.cips.responder import CipsResponder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m examples.cips",
        description="Answer each pacs.008 in OUTBOX once with a pacs.002 (ACSC, or RJCT with a reason) in INBOX.",
    )
    parser.add_argument("--outbox", type=Path, required=True, help="folder of the pacs.008 files sent")
    parser.add_argument(
        "--inbox", type=Path, required=True, help="folder the pacs.002 reports are written to"
    )
    parser.add_argument(
        "--log", type=Path, help="answers given, JSON lines (default: OUTBOX/../cips-answers.jsonl)"
    )
    parser.add_argument("--reject-rate", type=float, default=0.1, help="share of payments rejected (0..1)")
    parser.add_argument(
        "--reject", action="append", default=[], metavar="MSGID=CODE", help="reject this message with CODE"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the reject draw")
    parser.add_argument("--watch", action="store_true", help="keep answering new files until Ctrl+C")
    args = parser.parse_args(argv)
    if not 0 <= args.reject_rate <= 1:
        parser.error(f"--reject-rate must be between 0 and 1, got {args.reject_rate}")
    plan = {}
    for item in args.reject:
        message_id, sep, code = item.partition("=")
        if not sep or not message_id or not code:
            parser.error(f"--reject expects MSGID=CODE, got {item!r}")
        plan[message_id] = code
    log = args.log or args.outbox.parent / "cips-answers.jsonl"
    responder = CipsResponder(
        args.outbox, args.inbox, log, plan=plan, reject_rate=args.reject_rate, seed=args.seed
    )
    if args.watch:
        stop = threading.Event()
        try:
            responder.run(stop)
        except KeyboardInterrupt:
            stop.set()
        return 0
    answers = responder.answer_pending()
    for answer in answers:
        print(
            f"{answer.original_message_id}: {answer.status} {answer.reason_code or ''} -> {answer.file_name}"
        )
    print(f"answered {len(answers)} payment(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
