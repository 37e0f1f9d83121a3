"""Command-line plumbing shared by the web platforms: arguments, settings and uvicorn."""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path
from typing import TypeVar

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from examples.platforms.common.settings import SettingsError, build_settings

SettingsT = TypeVar("SettingsT", bound=BaseModel)


def web_parser(prog: str, description: str, *, default_port: int) -> argparse.ArgumentParser:
    """An argument parser with the options every web platform takes."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--data-dir", type=Path, required=True, help="folder for the SQLite store and logs")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=default_port, help=f"TCP port to listen on (default {default_port})"
    )
    # Used by examples.platforms.launch: an already-listening socket inherited from the launcher,
    # so that a free port is never raced for between picking it and binding it.
    parser.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--settings-json", default=None, help="settings as one JSON object; the options below override it"
    )
    return parser


def add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    """The fault-injection options (see ``examples.platforms.common.faults``)."""
    group = parser.add_argument_group("fault injection (also settable at run time with POST /_faults)")
    group.add_argument("--slow-ms", type=int, default=None, help="delay every faultable request by N ms")
    group.add_argument("--fail-next", type=int, default=None, help="answer HTTP 500 to the next N requests")
    group.add_argument("--fail-rate", type=float, default=None, help="answer HTTP 500 with this probability")
    group.add_argument("--fail-phase", choices=["before", "after"], default=None, help="fail before/after")
    group.add_argument("--seed", type=int, default=None, help="seed of the fail-rate draws")


def settings_from_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace, model: type[SettingsT], *, skip: set[str]
) -> SettingsT:
    """Build ``model`` from ``--settings-json`` overridden by the options given on the command line.

    Args:
        parser: reports a readable error and exits on bad settings.
        args: the parsed command line.
        model: the platform's settings model.
        skip: argument names that are not settings (``data_dir``, ``port``...).
    """
    try:
        base = json.loads(args.settings_json) if args.settings_json else {}
    except json.JSONDecodeError as exc:
        parser.error(f"--settings-json is not valid JSON: {exc}")
    if not isinstance(base, dict):
        parser.error("--settings-json must be a JSON object")
    overrides = {
        name: value for name, value in vars(args).items() if name not in skip and value not in (None, [])
    }
    try:
        return build_settings(model, {**base, **overrides})
    except SettingsError as exc:
        parser.error(f"invalid settings: {exc}")


SERVER_ARGUMENTS = {"data_dir", "host", "port", "fd", "settings_json"}


def serve(app: FastAPI, args: argparse.Namespace) -> None:
    """Serve ``app`` with uvicorn on ``--fd`` (an inherited socket) or ``--host``/``--port``."""
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="info", lifespan="off")
    server = uvicorn.Server(config)
    sockets = [socket.socket(fileno=args.fd)] if args.fd is not None else None
    server.run(sockets=sockets)
