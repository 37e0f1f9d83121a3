"""Built-in do skills. Each skill module is imported here so the registry finds it."""
from skills.do.browser import browser_click as browser_click
from skills.do.browser import browser_fill_form as browser_fill_form
from skills.do.browser import browser_open as browser_open
from skills.do.browser import browser_read_text as browser_read_text
from skills.do.browser import browser_service as browser_service
from skills.do.browser import browser_submit_form as browser_submit_form
