"""``python -m examples.platforms.ledger --port 8103 --data-dir DIR [--slow-ms N]``."""

from __future__ import annotations

import sys

from examples.platforms.common.cli import SERVER_ARGUMENTS, serve, settings_from_args, web_parser
from examples.platforms.ledger.settings import LedgerSettings


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve the ledger until interrupted."""
    parser = web_parser(
        "python -m examples.platforms.ledger", "Ledger for the chaos test (example)", default_port=8103
    )
    parser.add_argument(
        "--slow-ms", type=int, default=None, help="hold every POST /entries N ms before recording"
    )
    args = parser.parse_args(argv)
    settings = settings_from_args(parser, args, LedgerSettings, skip=SERVER_ARGUMENTS)

    from examples.platforms.ledger.app import create_app

    serve(create_app(settings, args.data_dir), args)


if __name__ == "__main__":
    main(sys.argv[1:])
