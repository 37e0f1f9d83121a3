"""Driving a fixed-layout desktop entry program such as the example clearing terminal.

The clearing terminal is a Tk window with two screens: login, then payment entry. It has no
accessibility tree, so the skill relies on the program's contract: a window title, fields in
Tab order, and the fixed window-relative positions of a few widgets (the status line, the
lookup button and result line). ``TerminalConfig`` holds that contract; its defaults are the
example terminal's (``docs/platforms.md``) and a platform's ``config`` can override each key::

    platforms:
      terminal:
        window_title: 清算终端 Clearing Terminal
        login: {username: clerk, password_secret: terminal_password}
        layout: {status_line: [450, 562], lookup_result: [450, 616], ...}
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from skills import BusinessError, PlatformInfo, SkillContext, TechnicalError
from skills.do.desktop.display import Desktop, Window
from skills.do.desktop.keyboard import CLEAR_KEYS
from skills.do.desktop.screen import read_by_clipboard

Point = tuple[int, int]

PAYMENT_FIELDS = (
    "reference",
    "payer_account",
    "payer_name",
    "payee_account",
    "payee_name",
    "payee_bank_code",
    "amount",
    "purpose",
)
SUBMITTED = re.compile(r"提交成功\s*流水号\s*(?P<serial>CT\d{8})")
ERROR = re.compile(r"^错误[:：]\s*(?P<message>.*)$")
LOOKUP_FOUND = re.compile(
    r"查询结果[:：]\s*流水号\s*(?P<serial>\S+)\s+金额\s*(?P<amount>\S+)\s+收款人\s*(?P<payee>.*?)"
    r"(?:\s*\(共(?P<count>\d+)笔\))?$"
)
LOOKUP_NONE = "无记录"
_WHITE = 240  # every channel at least this bright: an entry's background
_BLANK_WAIT = 0.3  # seconds after ctrl+c with nothing copied before a line counts as empty


class TerminalLogin(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field("clerk", description="Operator the bot signs in as.")
    password_secret: str = Field("terminal_password", description="Secret holding the password.")


class TerminalLayout(BaseModel):
    """Window-relative points (pixels) of the widgets the skill clicks or reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_field: Point = Field((555, 88), description="Inside the first entry field (业务参考号).")
    status_line: Point = Field((450, 562), description="Inside the read-only status line.")
    lookup_button: Point = Field((495, 506), description="On the 查询 (look up) button.")
    lookup_result: Point = Field((450, 616), description="Inside the read-only lookup result line.")
    login_username: Point = Field((530, 202), description="Inside the login screen's 用户名 field.")
    entry_screen_probes: tuple[Point, ...] = Field(
        ((850, 88), (850, 616)),
        description="Points that show an entry's white background only on the payment entry screen.",
    )


class TerminalConfig(BaseModel):
    """The entry program's contract; see the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_title: str = Field("清算终端 Clearing Terminal", description="Title of the program's window.")
    login: TerminalLogin = Field(default_factory=TerminalLogin)
    layout: TerminalLayout = Field(default_factory=TerminalLayout)
    fields: tuple[str, ...] = Field(PAYMENT_FIELDS, description="Payment fields in Tab order.")
    select_all_keys: str = Field("ctrl+a", description="Selects an entry's text (stock Tk: ctrl+/).")
    submit_key: str = Field("enter", description="Key that submits from the last field.")
    screen_timeout_seconds: float = Field(10.0, gt=0, description="Wait for the window or a screen.")


def terminal_config(platform: PlatformInfo | None) -> TerminalConfig:
    """The step's terminal contract (defaults when the step names no platform)."""
    raw: Mapping[str, Any] = platform.config if platform is not None else {}
    try:
        return TerminalConfig.model_validate(dict(raw))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
        )
        name = platform.name if platform is not None else "terminal"
        raise BusinessError(
            f"platform {name!r} is not a valid terminal platform: {problems}", code="platform_misconfigured"
        ) from None


@dataclass(frozen=True)
class LookupLine:
    """What the lookup result line says about a reference."""

    serial_no: str
    amount: str
    payee_name: str
    count: int
    text: str


