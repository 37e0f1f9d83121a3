"""Helpers for the example-platform tests: waiting, HTML reading, a private Xvfb, xdotool driving."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from lxml import html

from examples.platforms.terminal import layout

T = TypeVar("T")
WAIT_SECONDS = 20.0


def wait_until(probe: Callable[[], T | None], what: str, timeout: float = WAIT_SECONDS) -> T:
    """Call ``probe`` until it returns something truthy; fail saying ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.05)
    pytest.fail(f"gave up after {timeout:.0f}s waiting for {what}; last seen: {last!r}")


def page(response: httpx.Response) -> html.HtmlElement:
    """The response body as an lxml HTML tree."""
    return html.fromstring(response.text)


def text_of(tree: html.HtmlElement, xpath: str) -> list[str]:
    """Whitespace-normalised text of every element matching ``xpath``."""
    return [" ".join(element.text_content().split()) for element in tree.xpath(xpath)]


GOOD_CREDIT = {
    "account_number": "6222020200112233",
    "beneficiary_name": "张三 ZHANG SAN",
    "amount": "1234.5",
    "currency": "CNY",
    "purpose_code": "GDDS",
}


def new_reference() -> str:
    """A fresh payment reference, so tests sharing one platform never see each other's records."""
    return f"REF-{uuid.uuid4().hex[:12].upper()}"


def post_credit(client: httpx.Client, **fields: str) -> httpx.Response:
    """Submit the portal's credit form: a valid credit with ``fields`` changed."""
    return client.post("/credits", data={**GOOD_CREDIT, **fields})


def free_port() -> int:
    """A port that was free a moment ago (only for tests of the explicit ``--port`` option)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def module_process(
    module: str, *args: str, log: Path, environment: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python -m module args`` as a user would (output to ``log``); terminate it afterwards."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class TerminalDriver:
    """Drives the clearing terminal the way desktop automation will: xdotool and the clipboard."""

    def __init__(self, display: str, window_id: int) -> None:
        self.environment = dict(os.environ, DISPLAY=display)
        self.window_id = window_id

    def xdotool(self, *args: str) -> str:
        done = subprocess.run(
            ["xdotool", *args], env=self.environment, capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout.strip()

    def focus(self) -> None:
        self.xdotool("windowfocus", "--sync", str(self.window_id))

    def type(self, text: str) -> None:
        self.xdotool("type", "--delay", "15", text)

    def key(self, *keys: str) -> None:
        self.xdotool("key", "--delay", "15", *keys)

    def click(self, box: layout.Box) -> None:
        x, y = box.center
        self.xdotool("mousemove", "--sync", str(x), str(y), "click", "1")

    def copy_line(self, box: layout.Box) -> str:
        """Select all of the entry at ``box``, copy it, and return the clipboard."""
        self.click(box)
        self.key("ctrl+a", "ctrl+c")
        done = subprocess.run(
            ["xclip", "-o", "-selection", "clipboard"],
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return done.stdout

    def wait_for_line(self, box: layout.Box, expected: Callable[[str], bool], what: str) -> str:
        """Copy the line at ``box`` until its text satisfies ``expected`` (Tk updates asynchronously)."""

        def copied() -> str | None:
            text = self.copy_line(box)
            return text if expected(text) else None

        return wait_until(copied, what)

    def sign_in(self, user: str, password: str) -> None:
        """Type the credentials: user, Tab (which selects the password field's text), password, Return."""
        self.focus()
        self.click(layout.LOGIN_ENTRIES["username"])
        self.key("ctrl+a")  # typing then replaces what an earlier attempt left there
        self.type(user)
        self.key("Tab")
        self.type(password)
        self.key("Return")

    def fill_payment(self, fields: dict[str, str]) -> None:
        """Click the first field and type every field in Tab order (Tab between fields).

        Each field is read back before the Tab: xdotool types a Chinese character by mapping it
        to a spare key code for a moment, and on a busy machine Tk can read the key after the
        mapping was undone, losing the character. Desktop automation reads fields back and
        types them again (``do.terminal.submit_payment`` does); so does this driver.
        """
        self.click(layout.ENTRY_FIELDS["reference"])
        items = list(fields.items())
        for index, (name, value) in enumerate(items):
            if value:
                self.type(value)
                for _retry in range(3):
                    if self.copy_line(layout.ENTRY_FIELDS[name]) == value:
                        break
                    self.key("ctrl+a")  # typing replaces the selection
                    self.type(value)
            if index < len(items) - 1:
                self.key("Tab")
