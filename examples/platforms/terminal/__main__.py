"""``python -m examples.platforms.terminal --data-dir DIR`` runs the GUI;
``python -m examples.platforms.terminal export-results --data-dir DIR --out FILE`` writes the
clearing result file: by default in the bank's layout ``cnaps.clearing-result.v1`` (see
``examples.platforms.terminal.cnaps_results``), with ``--layout terminal`` in the terminal's
simple layout (see ``examples.platforms.terminal.results``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from examples.platforms.common.money import AmountError, parse_amount
from examples.platforms.common.settings import SettingsError, build_settings
from examples.platforms.terminal import STORE_FILENAME
from examples.platforms.terminal.cnaps_results import DEFAULT_SENDER_BANK, cnaps_rows, write_cnaps_file
from examples.platforms.terminal.results import ResultChanges, result_rows, write_result_file
from examples.platforms.terminal.settings import TerminalSettings
from examples.platforms.terminal.store import TerminalStore


def main(argv: list[str]) -> None:
    """Dispatch to the GUI or to ``export-results``."""
    if argv[:1] == ["export-results"]:
        export_results(argv[1:])
    else:
        run_gui(argv)


def run_gui(argv: list[str]) -> None:
    """Run the terminal's window until it is closed."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.platforms.terminal",
        description="Clearing terminal (example). Subcommand: export-results (see its --help).",
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="folder for the SQLite store")
    parser.add_argument(
        "--user", dest="users", action="append", default=[], metavar="NAME:PASSWORD",
        help="repeatable; replaces the default user clerk",
    )  # fmt: skip
    parser.add_argument("--settings-json", default=None, help="settings as one JSON object")
    args = parser.parse_args(argv)
    fields = json.loads(args.settings_json) if args.settings_json else {}
    if args.users:
        pairs = [user.partition(":") for user in args.users]
        if any(not name or not sep or not password for name, sep, password in pairs):
            parser.error(f"--user expects NAME:PASSWORD; found {args.users}")
        fields["users"] = {name: password for name, _, password in pairs}
    try:
        settings = build_settings(TerminalSettings, fields)
    except SettingsError as exc:
        parser.error(f"invalid settings: {exc}")
    if not os.environ.get("DISPLAY"):
        parser.error("no X display: set DISPLAY (for example start Xvfb :99 and export DISPLAY=:99)")

    from examples.platforms.terminal.gui import run

    args.data_dir.mkdir(parents=True, exist_ok=True)
    run(TerminalStore(args.data_dir / STORE_FILENAME), settings.users, args.data_dir)


def export_results(argv: list[str]) -> None:
    """Write the clearing result file, optionally with injected mismatches."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.platforms.terminal export-results",
        description="Write the end-of-day clearing result file from the terminal's store.",
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="the terminal's data folder")
    parser.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    parser.add_argument(
        "--date", type=date.fromisoformat, default=None, help="only submissions of this UTC date"
    )
    parser.add_argument("--drop", action="append", default=[], metavar="REF", help="leave REF's lines out")
    parser.add_argument(
        "--alter-amount", action="append", default=[], metavar="REF=AMOUNT", help="write AMOUNT for REF"
    )
    parser.add_argument("--reject", action="append", default=[], metavar="REF", help="mark REF as REJECTED")
    parser.add_argument(
        "--layout", choices=("cnaps", "terminal"), default="cnaps",
        help="cnaps: cnaps.clearing-result.v1, what the bank's reader expects (default); "
        "terminal: the simple serial_no,reference,... CSV",
    )  # fmt: skip
    parser.add_argument(
        "--sender-bank", default=DEFAULT_SENDER_BANK, metavar="CODE",
        help=f"12-digit CNAPS code of the bank running the terminal (debtor_bank; default {DEFAULT_SENDER_BANK})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not (len(args.sender_bank) == 12 and args.sender_bank.isascii() and args.sender_bank.isdigit()):
        parser.error(f"--sender-bank expects a 12-digit CNAPS bank code; found {args.sender_bank!r}")

    store_path = args.data_dir / STORE_FILENAME
    if not store_path.exists():
        parser.error(f"no terminal store at {store_path}")
    payments = TerminalStore(store_path).all()
    if args.date is not None:
        payments = [p for p in payments if p.submitted_at.startswith(args.date.isoformat())]
    changes = ResultChanges(
        drop=frozenset(args.drop),
        alter_amounts=_amount_changes(parser, args.alter_amount),
        reject=frozenset(args.reject),
    )
    unknown = changes.unknown_references(payments)
    if unknown:
        parser.error(f"no submission has reference {', '.join(unknown)} (nothing to drop, alter or reject)")
    if args.layout == "cnaps":
        count = write_cnaps_file(args.out, cnaps_rows(payments, changes, args.sender_bank))
    else:
        count = write_result_file(args.out, result_rows(payments, changes))
    print(f"wrote {count} lines to {args.out}")


def _amount_changes(parser: argparse.ArgumentParser, pairs: list[str]) -> dict[str, Decimal]:
    changes = {}
    for pair in pairs:
        reference, sep, amount = pair.rpartition("=")
        if not sep or not reference:
            parser.error(f"--alter-amount expects REF=AMOUNT; found {pair!r}")
        try:
            changes[reference] = parse_amount(amount)
        except AmountError as exc:
            parser.error(f"--alter-amount {pair!r}: {exc}")
    return changes


if __name__ == "__main__":
    main(sys.argv[1:])
