"""Browser automation on web platforms (Playwright driving Debian's Chromium).

See ``docs/do.md``. Playwright is imported only when a skill runs.
"""

from skills.do.browser.forms import browser_fill_form as browser_fill_form
from skills.do.browser.forms import browser_submit_form as browser_submit_form
from skills.do.browser.navigation import browser_click as browser_click
from skills.do.browser.navigation import browser_open as browser_open
from skills.do.browser.navigation import browser_read_text as browser_read_text
from skills.do.browser.service import browser_service as browser_service

__all__ = [
    "browser_click",
    "browser_fill_form",
    "browser_open",
    "browser_read_text",
    "browser_service",
    "browser_submit_form",
]