@dataclass
class TerminalScreen:
    """The terminal's window on the desktop, with the few moves the skills need."""

    desktop: Desktop
    config: TerminalConfig
    window: Window

    @classmethod
    def open(cls, desktop: Desktop, config: TerminalConfig) -> TerminalScreen:
        """Find the window, focus it and wrap it."""
        window = desktop.wait_for_window(re.escape(config.window_title), config.screen_timeout_seconds)
        desktop.focus(window)
        return cls(desktop, config, window)

    def at(self, point: Point) -> Point:
        return self.window.point(*point)

    # -- screens ----------------------------------------------------------------------------

    def on_entry_screen(self) -> bool:
        """Whether the payment entry screen is shown (its probe points are all entry-white)."""
        for point in self.config.layout.entry_screen_probes:
            x, y = self.at(point)
            pixel = self.desktop.screenshot((x, y, 1, 1)).getpixel((0, 0))
            if min(pixel) < _WHITE:  # type: ignore[arg-type]
                return False
        return True

    def sign_in_if_needed(self, ctx: SkillContext) -> None:
        """Sign in when the login screen is shown; a refused password is a ``BusinessError``."""
        if self.on_entry_screen():
            return
        login = self.config.login
        password = ctx.secrets.get(login.password_secret)
        if not password:
            raise BusinessError(
                f"the terminal signs in with secret {login.password_secret!r}, which is not among the run's "
                "secrets",
                code="secret_missing",
            )
        self.desktop.click(*self.at(self.config.layout.login_username))
        self.replace_focused_text(login.username)
        self.desktop.press("tab")
        self.replace_focused_text(str(password))
        self.desktop.press("enter")
        # Tk handles events in order, so the status line is read after the sign-in was handled.
        status = self.read_line(self.config.layout.status_line)
        if ERROR.match(status):
            raise BusinessError(
                f"the terminal refused the sign-in of {login.username!r}: {status}", code="login_refused"
            )
        deadline = time.monotonic() + self.config.screen_timeout_seconds
        while not self.on_entry_screen():
            if time.monotonic() >= deadline:
                raise TechnicalError(
                    f"the terminal did not show its payment entry screen after signing in "
                    f"(status {status!r})",
                    applied=False,
                )
            time.sleep(0.1)
        ctx.log("signed in to the terminal", operator=login.username)

    # -- fields -----------------------------------------------------------------------------

    def replace_focused_text(self, text: str) -> None:
        """Empty the focused entry and type ``text`` into it."""
        for keys in CLEAR_KEYS:
            self.desktop.press(keys)
        if text:
            self.desktop.type_text(text)

    def read_focused(self) -> str:
        """The focused entry's text (select all + copy), which must not be empty."""
        return read_by_clipboard(self.desktop, None, None, self.config.select_all_keys)

    def key_fields(self, values: Mapping[str, str], *, check: bool) -> None:
        """Type ``values`` into the fields in Tab order, reading each back when ``check``."""
        self.desktop.click(*self.at(self.config.layout.first_field))
        for index, name in enumerate(self.config.fields):
            expected = values.get(name, "")
            self.replace_focused_text(expected)
            if check and expected and self.read_focused() != expected:
                self.replace_focused_text(expected)  # one more go: a key can be lost on a busy X server
                found = self.read_focused()
                if found != expected:
                    raise TechnicalError(
                        f"the terminal's field {name!r} holds {found!r} after typing {expected!r}",
                        applied=False,
                    )
            if index < len(self.config.fields) - 1:
                self.desktop.press("tab")

    def read_line(self, point: Point, *, wait: float = 2.0) -> str:
        """The text of a read-only line (status, lookup result); ``""`` when nothing was copied."""
        try:
            return read_by_clipboard(self.desktop, self.window, point, self.config.select_all_keys, wait=wait)
        except TechnicalError:
            return ""

    # -- actions ----------------------------------------------------------------------------

    def submit(self) -> None:
        self.desktop.press(self.config.submit_key)

    def look_up(self, reference: str) -> LookupLine | None:
        """Look ``reference`` up with the 查询 button; ``None`` when the terminal has no record."""
        layout = self.config.layout
        # Look up an empty reference first: the terminal then blanks the result line, so what is
        # read afterwards cannot be a leftover of an earlier lookup.
        self.desktop.click(*self.at(layout.first_field))
        self.replace_focused_text("")
        self.desktop.click(*self.at(layout.lookup_button))
        if self.read_line(layout.lookup_result, wait=_BLANK_WAIT):
            raise TechnicalError("the terminal's lookup result line did not clear before the lookup")
        self.desktop.click(*self.at(layout.first_field))
        self.replace_focused_text(reference)
        self.desktop.click(*self.at(layout.lookup_button))
        deadline = time.monotonic() + self.config.screen_timeout_seconds
        while not (text := self.read_line(layout.lookup_result, wait=_BLANK_WAIT)):
            if time.monotonic() >= deadline:
                status = self.read_line(layout.status_line)
                raise TechnicalError(
                    f"the terminal showed no lookup result for {reference!r} (status {status!r})"
                )
            time.sleep(0.1)
        if LOOKUP_NONE in text:
            return None
        found = LOOKUP_FOUND.search(text)
        if found is None:
            raise TechnicalError(f"the terminal's lookup line is not in the expected form: {text!r}")
        return LookupLine(
            serial_no=found["serial"],
            amount=found["amount"],
            payee_name=found["payee"].strip(),
            count=int(found["count"] or 1),
            text=text,
        )
