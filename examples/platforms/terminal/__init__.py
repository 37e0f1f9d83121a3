"""Clearing terminal: a legacy-style Tk desktop program where domestic transfers are keyed in.

Run it with ``python -m examples.platforms.terminal --data-dir DIR`` (needs ``DISPLAY``); write
the end-of-day clearing result file with ``python -m examples.platforms.terminal export-results``.
The screen contract (labels, tab order, widget positions, status texts) is in ``docs/platforms.md``.
"""

WINDOW_TITLE = "清算终端 Clearing Terminal"
STORE_FILENAME = "terminal.sqlite3"
READY_FILENAME = "terminal.ready.json"
