"""One X11 detail Tk gets wrong: the window title of a non-Latin program.

Tk stores a UTF-8 title in ``WM_NAME`` with the type ``STRING`` (which means Latin-1), so
``xdotool search --name 清算终端`` finds nothing although ``_NET_WM_NAME`` is right. We publish
``WM_NAME`` again as ``UTF8_STRING`` on the top-level wrapper window, which makes the documented
search by the exact title work.
"""

from __future__ import annotations

import sys


def publish_utf8_title(inner_window_id: int, title: str) -> int | None:
    """Set ``WM_NAME`` of the wrapper around Tk's ``inner_window_id`` to ``title`` as UTF-8.

    Returns:
        The wrapper's window id (the one ``xdotool search --name`` reports), or None when the X
        connection failed (the program keeps running; only the search by the Chinese title fails).
    """
    try:
        from Xlib import X, Xatom
        from Xlib import display as xdisplay

        connection = xdisplay.Display()
    except Exception as exc:  # python-xlib missing or no X authority: degrade, don't crash the terminal
        print(f"warning: cannot publish the UTF-8 window title: {exc}", file=sys.stderr)
        return None
    try:
        inner = connection.create_resource_object("window", inner_window_id)
        wrapper = inner.query_tree().parent
        utf8_string = connection.intern_atom("UTF8_STRING")
        wrapper.change_property(Xatom.WM_NAME, utf8_string, 8, title.encode("utf-8"), X.PropModeReplace)
        connection.sync()
        return int(wrapper.id)
    finally:
        connection.close()
