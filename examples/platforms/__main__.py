"""``python -m examples.platforms --data-dir DIR``: run every example platform until Ctrl+C.

For demos and manual exploration: the portal, the reporting platform and the ledger on their
default ports (8101, 8102, 8103), plus the clearing terminal when ``DISPLAY`` is set.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from contextlib import ExitStack, suppress
from pathlib import Path

from examples.platforms.launch import PlatformStartError, run_platform

DEFAULT_PORTS = {"portal": 8101, "reporting": 8102, "ledger": 8103}


def main(argv: list[str]) -> int:
    """Start the platforms, print where they are, and wait for Ctrl+C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m examples.platforms", description=__doc__)
    parser.add_argument(
        "--data-dir", type=Path, required=True, help="folder for every platform's store and log"
    )
    parser.add_argument("--no-terminal", action="store_true", help="do not start the desktop terminal")
    parser.add_argument("--free-ports", action="store_true", help="use free ports instead of 8101-8103")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with ExitStack() as running:
        try:
            for name, port in DEFAULT_PORTS.items():
                handle = running.enter_context(
                    run_platform(name, port=None if args.free_ports else port, data_dir=args.data_dir)
                )
                print(f"{name:<10} {handle.base_url}  (store {handle.store_path})", flush=True)
            if os.environ.get("DISPLAY") and not args.no_terminal:
                handle = running.enter_context(run_platform("terminal", data_dir=args.data_dir))
                print(f"{'terminal':<10} window {handle.window_id} on {handle.display}", flush=True)
        except PlatformStartError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print("running; press Ctrl+C to stop", flush=True)
        with suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
