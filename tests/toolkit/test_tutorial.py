"""docs/tutorial.md cannot rot: its commands run in order against a real portal, mail server and Chromium."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import tutorial_harness as harness

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"
PORTAL_PORT = 8101
SMTP_PORT = 8025


def test_the_harness_reads_markers_fences_and_expected_output() -> None:
    blocks = harness.parse(
        "text\n<!-- tutorial-test: background wait-for=127.0.0.1:1 -->\n```sh\nserve\n```\n"
        "<!-- tutorial-file: a/b.yaml -->\n```yaml\nx: 1\n```\n"
        "<!-- tutorial-test: exit=3 -->\n```sh\nfalse\n```\n<!-- tutorial-output -->\n```text\nrun ...: done\n```\n"
    )

    assert [(b.kind, b.line, b.options) for b in blocks] == [
        ("background", 3, {"wait-for": "127.0.0.1:1"}),
        ("file", 7, {"path": "a/b.yaml"}),
        ("run", 11, {"exit": "3"}),
        ("output", 15, {}),
    ]
    assert harness.expected_lines_found("a   b\nrun ...: done", "x\na b\nrun 12ab: done\n") == []
    assert harness.expected_lines_found("run ...: done\na b", "a b\nrun 1: done\n") == ["a b"]


def test_the_shell_keeps_state_between_blocks_and_reports_a_failing_command(tmp_path: Path) -> None:
    shell = harness.TutorialShell(tmp_path, _environment())
    try:
        assert shell.run("mkdir -p sub && cd sub && export GREETING=hello") == (0, "")
        status, output = shell.run("false\necho $GREETING from $(basename $PWD)")
        assert status == 0
        assert output.splitlines() == [f"{harness.FAILED} 1 false", "hello from sub"]
        assert shell.run("exit_code() { return 3; }; exit_code", check_every_command=False) == (3, "")
    finally:
        shell.close()


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RPA_", "PYTEST_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update({"COLUMNS": "120", "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1"})
    return env


@pytest.mark.slow
def test_every_command_of_the_tutorial_works(tmp_path: Path) -> None:
    for program in ("/usr/bin/chromium", "bash", "setsid", "curl"):
        if shutil.which(program) is None:
            pytest.skip(f"the tutorial runs a real portal and browser, but {program} is missing")
    text = TUTORIAL.read_text(encoding="utf-8")
    ports = {PORTAL_PORT: harness.free_port(), SMTP_PORT: harness.free_port()}
    for fixed, free in ports.items():
        text = text.replace(f"127.0.0.1:{fixed}", f"127.0.0.1:{free}")
        text = text.replace(f"--port {fixed}", f"--port {free}").replace(f"port: {fixed}", f"port: {free}")
    blocks = harness.parse(text)
    commands = "".join(b.text for b in blocks if b.kind == "run")
    for step in (
        "rpa validate",
        "rpa plan",
        "pytest",
        "rpa run",
        "rpa resume",
        "rpa manual resume",
        "rpa replay",
    ):
        assert step in commands, f"the tutorial no longer runs {step!r}"

    shell = harness.TutorialShell(tmp_path, _environment())
    try:
        last = ("", "", 0)
        for number, block in enumerate(blocks):
            where = f"docs/tutorial.md:{block.line}"
            if block.kind == "file":
                status, output = shell.run(
                    f"cat > {block.options['path']} <<'__TUTORIAL_EOF__'\n{block.text}__TUTORIAL_EOF__"
                )
                assert status == 0, f"{where}: cannot write {block.options['path']}: {output}"
            elif block.kind == "background":
                shell.start_background(block.text, f".tutorial-background-{number}.log")
                address = block.options["wait-for"]
                assert harness.wait_for_port(address), f"{where}: nothing listens on {address} after 60s"
            elif block.kind == "run":
                expected = int(block.options.get("exit", "0"))
                status, output = shell.run(block.text, check_every_command=expected == 0)
                failed = [line for line in output.splitlines() if line.startswith(harness.FAILED)]
                problem = f"exit {status}" if status != expected else (failed[0] if failed else None)
                assert problem is None, (
                    f"{where}: expected every command to succeed and exit {expected}, got {problem}"
                    f"\n--- commands ---\n{block.text}--- output ---\n{output}"
                )
                last = (where, output, block.line)
            elif block.kind == "output":
                missing = harness.expected_lines_found(block.text, last[1])
                assert not missing, (
                    f"docs/tutorial.md:{block.line}: the output shown for the block at {last[0]} no longer "
                    f"matches; missing lines:\n  "
                    + "\n  ".join(missing)
                    + f"\n--- actual output ---\n{last[1]}"
                )
    finally:
        shell.close()
