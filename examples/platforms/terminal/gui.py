"""The terminal's Tk screens: login, then payment entry with submit and lookup.

Keyboard contract: Tab walks the fields in screen order (then the buttons and the read-only
lines); Return in the password field signs in; Return in the last field (用途) submits; Return or
space on a focused button presses it; Control-a selects all of an entry (also the read-only
status and lookup lines, which Control-c then copies to the clipboard).
"""

from __future__ import annotations

import json
import os
import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import font as tkfont

from examples.platforms.terminal import READY_FILENAME, WINDOW_TITLE, layout
from examples.platforms.terminal.rules import FIELD_LABELS, validate_payment
from examples.platforms.terminal.store import TerminalStore
from examples.platforms.terminal.x11 import publish_utf8_title

ERROR_PREFIX = "错误: "
NO_RECORD = "查询结果: 无记录"


class ClearingTerminal:
    """The terminal's window and its two screens."""

    def __init__(self, root: tk.Tk, store: TerminalStore, users: dict[str, str], data_dir: Path) -> None:
        self.root = root
        self.store = store
        self.users = users
        self.data_dir = data_dir
        self.operator: str | None = None
        family = next(
            (name for name in layout.FONT_FAMILIES if name in tkfont.families(root)), "TkDefaultFont"
        )
        self.label_font = tkfont.Font(root, family=family, size=-layout.LABEL_FONT_PX)
        self.entry_font = tkfont.Font(root, family=family, size=-layout.ENTRY_FONT_PX)
        self.title_font = tkfont.Font(root, family=family, size=-layout.TITLE_FONT_PX, weight="bold")

        root.title(WINDOW_TITLE)
        root.geometry(layout.WINDOW_GEOMETRY)
        root.resizable(False, False)
        root.configure(background="#e8ecf1")
        title = tk.Label(
            root, text=WINDOW_TITLE, font=self.title_font, background="#12355b", foreground="#ffffff"
        )
        _place(title, layout.TITLE)
        self.screen = tk.Frame(root, background="#e8ecf1")
        self.screen.place(
            x=0,
            y=layout.TITLE.height,
            width=layout.WINDOW_WIDTH,
            height=layout.STATUS.y - layout.TITLE.height,
        )
        self.status = self._read_only_line(layout.STATUS)
        self.lookup_result: tk.StringVar | None = None
        self.fields: dict[str, tk.Entry] = {}
        self._show_login()
        root.after(0, self._announce_ready)

    # -- screens -------------------------------------------------------------------------

    def _show_login(self) -> None:
        self.username = self._entry(
            layout.LOGIN_ENTRIES["username"], label="用户名", label_box=layout.LOGIN_LABELS["username"]
        )
        self.password = self._entry(
            layout.LOGIN_ENTRIES["password"], label="密码", label_box=layout.LOGIN_LABELS["password"]
        )
        self.password.configure(show="*")
        self.password.bind("<Return>", lambda _event: self._login())
        self.username.bind("<Return>", lambda _event: self.password.focus_set())
        self._button("登录", layout.LOGIN_BUTTON, self._login)
        self.username.focus_force()

    def _show_entry_screen(self) -> None:
        for child in self.screen.winfo_children():
            child.destroy()
        self.fields = {
            name: self._entry(layout.ENTRY_FIELDS[name], label=label, label_box=layout.ENTRY_LABELS[name])
            for name, label in FIELD_LABELS.items()
        }
        self.fields["purpose"].bind("<Return>", lambda _event: self._submit())
        self._button("提交", layout.SUBMIT_BUTTON, self._submit)
        self._button("查询", layout.LOOKUP_BUTTON, self._lookup)
        self.lookup_result = tk.StringVar(self.root)
        self._read_only_line(layout.LOOKUP_RESULT, self.lookup_result)
        self.fields["reference"].focus_force()

    # -- actions -------------------------------------------------------------------------

    def _login(self) -> None:
        user = self.username.get().strip()
        expected = self.users.get(user)
        if expected is None or expected != self.password.get():
            self._set_status(f"{ERROR_PREFIX}用户名或密码不正确")
            self.password.delete(0, tk.END)
            self.password.focus_set()
            return
        self.operator = user
        self._show_entry_screen()
        self._set_status(f"登录成功 操作员 {user}")

    def _submit(self) -> None:
        assert self.operator is not None
        payment, problems = validate_payment({name: entry.get() for name, entry in self.fields.items()})
        if payment is None:
            first = problems[0]
            more = f"（另有{len(problems) - 1}处错误）" if len(problems) > 1 else ""
            self._set_status(f"{ERROR_PREFIX}{first.message}{more}")
            self.fields[first.field].focus_set()
            return
        posted = self.store.submit(payment, operator=self.operator)
        for entry in self.fields.values():
            entry.delete(0, tk.END)
        self.fields["reference"].focus_set()
        self._set_status(f"提交成功 流水号 {posted.serial_no}")

    def _lookup(self) -> None:
        assert self.lookup_result is not None
        reference = self.fields["reference"].get().strip()
        if not reference:
            self.lookup_result.set("")
            self._set_status(f"{ERROR_PREFIX}查询需要先填写业务参考号")
            self.fields["reference"].focus_set()
            return
        payments = self.store.find(reference)
        if not payments:
            self.lookup_result.set(NO_RECORD)
            return
        first = payments[0]
        count = f" (共{len(payments)}笔)" if len(payments) > 1 else ""
        self.lookup_result.set(
            f"查询结果: 流水号 {first.serial_no} 金额 {first.amount} 收款人 {first.payee_name}{count}"
        )

    # -- widgets -------------------------------------------------------------------------

    def _entry(self, box: layout.Box, *, label: str, label_box: layout.Box) -> tk.Entry:
        caption = tk.Label(self.screen, text=label, font=self.label_font, anchor="e", background="#e8ecf1")
        _place(caption, label_box, screen=True)
        entry = tk.Entry(self.screen, font=self.entry_font, relief="sunken", borderwidth=2)
        _place(entry, box, screen=True)
        _select_all_on_control_a(entry)
        return entry

    def _button(self, text: str, box: layout.Box, command: Callable[[], None]) -> tk.Button:
        button = tk.Button(self.screen, text=text, font=self.label_font, command=command)
        button.bind("<Return>", lambda _event: button.invoke())
        _place(button, box, screen=True)
        return button

    def _read_only_line(self, box: layout.Box, variable: tk.StringVar | None = None) -> tk.StringVar:
        variable = variable or tk.StringVar(self.root)
        line = tk.Entry(
            self.root, textvariable=variable, font=self.entry_font, state="readonly",
            readonlybackground="#ffffff", foreground="#000000", relief="groove", borderwidth=2,
        )  # fmt: skip
        _select_all_on_control_a(line)
        _place(line, box)
        return variable

    def _set_status(self, text: str) -> None:
        self.status.set(text)

    def _announce_ready(self) -> None:
        """Tell a launcher the window is on screen: write ``terminal.ready.json`` atomically."""
        self.root.wait_visibility(self.root)
        self.root.update_idletasks()
        window_id = publish_utf8_title(self.root.winfo_id(), WINDOW_TITLE) or int(self.root.wm_frame(), 16)
        ready = {"pid": os.getpid(), "window_id": window_id, "title": WINDOW_TITLE}
        temporary = self.data_dir / f".{READY_FILENAME}.tmp"
        temporary.write_text(json.dumps(ready, ensure_ascii=False), encoding="utf-8")
        temporary.replace(self.data_dir / READY_FILENAME)


def _place(widget: tk.Widget, box: layout.Box, *, screen: bool = False) -> None:
    """Place ``widget`` at ``box`` (window coordinates; widgets on the screen frame are shifted)."""
    top = box.y - layout.TITLE.height if screen else box.y
    widget.place(x=box.x, y=top, width=box.width, height=box.height)


def _select_all_on_control_a(entry: tk.Entry) -> None:
    # Tk's X11 bindings move to the line start on Control-a; automation expects "select all".
    def select_all(_event: tk.Event) -> str:
        entry.selection_range(0, tk.END)
        entry.icursor(tk.END)
        return "break"

    entry.bind("<Control-a>", select_all)
    entry.bind("<Control-A>", select_all)


def run(store: TerminalStore, users: dict[str, str], data_dir: Path) -> None:
    """Open the window and run the Tk main loop until it is closed."""
    root = tk.Tk(className="ClearingTerminal")
    ClearingTerminal(root, store, users, data_dir)
    root.mainloop()
