"""Runs the fenced blocks of docs/tutorial.md in order, as a reader would type them.

Markers (an HTML comment on the line before a fence):

* ``<!-- tutorial-test -->`` before a ``sh`` block: run it; every command must succeed
  (``exit=N``: the block's last command must exit with N instead);
* ``<!-- tutorial-test: background wait-for=HOST:PORT -->``: start it in the background (a
  program the reader starts in a second terminal) and wait until the port accepts connections;
* ``<!-- tutorial-file: PATH -->``: write the block's text to PATH (a file the reader saves);
* ``<!-- tutorial-output -->`` before a ``text`` block: these lines must appear, in this order,
  in the output of the previous command block (``...`` matches anything, runs of spaces match
  any spacing).

All blocks run in one bash process, so ``cd`` and ``export`` carry over as in a terminal.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

MARKER = re.compile(r"^<!--\s*tutorial-(test|file|output)\s*(?::\s*(.*?))?\s*-->\s*$")
FENCE = re.compile(r"^```(\w*)\s*$")
DONE = "__TUTORIAL_DONE__"
FAILED = "__TUTORIAL_FAILED__"


@dataclass
class Block:
    kind: str  # run | background | file | output
    text: str
    line: int  # 1-based line of the fence in the Markdown file
    options: dict[str, str] = field(default_factory=dict)


def parse(markdown: str) -> list[Block]:
    """The marked blocks, in document order."""
    lines = markdown.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        marker = MARKER.match(lines[index].strip())
        index += 1
        if not marker:
            continue
        kind, raw = marker.group(1), (marker.group(2) or "")
        if index >= len(lines) or not FENCE.match(lines[index]):
            raise ValueError(f"line {index}: a tutorial marker must be followed by a ``` fence")
        start = index + 1
        end = start
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        text = "\n".join(lines[start:end]) + "\n"
        words = raw.split()
        options = dict(word.split("=", 1) for word in words if "=" in word)
        flags = [word for word in words if "=" not in word]
        if kind == "file":
            options["path"] = raw.strip()
        elif kind == "test" and "background" in flags:
            kind = "background"
        elif kind == "test":
            kind = "run"
        blocks.append(Block(kind, text, start, options))
        index = end + 1
    return blocks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(address: str, timeout: float = 60.0) -> bool:
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=1):
            return True
        time.sleep(0.2)
    return False


def expected_lines_found(expected: str, output: str) -> list[str]:
    """The expected lines that do not appear (in order) in ``output``; empty when all do."""
    out_lines = [line.rstrip() for line in output.splitlines()]
    position = 0
    missing = []
    for wanted in (line.rstrip() for line in expected.splitlines()):
        if not wanted.strip():
            continue
        pattern = re.escape(wanted.strip()).replace(r"\.\.\.", ".*")
        pattern = re.sub(r"(\\ )+", r"\\s+", pattern)
        regex = re.compile(pattern)
        for offset, line in enumerate(out_lines[position:]):
            if regex.search(line):
                position += offset + 1
                break
        else:
            missing.append(wanted)
    return missing


class TutorialShell:
    """One bash process fed block after block; output read back up to a marker line."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.background: list[int] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text)
        self.process.stdin.flush()

    def run(
        self, script: str, *, check_every_command: bool = True, timeout: float = 240.0
    ) -> tuple[int, str]:
        """Run ``script``; returns the exit status of its last command and its output.

        With ``check_every_command`` a failing command anywhere in the block is reported as
        a line starting with ``__TUTORIAL_FAILED__`` in the output.
        """
        trap = f"trap 'echo \"{FAILED} $? $BASH_COMMAND\"' ERR" if check_every_command else "trap - ERR"
        self._send(f'{trap}\n{{\n{script}\n}} < /dev/null\necho "{DONE} $?"\n')
        output: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no end after {timeout:g}s; output so far:\n{''.join(output)}") from None
            if line is None:
                raise RuntimeError(f"the shell exited; output:\n{''.join(output)}")
            if line.startswith(DONE):
                return int(line.split()[1]), "".join(output)
            output.append(line)

    def start_background(self, script: str, log: str) -> int:
        """Start ``script`` in its own session (so it can be stopped with its children)."""
        command = f'setsid bash -c {shlex.quote(script.strip())} > {shlex.quote(log)} 2>&1 < /dev/null &\necho "BGPID $!"'
        status, output = self.run(command)
        if status != 0:
            raise RuntimeError(output)
        pid = int(output.strip().splitlines()[-1].split()[1])
        self.background.append(pid)
        return pid

    def close(self) -> None:
        for pid in self.background:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for pid in self.background:
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.1)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(BrokenPipeError, OSError):
            self._send("exit\n")
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        # whatever the blocks left running (a runner sent to the background) is in the shell's group
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
