"""Fixtures of the toolkit tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def rpa_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., CliResult]:
    """``rpa_cli(*args)`` runs the ``rpa`` command in this process, in ``tmp_path``.

    Only for commands that read no settings (``new``, ``validate``, ``skills``, ``docs``,
    ``schema``): those that do configure the process-wide logger, so they run in a subprocess
    (the ``run_rpa`` fixture).
    """
    from orchestrator.cli.main import main

    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke
