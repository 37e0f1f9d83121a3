"""Desktop automation on an X display (xdotool, pyautogui, OpenCV), and the clearing terminal.

See ``docs/do.md``. pyautogui, OpenCV and python-xlib are imported only when a skill runs.
"""

from skills.do.desktop.display import desktop_service as desktop_service
from skills.do.desktop.keyboard import desktop_focus_window as desktop_focus_window
from skills.do.desktop.keyboard import desktop_press as desktop_press
from skills.do.desktop.keyboard import desktop_type_text as desktop_type_text
from skills.do.desktop.screen import desktop_click_image as desktop_click_image
from skills.do.desktop.screen import desktop_read_field as desktop_read_field
from skills.do.desktop.terminal import terminal_submit_payment as terminal_submit_payment

__all__ = [
    "desktop_click_image",
    "desktop_focus_window",
    "desktop_press",
    "desktop_read_field",
    "desktop_service",
    "desktop_type_text",
    "terminal_submit_payment",
]
