"""``python -m examples.platforms.portal --port 8101 --data-dir DIR [options]``."""

from __future__ import annotations

import argparse
import sys

from examples.platforms.common.cli import (
    SERVER_ARGUMENTS,
    add_fault_arguments,
    serve,
    settings_from_args,
    web_parser,
)
from examples.platforms.portal.settings import PortalSettings


def _user(text: str) -> tuple[str, str]:
    name, sep, password = text.partition(":")
    if not sep or not name or not password:
        raise argparse.ArgumentTypeError(f"expected NAME:PASSWORD, found {text!r}")
    return name, password


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve the portal until interrupted."""
    parser = web_parser(
        "python -m examples.platforms.portal", "Core banking portal (example)", default_port=8101
    )
    parser.add_argument(
        "--user", dest="users", type=_user, action="append", default=[],
        help="NAME:PASSWORD, repeatable; replaces the default users bot and operator",
    )  # fmt: skip
    parser.add_argument(
        "--reject-duplicates", action="store_true", default=None,
        help="refuse a credit whose reference is already posted",
    )  # fmt: skip
    parser.add_argument("--session-ttl-s", type=float, default=None, help="seconds a sign-in stays valid")
    add_fault_arguments(parser)
    args = parser.parse_args(argv)
    if args.users:
        args.users = dict(args.users)
    settings = settings_from_args(parser, args, PortalSettings, skip=SERVER_ARGUMENTS)

    from examples.platforms.portal.app import create_app

    serve(create_app(settings, args.data_dir), args)


if __name__ == "__main__":
    main(sys.argv[1:])
