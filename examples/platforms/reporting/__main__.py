"""``python -m examples.platforms.reporting --port 8102 --data-dir DIR [options]``."""

from __future__ import annotations

import sys

from examples.platforms.common.cli import (
    SERVER_ARGUMENTS,
    add_fault_arguments,
    serve,
    settings_from_args,
    web_parser,
)
from examples.platforms.reporting.settings import ReportingSettings


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve the reporting platform until interrupted."""
    parser = web_parser(
        "python -m examples.platforms.reporting",
        "Cross-border RMB reporting platform (example)",
        default_port=8102,
    )
    add_fault_arguments(parser)
    args = parser.parse_args(argv)
    settings = settings_from_args(parser, args, ReportingSettings, skip=SERVER_ARGUMENTS)

    from examples.platforms.reporting.app import create_app

    serve(create_app(settings, args.data_dir), args)


if __name__ == "__main__":
    main(sys.argv[1:])
